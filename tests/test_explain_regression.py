"""Explanations of a regression run explain the single predicted value.

The target of every client depends on feature ``x0`` only (slope +2 or -2 by group), so
each cluster model's attribution must rank ``x0`` first, far ahead of the noise features.
"""

import numpy as np
import pytest
from regression_data import slope_groups

from fedcore.config import FitConfig, ModelSpec, SimulationConfig
from fedcore.errors import ConfigError
from fedcore.explain.descriptors import client_descriptors
from fedcore.explain.disagreement import prediction_disagreement
from fedcore.explain.divergence import label_divergence
from fedcore.explain.model_attributions import cluster_model_attributions
from fedcore.simulation import run_simulation
from fedcore.strategies import STRATEGIES


@pytest.fixture(scope="module")
def run():
    data = slope_groups()
    config = SimulationConfig(rounds=8, model=ModelSpec("mlp", (8,)), seed=0,
                              fit=FitConfig(local_epochs=2, batch_size=8, lr=0.05))
    return data, run_simulation(data, STRATEGIES["oracle"](), config)


@pytest.mark.parametrize("method", ["gradient", "permutation"])
def test_the_feature_the_target_depends_on_gets_the_largest_attribution(run, method):
    data, result = run
    table = cluster_model_attributions(data, result, method=method, n_background=20,
                                       n_explain=30, seed=0)
    assert table.attrs["method"] == method
    assert set(table["model"]) == {"cluster 0", "cluster 1"}
    for _, part in table.groupby("model"):
        part = part.sort_values("rank")
        assert part["feature"].iloc[0] == "x0"
        assert part["mean_abs_shap"].iloc[0] > 5 * part["mean_abs_shap"].iloc[1]


def test_descriptors_describe_the_target_and_class_explainers_refuse(run):
    data, result = run
    table = client_descriptors(data, result)
    assert {"label: mean y", "label: std y"} <= set(table.columns)
    np.testing.assert_allclose(table["label: mean y"],
                               [float(np.mean(y)) for y in data.y_train], rtol=1e-5)
    with pytest.raises(ConfigError, match="regression"):
        label_divergence(data, result.assignments)
    empty = prediction_disagreement(data, result)
    assert empty.empty and "regression" in empty.attrs.get("note", "")
