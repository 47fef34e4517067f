"""The registries drive the work: explain_all runs EXPLAINERS, the figure packs walk FIGURES."""

import numpy as np
import pandas as pd
import pytest
from test_store import fake_result

from fedcore import plots
from fedcore.errors import ConfigError
from fedcore.explain import EXPLAINERS, explain_all
from fedcore.explain.sanity import shifted_feature_federation
from fedcore.figure_pack import build_pack
from fedcore.figure_sources import FigureSources, PackFigure
from fedcore.plots.theme import figure_name


def test_explain_all_runs_each_registered_explainer_with_its_params(monkeypatch):
    ds = shifted_feature_federation(n_clients=12, seed=1)
    seen = {}
    registry = dict(EXPLAINERS)
    for name in ("membership", "divergence", "summary"):
        entry = registry[name]

        def spy(ctx, params, entry=entry, name=name):
            seen[name] = params
            return entry.step(ctx, params)

        registry[name] = type(entry)(**{**entry.__dict__, "step": spy})
    monkeypatch.setattr("fedcore.explain.bundle.EXPLAINERS", registry)
    b = explain_all(ds, labels=ds.true_groups, seed=7,
                    params={"divergence": {"measure": "wasserstein"}})
    assert seen["membership"] == {**EXPLAINERS["membership"].defaults(), "seed": 7}
    assert seen["divergence"] == {"measure": "wasserstein", "split": "train"}
    assert seen["summary"] == {"top": 3}
    assert list(b.timings)[:4] == ["descriptors", "membership", "divergence", "label_divergence"]
    with pytest.raises(ConfigError):
        explain_all(ds, labels=ds.true_groups, params={"membership": {"threshold": 2}})


def test_model_explainer_defaults_are_the_dashboards():
    assert EXPLAINERS["cluster_models"].defaults() == {
        "method": "gradient", "n_background": 30, "n_explain": 50, "seed": 0}
    assert EXPLAINERS["disagreement"].defaults() == {"max_rows": 2000, "seed": 0}


def test_run_pack_is_built_from_the_registry():
    result = fake_result(n_clients=6, rounds=3)
    figs = build_pack("run", FigureSources({result.method: result}))
    assert list(figs) == ["learning_curve_accuracy", "learning_curve_worst", "client_accuracy",
                          "assignment_history"]
    fig, history = figs["assignment_history"]
    assert figure_name(fig) == "assignment_history"
    np.testing.assert_array_equal(np.asarray(fig.data[0].z),
                                  np.asarray(result.assignment_history).T)
    assert len(history) == np.asarray(result.assignment_history).size
    with pytest.raises(ConfigError):
        build_pack("poster", FigureSources({}))


def test_adding_a_figure_to_a_pack_is_one_registry_entry(monkeypatch):
    result = fake_result(n_clients=4, rounds=2)
    registry = dict(plots.FIGURES)
    registry["cluster_size_bar"] = plots.Figure(
        "cluster_size_bar", plots.cluster_size_bar,
        (PackFigure("cluster_sizes", "run", lambda src: pd.DataFrame(
            {"cluster": [0, 1], "n_clients": [3, 1]})),))
    monkeypatch.setattr("fedcore.figure_pack.FIGURES", registry)
    figs = build_pack("run", FigureSources({result.method: result}))
    fig, data = figs["cluster_sizes"]
    assert list(fig.data[0].y) == [3, 1] and list(data["n_clients"]) == [3, 1]
    assert registry["cluster_size_bar"](data).data[0].y is not None  # entries stay callable
