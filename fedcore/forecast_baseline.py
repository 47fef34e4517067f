"""The persistence (last value) forecast: the baseline every forecasting method must beat.

The persistence (naive) forecast predicts that the target ``horizon`` days ahead equals
its last observed value, ``y_hat(t + h) = y(t)`` (Hyndman & Athanasopoulos, 2021,
*Forecasting: Principles and Practice*, 3rd ed., OTexts, Sec. 5.2). A learned model
whose error is not below it has learned nothing a forecaster could use.

It needs no training, so it is scored on exactly the test windows the methods are
scored on, per client, with :func:`fedcore.regression_metrics.regression_scores`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .errors import ConfigError
from .regression_metrics import regression_scores

#: Name of the baseline in method columns.
PERSISTENCE = "persistence"


def persistence_scores(client_ids, y_true, last_values) -> pd.DataFrame:
    """Per-client MAE/RMSE/R² of predicting each target by its last observed value.

    Parameters
    ----------
    client_ids : list of str
    y_true, last_values : list of arrays
        Per client: the test targets and the value at each window's origin.

    Returns
    -------
    DataFrame
        Columns ``client, method, n_test, mae, rmse, r2`` (one row per client).
    """
    rows = []
    for cid, y, last in zip(client_ids, y_true, last_values):
        rows.append({"client": str(cid), "method": PERSISTENCE, "n_test": int(len(y)),
                     **regression_scores(y, last)})
    return pd.DataFrame(rows, columns=["client", "method", "n_test", "mae", "rmse", "r2"])


def _unstandardise(x: np.ndarray, record: dict | None, column: int, client: str):
    """Raw values of feature ``column`` from the standardisation record of provenance."""
    x = np.asarray(x, dtype=np.float64)
    if record is None:
        return x
    stats = record if record["mode"] == "pooled" else record["clients"][client]
    return x * float(stats["std"][column]) + float(stats["mean"][column])


def last_values(dataset, split: str = "test") -> list[np.ndarray]:
    """Per client, the target's value at the origin of each ``split`` window (raw units).

    Read from the ``<target>_t`` feature of a dataset made by the ``forecasting``
    scenario, undoing the recorded standardisation (float32 precision).
    """
    info = dataset.provenance.get("forecasting")
    if not info:
        raise ConfigError(f"'{dataset.name}' was not made by the forecasting scenario: "
                          "the persistence baseline needs forecasting windows")
    column = dataset.feature_names.index(info["last_value_feature"])
    record = dataset.provenance.get("standardisation")
    xs = dataset.x_test if split == "test" else dataset.x_train
    return [_unstandardise(x[:, column], record, column, cid)
            for cid, x in zip(dataset.client_ids, xs)]


def persistence_baseline(dataset) -> pd.DataFrame:
    """Per-client persistence scores on the test windows of a forecasting dataset.

    Returns the table of :func:`persistence_scores`; its mean over clients is the line
    methods are compared with.
    """
    return persistence_scores(dataset.client_ids, dataset.y_test, last_values(dataset))
