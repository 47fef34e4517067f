"""Per-client MAE, RMSE and R² of a finished regression run.

Each client is scored with the model it is evaluated with (its cluster's, or its own for
local training) on its own split: the engine predicts, :func:`regression_scores` scores,
so the numbers are those of :mod:`fedcore.regression_metrics` and nowhere else. The
dataset stores standardised targets (``dataset.target_scale``); predictions and targets
are converted back to the target's own units before scoring.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .regression_metrics import REGRESSION_COLUMNS, regression_scores


def _raw(dataset, y) -> np.ndarray:
    to_raw = getattr(dataset, "raw_targets", None)
    return np.asarray(y, dtype=np.float64) if to_raw is None else to_raw(y)


def client_regression_table(engine, dataset, models: dict, assignments,
                            split: str = "test") -> pd.DataFrame:
    """MAE, RMSE and R² of every client under model ``models[assignments[i]]``.

    Parameters
    ----------
    engine : Engine
        Must offer ``predict(model, clients, split)`` (the vectorised engine does).
    dataset : FederatedDataset
        A regression dataset (targets in ``y_test`` / ``y_train``).
    models : dict of int to ndarray
    assignments : array of int, shape (n_clients,)
    split : {"test", "train"}

    Returns
    -------
    DataFrame
        One row per client in dataset order, columns ``mae, rmse, r2`` in the target's
        units (NaN for a client without samples in ``split``).
    """
    assignments = np.asarray(assignments, dtype=np.int64)
    targets = dataset.y_test if split == "test" else dataset.y_train
    rows = [None] * dataset.n_clients
    for key in np.unique(assignments):
        clients = np.flatnonzero(assignments == key)
        pred = engine.predict(models[int(key)], clients, split=split)[:, 0]
        bounds = np.cumsum([0, *(len(targets[c]) for c in clients)])
        for c, a, b in zip(clients, bounds[:-1], bounds[1:]):
            rows[c] = regression_scores(_raw(dataset, targets[c]), _raw(dataset, pred[a:b]))
    return pd.DataFrame(rows, columns=list(REGRESSION_COLUMNS))
