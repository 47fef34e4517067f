"""Untrained reference rows of a grid table: the persistence forecast of forecasting cells.

A forecast is only worth training if it beats "tomorrow = today"; paper tables of
forecasting grids therefore carry a persistence row next to FedAvg, local and the clustered
methods (:func:`fedcore.forecast_baseline.persistence_baseline`, scored on each cell's own
test windows). The row is derived from the data the cells used, one per (scenario, seed) so
that it pairs with FedAvg like any method; it needs no training and is deterministic.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..forecast_baseline import persistence_baseline
from ..kmode import row_label
from ..runner import ExperimentSpec, load_spec_dataset
from ..store import read_json

METHOD = "persistence"
#: The K column of the persistence row: it has no model and no clusters.
NO_TRAINING = "no training (last value)"
#: Scenarios whose cells get a persistence row.
FORECASTING = ("forecasting",)


def persistence_rows(grid_dir: str | Path, tidy: pd.DataFrame) -> pd.DataFrame:
    """One persistence row per (scenario, seed, data seed) of the FedAvg cells of forecasting
    scenarios in ``tidy`` (empty when there are none, or the data cannot be rebuilt)."""
    if "task" not in tidy or tidy.empty:
        return tidy.iloc[0:0]
    anchors = tidy[tidy["scenario"].isin(FORECASTING) & (tidy["method"] == "fedavg")]
    rows, scores = [], {}
    for _, cell in anchors.iterrows():
        spec = read_json(Path(grid_dir) / "cells" / cell["cell_id"] / "spec.json")
        try:
            dataset = load_spec_dataset(ExperimentSpec.from_dict(spec))
        except Exception:  # noqa: BLE001 - a missing upload leaves the table without the row
            continue
        key = dataset.fingerprint()
        if key not in scores:
            scores[key] = persistence_baseline(dataset)
        clients = scores[key]
        rows.append({
            "cell_id": f"{METHOD}-{cell['scenario']}-seed{cell['seed']}",
            "data": cell["data"], "scenario": cell["scenario"], "method": METHOD,
            "k": NO_TRAINING, "variant": row_label(METHOD, NO_TRAINING),
            "seed": cell["seed"], "data_seed": cell["data_seed"],
            "mean_client_accuracy": float("nan"), "worst_accuracy": float("nan"),
            "ari": float("nan"), "n_clusters": 0, "wall_seconds": 0.0, "task": "regression",
            "mean_client_rmse": float(clients["rmse"].mean()),
            "worst_rmse": float(clients["rmse"].max()),
            "mean_client_mae": float(clients["mae"].mean()),
            "mean_client_r2": float(clients["r2"].mean()),
        })
    return pd.DataFrame(rows, columns=tidy.columns)
