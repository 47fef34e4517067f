"""Untrained reference rows of a grid table: the persistence forecast of forecasting cells.

A forecast is only worth training if it beats "tomorrow = today"; paper tables of
forecasting grids therefore carry a persistence row next to FedAvg, local and the clustered
methods (:func:`fedcore.forecast_baseline.persistence_baseline`, scored on each cell's own
test windows). The row is derived from the data the cells used, one per (scenario, seed) so
that it pairs with FedAvg like any method; it needs no training and is deterministic.

Rebuilding a cell's dataset costs ~0.2 s per seed, and tables are collected on every Grids
page render, report command and bundle check; so each FedAvg cell's persistence scores are
computed once and kept in ``baselines/<cell_id>.persistence.json`` of the grid directory
(the cell id carries the hash of its spec, so a changed cell gets a new file).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from ..forecast_baseline import persistence_baseline
from ..kmode import row_label
from ..runner import ExperimentSpec, load_spec_dataset
from ..store import read_json
from ..store_atomic import write_text_atomic

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
    rows = []
    for _, cell in anchors.iterrows():
        scores = _cell_scores(Path(grid_dir), cell["cell_id"])
        if scores is None:
            continue
        rows.append({
            "cell_id": f"{METHOD}-{cell['scenario']}-seed{cell['seed']}",
            "data": cell["data"], "scenario": cell["scenario"], "method": METHOD,
            "k": NO_TRAINING, "variant": row_label(METHOD, NO_TRAINING),
            "seed": cell["seed"], "data_seed": cell["data_seed"],
            "mean_client_accuracy": float("nan"), "worst_accuracy": float("nan"),
            "ari": float("nan"), "n_clusters": 0, "wall_seconds": 0.0, "task": "regression",
            **scores,
        })
    return pd.DataFrame(rows, columns=tidy.columns)


def _cell_scores(grid_dir: Path, cell_id: str) -> dict | None:
    """Persistence summary of one FedAvg cell's data, from its cache file or computed (and
    cached); None when the data cannot be rebuilt (e.g. a missing upload)."""
    cache = grid_dir / "baselines" / f"{cell_id}.{METHOD}.json"
    try:
        return {k: float(v) for k, v in json.loads(cache.read_text()).items()}
    except (OSError, ValueError, AttributeError):
        pass  # not computed yet (or a damaged file): compute it again
    spec = read_json(grid_dir / "cells" / cell_id / "spec.json")
    try:
        clients = persistence_baseline(load_spec_dataset(ExperimentSpec.from_dict(spec)))
    except Exception:  # noqa: BLE001 - a missing upload leaves the table without the row
        return None
    scores = {"mean_client_rmse": float(clients["rmse"].mean()),
              "worst_rmse": float(clients["rmse"].max()),
              "mean_client_mae": float(clients["mae"].mean()),
              "mean_client_r2": float(clients["r2"].mean())}
    try:
        cache.parent.mkdir(exist_ok=True)
        write_text_atomic(cache, json.dumps(scores))
    except OSError:
        pass  # a read-only grid directory: recomputed next time
    return scores
