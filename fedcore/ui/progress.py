"""A progress callback for :func:`fedcore.simulation.run_simulation` drawing ``st.progress``."""

from __future__ import annotations

import math
from collections.abc import Callable

import streamlit as st


def method_progress(method: str, container=None) -> Callable[[int, int, dict], None]:
    """Return ``progress(round, total, metrics)`` updating one progress bar for ``method``.

    Parameters
    ----------
    method : str
        Label shown on the bar.
    container : streamlit container, optional
        Where to draw the bar (default: the main area).

    Returns
    -------
    callable
        The callback; it also records the last metrics in ``callback.last``.
    """
    target = container if container is not None else st
    bar = target.progress(0.0, text=f"{method}: starting")

    def callback(server_round: int, total: int, metrics: dict | None = None) -> None:
        frac = min(1.0, max(0.0, server_round / max(total, 1)))
        text = f"{method}: round {server_round}/{total}"
        for key, label in (("mean_accuracy", "mean accuracy"),
                           ("mean_rmse", "mean RMSE (lower is better)")):
            value = (metrics or {}).get(key)
            if value is not None and not (isinstance(value, float) and math.isnan(value)):
                text += f" · {label} {float(value):.3f}"
        n_clusters = (metrics or {}).get("n_clusters")
        if n_clusters is not None:
            text += f" · {int(n_clusters)} cluster(s)"
        bar.progress(frac, text=text)
        callback.last = dict(metrics or {})

    callback.last = {}
    callback.bar = bar
    return callback
