"""Regression error metrics against scikit-learn and hand-computed values."""

import numpy as np
import pytest
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score

from fedcore.regression_metrics import primary_metric, regression_scores


def test_scores_equal_scikit_learn():
    rng = np.random.default_rng(0)
    y, p = rng.normal(size=50), rng.normal(size=50)
    got = regression_scores(y, p)
    assert got["mae"] == pytest.approx(mean_absolute_error(y, p))
    assert got["rmse"] == pytest.approx(np.sqrt(mean_squared_error(y, p)))
    assert got["r2"] == pytest.approx(r2_score(y, p))


def test_hand_computed_and_edge_cases():
    got = regression_scores([1.0, 3.0], [2.0, 5.0])  # errors 1, 2
    assert got == pytest.approx({"mae": 1.5, "rmse": np.sqrt(2.5), "r2": 1 - 5 / 2})
    assert np.isnan(regression_scores([2.0, 2.0], [2.0, 1.0])["r2"])  # constant targets
    assert all(np.isnan(v) for v in regression_scores([], []).values())
    with pytest.raises(ValueError, match="2 targets but 1"):
        regression_scores([1.0, 2.0], [1.0])


def test_primary_metric_direction():
    acc, rmse = primary_metric("classification"), primary_metric("regression")
    assert acc.best([0.2, 0.9, np.nan]) == 0.9 and acc.worst([0.2, 0.9]) == 0.2
    assert rmse.best([0.2, 0.9]) == 0.2 and rmse.worst([0.2, 0.9, np.nan]) == 0.9


def test_one_task_rule_for_results_tables_and_grids():
    from types import SimpleNamespace

    from fedcore.errors import ConfigError
    from fedcore.regression_metrics import common_task, task_of
    assert task_of(SimpleNamespace()) == "classification"  # saved before tasks existed
    assert task_of(SimpleNamespace(task=None)) == "classification"
    assert task_of(SimpleNamespace(task="regression")) == "regression"
    assert common_task([]) == "classification"
    assert common_task([], default="regression") == "regression"
    assert common_task(["regression", "regression"]) == "regression"
    assert common_task([None, "", "classification"]) == "classification"
    with pytest.raises(ConfigError, match="cannot share one table"):
        common_task(["regression", None])
