"""Rebuild the figures of a stored run or grid from disk (no recomputation).

Used by ``python -m fedcore report DIR`` and by the bundle. Figures of a run go to
``RUN/figures/<name>.<fmt>`` with ``<name>.csv`` beside them; a grid's go to
``GRID/figures/`` together with its results.csv, table*.tex.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from .errors import DataError
from .store import is_complete, load_run


def _cluster_scale(labels: np.ndarray) -> dict:
    """Discrete heatmap colours: cluster k gets its stable FedLens colour."""
    from .plots.theme import cluster_color

    k = int(max(labels.max(), 0)) + 1
    scale = []
    for i in range(k):
        scale += [[i / k, cluster_color(i)], [(i + 1) / k, cluster_color(i)]]
    return {"colorscale": scale, "zmin": -0.5, "zmax": k - 0.5,
            "colorbar": {"title": {"text": "cluster"}, "tickvals": list(range(k)), "dtick": 1}}


def run_figures(run_dir: str | Path) -> dict[str, tuple[go.Figure, pd.DataFrame]]:
    """name -> (figure, tidy data) for one stored run."""
    from .plots import accuracy_box_strip, learning_curves
    from .plots.theme import finish

    spec, summary, result = load_run(run_dir)
    method = result.method
    rounds = result.rounds.assign(method=method)
    clients = result.client_metrics.assign(method=method)
    if "true_group" not in clients and result.true_groups is not None:
        clients["true_group"] = np.asarray(result.true_groups)
    figures = {
        "learning_curve_accuracy": (learning_curves(rounds, "mean_accuracy"), rounds),
        "client_accuracy": (accuracy_box_strip(clients, color="cluster"), clients),
    }
    if "worst_accuracy" in rounds:
        figures["learning_curve_worst"] = (learning_curves(rounds, "worst_accuracy"), rounds)
    history = np.asarray(result.assignment_history)
    if history.ndim == 2 and history.size:
        tidy = pd.DataFrame({
            "round": np.repeat(np.arange(1, history.shape[0] + 1), history.shape[1]),
            "client": np.tile(np.asarray(result.client_ids, dtype=str), history.shape[0]),
            "cluster": history.ravel()})
        fig = go.Figure(go.Heatmap(z=history.T, x=np.arange(1, history.shape[0] + 1),
                                   y=list(result.client_ids), **_cluster_scale(history)))
        fig.update_xaxes(title_text="round", dtick=1)
        fig.update_yaxes(title_text="client")
        figures["assignment_history"] = (finish(fig, "assignment_history", None), tidy)
    return figures


def rebuild_report(path: str | Path, formats=("pdf", "svg", "png"), **render_kwargs
                   ) -> list[Path]:
    """Re-export every figure of a run directory or grid directory in ``formats``."""
    from .export.figures import export_figure

    path = Path(path)
    if (path / "grid.json").is_file() or (path / "cells").is_dir():
        from .grid.aggregate import write_grid_outputs
        return write_grid_outputs(path, formats=formats, figure_kwargs=render_kwargs)
    if not is_complete(path):
        raise DataError(f"{path}: neither a complete run (summary.json) nor a grid "
                        "directory (grid.json)")
    written = []
    kwargs = {"width": 120, "height": 80, "units": "mm", **render_kwargs}
    for name, (fig, data) in run_figures(path).items():
        written += export_figure(fig, data, path / "figures", name, formats=formats, **kwargs)
    return written
