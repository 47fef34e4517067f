"""Every registered strategy runs end to end on a regression task and reports MAE/RMSE/R².

The data (:mod:`tests.regression_data`) have two groups with opposite slopes, so the
numbers are checked, not just their presence: the per-client table equals a Keras
prediction scored by :func:`regression_scores`, clustering by the true groups beats one
global model, and a saved run loads back with its task and metrics.
"""

import dataclasses
import json

import numpy as np
import pytest
from regression_data import slope_groups
from sklearn.metrics import adjusted_rand_score

from fedcore.config import FitConfig, ModelSpec, SimulationConfig
from fedcore.errors import ConfigError
from fedcore.metrics import client_accuracy_table, gains_over, method_summary, run_summary
from fedcore.regression_metrics import regression_scores
from fedcore.runner import ExperimentSpec, summary_dict
from fedcore.simulation import run_simulation
from fedcore.store import load_run, save_run
from fedcore.strategies import STRATEGIES

CONFIG = SimulationConfig(rounds=2, model=ModelSpec("logreg", ()), seed=0,
                          fit=FitConfig(local_epochs=2, batch_size=8, lr=0.05))
PARAMS = {"ifca": {"n_clusters": 2}, "fesem": {"n_clusters": 2},
          "kmeans_oneshot": {"n_clusters": 2}, "flhc": {"n_clusters": 2},
          "fedgroup": {"n_clusters": 2}, "pacfl": {"n_clusters": 2}}


@pytest.fixture(scope="module")
def data():
    return slope_groups()


@pytest.fixture(scope="module")
def runs(data):
    out = {}
    for name, cls in STRATEGIES.items():
        params = {k: v for k, v in PARAMS.get(name, {}).items() if k in cls.param_schema}
        out[name] = run_simulation(data, cls(**params), CONFIG)
    return out


@pytest.mark.parametrize("name", list(STRATEGIES))
def test_every_strategy_reports_finite_regression_metrics(runs, name):
    res = runs[name]
    assert res.task == "regression" and res.primary.name == "rmse"
    cm = res.client_metrics
    assert list(cm.columns[:6]) == ["client", "cluster", "loss", "mae", "rmse", "r2"]
    assert "accuracy" not in cm.columns
    assert np.isfinite(cm[["loss", "mae", "rmse", "r2"]].to_numpy()).all()
    assert (cm["mae"] <= cm["rmse"] + 1e-9).all()  # MAE <= RMSE always
    np.testing.assert_allclose(cm["loss"], cm["rmse"] ** 2, rtol=1e-4)  # MSE loss
    assert {"mean_rmse", "worst_rmse", "mean_loss"} <= set(res.rounds.columns)
    assert "mean_accuracy" not in res.rounds.columns
    last = res.rounds.iloc[-1]
    assert last["worst_rmse"] == pytest.approx(cm["rmse"].max(), rel=1e-5)
    assert last["mean_rmse"] == pytest.approx(cm["rmse"].mean(), rel=1e-5)


def test_client_table_equals_keras_predictions_scored_by_regression_scores(data):
    from fedcore.engine import VectorisedEngine

    engine = VectorisedEngine(data, CONFIG.model, seed=0)
    res = run_simulation(data, STRATEGIES["oracle"](), CONFIG, engine=engine)
    for i, row in res.client_metrics.iterrows():
        model = engine.keras_model(res.models[int(row["cluster"])])
        pred = np.asarray(model(data.x_test[i]))[:, 0]
        want = regression_scores(data.y_test[i], pred)
        for key in ("mae", "rmse", "r2"):
            assert row[key] == pytest.approx(want[key], rel=1e-4, abs=1e-6)


def test_clustering_by_the_true_groups_beats_one_global_model(data):
    config = SimulationConfig(rounds=8, model=ModelSpec("logreg", ()), seed=0,
                              fit=FitConfig(local_epochs=2, batch_size=8, lr=0.05))
    fedavg = run_simulation(data, STRATEGIES["fedavg"](), config)
    oracle = run_simulation(data, STRATEGIES["oracle"](), config)
    assert oracle.mean_client_score < 0.5 < fedavg.mean_client_score
    assert oracle.client_metrics["r2"].min() > 0.9 > fedavg.client_metrics["r2"].max()
    table = method_summary({"fedavg": fedavg, "oracle": oracle})
    assert list(table.columns) == ["method", "mean_rmse", "std", "worst_rmse", "p90_rmse",
                                   "mean_mae", "mean_r2", "ari", "n_clusters", "wall_seconds"]
    assert table.set_index("method").loc["oracle", "worst_rmse"] == pytest.approx(
        oracle.client_metrics["rmse"].max())
    gains = gains_over({"fedavg": fedavg, "oracle": oracle})
    assert {"rmse", "baseline_rmse", "gain"} <= set(gains.columns)
    np.testing.assert_allclose(gains["gain"], gains["baseline_rmse"] - gains["rmse"])
    assert (gains["gain"] > 0).all()  # positive gain = lower RMSE than FedAvg
    tidy = client_accuracy_table({"oracle": oracle})
    assert {"rmse", "mae", "r2"} <= set(tidy.columns) and "accuracy" not in tidy.columns
    s = run_summary(oracle)
    assert s["worst_client_rmse"] == pytest.approx(oracle.client_metrics["rmse"].max())
    assert s["p90_client_rmse"] >= s["mean_client_rmse"] - 1e-12


