"""Grid tables of a regression task rank methods by RMSE: lower is better, bold = lowest."""

import re

import numpy as np
import pytest
from regression_data import slope_groups

from fedcore.config import FitConfig, ModelSpec, SimulationConfig
from fedcore.grid.aggregate import collect_results, latex_tables, metrics_of
from fedcore.grid.stats import summary_frame, text_report
from fedcore.runner import ExperimentSpec, summary_dict
from fedcore.simulation import run_simulation
from fedcore.store import save_run
from fedcore.strategies import STRATEGIES


@pytest.fixture(scope="module")
def grid_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("grid")
    data = slope_groups()
    ids = []
    for method in ("fedavg", "oracle"):
        for seed in (0, 1):
            config = SimulationConfig(rounds=4, model=ModelSpec("logreg", ()), seed=seed,
                                      fit=FitConfig(local_epochs=2, batch_size=8, lr=0.05))
            spec = ExperimentSpec(data="slopes", method=method, scenario="concept",
                                  config=config)
            result = run_simulation(data, STRATEGIES[method](), config)
            cell = f"{method}-{seed}"
            save_run(root / "cells" / cell, spec.to_dict(), summary_dict(spec, data, result),
                     result)
            ids.append(cell)
    return root, ids


def test_tidy_table_and_summary_use_rmse(grid_dir):
    root, ids = grid_dir
    tidy = collect_results(root, ids)
    assert (tidy["task"] == "regression").all()
    assert tidy["mean_client_accuracy"].isna().all()
    assert np.isfinite(tidy[["mean_client_rmse", "worst_rmse", "mean_client_mae",
                             "mean_client_r2"]].to_numpy()).all()
    assert (tidy["worst_rmse"] >= tidy["mean_client_rmse"]).all()  # worst = largest
    assert metrics_of(tidy) == ["mean_client_rmse", "worst_rmse", "ari"]
    # paired difference of RMSE to FedAvg on the same seed: negative = better
    fed = tidy[tidy["method"] == "fedavg"].set_index("seed")["mean_client_rmse"]
    orc = tidy[tidy["method"] == "oracle"].set_index("seed")
    np.testing.assert_allclose(orc["fedavg_diff"], orc["mean_client_rmse"] - fed)
    assert (orc["fedavg_diff"] < 0).all()
    summary = summary_frame(tidy)
    assert {"rmse_mean", "rmse_std", "worst_mean"} <= set(summary.columns)
    assert "accuracy_mean" not in summary.columns
    report = text_report(summary)
    assert "Final-round mean client RMSE" in report and "lower is better" in report


def test_latex_bolds_the_lowest_rmse(grid_dir):
    root, ids = grid_dir
    tidy = collect_results(root, ids)
    tables = latex_tables(tidy)
    assert {"table.tex", "table_worst.tex", "table_diff.tex"} <= set(tables)
    table = tables["table.tex"]
    assert "RMSE" in table and "lower is better" in table
    rows = {line.split(" & ")[0]: line for line in table.splitlines() if " & " in line}
    best = tidy.groupby("method")["mean_client_rmse"].mean().idxmin()
    assert best == "oracle"
    label = dict(zip(tidy["method"], tidy["variant"]))
    rows = {m: rows[label[m]] for m in ("oracle", "fedavg")}
    assert r"\mathbf" in rows["oracle"] and r"\mathbf" not in rows["fedavg"]
    mean = tidy[tidy["method"] == "oracle"]["mean_client_rmse"].mean()
    assert re.search(rf"{mean:.3f}", rows["oracle"])
    assert "RMSE" in tables["table_diff.tex"]
