"""The ``forecasting`` scenario: per-station series -> windows -> chronological split.

The pool must be a series pool (``pool.time`` set, one row per client and date, a
regression target; see :mod:`fedcore.partition.timeseries`). Clients are the pool's natural
clients; the ground truth is the pool's documented ``client_groups`` unless the
``true_groups`` parameter gives one. Features are standardised with training windows
only (:func:`~fedcore.partition.federate.standardise_parts`); targets stay in their
units so errors read in µg/m³, ppb or °C. The persistence forecast of the same windows
is :func:`fedcore.forecast_baseline.persistence_baseline`.

Reference: Hyndman & Athanasopoulos (2021), *Forecasting: Principles and Practice*,
3rd ed., OTexts, Sec. 5.8 (train on the past, evaluate on a later period).
"""

from __future__ import annotations

import numpy as np

from ..dataset import PooledData
from ..errors import ConfigError
from ..params import Param
from .federate import federate
from .natural import natural
from .timeseries import chronological_cut, chronological_positions, make_windows

PARAMS = {
    "lags": Param(int, 7, 1, 60, help="Past values of the target used as inputs "
                  "(y(t), y(t-1), ...)"),
    "horizon": Param(int, 1, 1, 30, help="Steps (days) ahead of the last input that are "
                     "forecast"),
    "calendar": Param(str, "sin-cos", choices=("sin-cos", "one-hot", "none"),
                      help="Calendar of the target date: day of week/year as sin-cos, "
                      "day of week + month one-hot, or none"),
    "exogenous": Param(bool, True, help="Also use the covariates measured on the last "
                       "input date (weather, other pollutants)"),
    "cut_date": Param(str, "", help="Test windows have targets after this date "
                      "(YYYY-MM-DD); empty = the date that leaves test_fraction of the "
                      "windows for testing"),
    "true_groups": Param(str, "", help="Optional known groups, e.g. 'ad=0, ba=1'; empty "
                         "= the dataset's documented groups, if any"),
}


def windowed_pool(pool: PooledData, params: dict):
    """The windows of ``pool`` as a regression pool, and the :class:`WindowTable`."""
    if pool.time is None or pool.client_column is None:
        raise ConfigError(f"scenario 'forecasting' needs per-client time series (a date "
                          f"and a client for each row); '{pool.name}' has none: choose "
                          "a series dataset (nox, weather_temp, beijing_pm25)")
    table = make_windows(pool.y, pool.time, pool.client_column,
                         pool.label_names[0], params["lags"], params["horizon"],
                         pool.X if params["exogenous"] else None,
                         list(pool.feature_names) if params["exogenous"] else None,
                         params["calendar"])
    windows = PooledData(
        X=table.X.astype(np.float32), y=table.y.astype(np.float32),
        feature_names=table.feature_names, label_names=list(pool.label_names),
        input_shape=(table.X.shape[1],), client_column=table.clients, name=pool.name,
        description=pool.description, task="regression", time=table.target_time,
        client_groups=pool.client_groups, client_metadata=pool.client_metadata)
    return windows, table


def build(pool: PooledData, params: dict, seed: int, test_fraction: float,
          standardisation: str):
    """Windows, one chronological cut, a FederatedDataset with full provenance."""
    windows, table = windowed_pool(pool, params)
    indices, groups = natural(windows.y, 0, 0, 0, None, params, windows)
    cut = chronological_cut(table.target_time, test_fraction, params["cut_date"] or None)
    splits = {cid: chronological_positions(table.target_time[idx], cut, cid)
              for cid, idx in indices.items()}
    n_test = sum(len(te) for _, te in splits.values())
    forecasting = {
        "target": pool.label_names[0], "lags": params["lags"],
        "horizon": params["horizon"], "calendar": params["calendar"],
        "exogenous": params["exogenous"], "cut": str(cut),
        "cut_rule": "given" if params["cut_date"] else f"test_fraction {test_fraction}",
        "last_value_feature": table.feature_names[0],
        "train_targets": [str(table.target_time.min()), str(cut)],
        "test_targets": [str(cut + np.timedelta64(1, "D")), str(table.target_time.max())],
        "windows": {k: v for k, v in table.counts.items() if k != "clients"},
        "windows_per_client": table.counts["clients"], "n_test_windows": int(n_test),
        "missing_rule": "windows with a lag or the target on a missing date are dropped",
    }
    notes = [f"{table.counts['dropped_missing']} of {table.counts['candidates']} windows "
             "dropped (a lag or the target on a missing date)",
             f"chronological split at {cut}: train targets up to {cut}, test targets after"]
    provenance = {
        "source": pool.name, "description": pool.description, "scenario": "forecasting",
        "params": dict(params), "seed": int(seed), "test_fraction": float(test_fraction),
        "n_clients": len(indices), "split": "chronological",
        "n_groups": None if groups is None else int(len(np.unique(groups))),
        "samples_per_client": None, "group_transforms": None, "notes": notes,
        "forecasting": forecasting,
    }
    return federate(windows, indices, groups, seed=seed, test_fraction=test_fraction,
                    name=f"{pool.name} / forecasting", provenance=provenance,
                    standardisation=standardisation, splits=splits)