def test_ifca_picks_clusters_by_lowest_loss(data):
    config = SimulationConfig(rounds=6, model=ModelSpec("logreg", ()), seed=0,
                              fit=FitConfig(local_epochs=2, batch_size=8, lr=0.05))
    res = run_simulation(data, STRATEGIES["ifca"](n_clusters=2), config)
    for r, diag in enumerate(res.diagnostics):
        matrix = np.asarray(diag["loss_matrix"])  # MSE of each model on each client
        assert matrix.shape == (2, data.n_clients)
        assert (res.assignment_history[r] == matrix.argmin(axis=0)).all()
    assert adjusted_rand_score(data.true_groups, res.assignments) == 1.0


def test_mixed_tasks_are_refused_in_one_table(runs):
    other = dataclasses.replace(runs["fedavg"], task="classification")
    with pytest.raises(ConfigError, match="classification and regression"):
        method_summary({"a": runs["fedavg"], "b": other})


def test_save_load_and_summary_keep_the_task(tmp_path, data, runs):
    res = runs["ifca"]
    spec = ExperimentSpec(data="slopes", method="ifca", config=CONFIG)
    summary = summary_dict(spec, data, res)
    assert summary["task"] == "regression" and summary["primary_metric"] == "rmse"
    assert "mean_client_accuracy" not in summary and "client_accuracy" not in summary
    assert summary["mean_client_rmse"] == pytest.approx(res.client_metrics["rmse"].mean())
    assert summary["worst_client_rmse"] == pytest.approx(res.client_metrics["rmse"].max())
    assert summary["mean_client_r2"] == pytest.approx(res.client_metrics["r2"].mean())
    assert set(summary["client_mae"]) == set(res.client_ids)
    json.dumps(summary)
    _, loaded_summary, loaded = load_run(save_run(tmp_path / "run", spec.to_dict(), summary,
                                                  res))
    assert loaded.task == "regression" and loaded_summary["mean_client_rmse"] is not None
    np.testing.assert_allclose(loaded.client_metrics[["mae", "rmse", "r2"]],
                               res.client_metrics[["mae", "rmse", "r2"]])
    assert list(loaded.rounds.columns) == list(res.rounds.columns)


@pytest.mark.parametrize("loss", ["mse", "huber"])
def test_lockstep_regression_cells_equal_each_run_alone(loss):
    from fedcore.grid.lockstep import simulate_lockstep

    config = SimulationConfig(rounds=3, model=ModelSpec("mlp", (8,)), seed=0,
                              fit=FitConfig(local_epochs=1, batch_size=8, lr=0.05, loss=loss))
    datasets = [slope_groups(seed=0), slope_groups(seed=1), slope_groups(seed=0)]
    methods = ["fedavg", "ifca", "local"]

    def strategies():
        return [STRATEGIES[m](**PARAMS.get(m, {})) for m in methods]

    alone = [run_simulation(d, s, config) for d, s in zip(datasets, strategies())]
    batched = simulate_lockstep(datasets, strategies(), [config] * 3)
    for a, b in zip(alone, batched):
        assert b.task == "regression"
        np.testing.assert_array_equal(a.assignment_history, b.assignment_history)
        for col in ("mean_rmse", "worst_rmse", "mean_loss", "train_loss"):
            np.testing.assert_allclose(b.rounds[col], a.rounds[col], atol=1e-6, err_msg=col)
        np.testing.assert_allclose(b.client_metrics[["loss", "mae", "rmse", "r2"]],
                                   a.client_metrics[["loss", "mae", "rmse", "r2"]], atol=1e-5)


def test_runs_saved_before_tasks_existed_load_as_classification(tmp_path, data, runs):
    res = runs["fedavg"]
    spec = ExperimentSpec(data="slopes", method="fedavg", config=CONFIG)
    out = save_run(tmp_path / "old", spec.to_dict(), summary_dict(spec, data, res), res)
    meta = json.loads((out / "result.json").read_text())
    assert meta.pop("task") == "regression"
    (out / "result.json").write_text(json.dumps(meta))
    assert load_run(out)[2].task == "classification"


def test_default_loss_keeps_config_dicts_and_cell_ids_unchanged():
    fit = SimulationConfig().to_dict()["fit"]
    assert "loss" not in fit and "huber_delta" not in fit
    huber = SimulationConfig(fit=FitConfig(loss="huber", huber_delta=0.5))
    assert huber.to_dict()["fit"]["loss"] == "huber"
    assert SimulationConfig.from_dict(huber.to_dict()) == huber
