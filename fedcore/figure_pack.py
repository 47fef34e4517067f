"""Build a figure pack by walking :data:`fedcore.plots.FIGURES` (adding a figure to a pack =
one :class:`~fedcore.figure_sources.PackFigure` on its registry entry)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from .errors import ConfigError
from .figure_sources import PACKS, FigureSources
from .plots import FIGURES
from .regression_metrics import common_task, primary_metric, task_of


def build_pack(pack: str, sources: FigureSources) -> dict[str, tuple[go.Figure, pd.DataFrame]]:
    """``file_name -> (figure, tidy data)`` of every registered figure of ``pack`` that applies
    to ``sources``, in registry order."""
    if pack not in PACKS:
        raise ConfigError(f"unknown figure pack {pack!r}; choose one of {', '.join(PACKS)}")
    out = {}
    for entry in FIGURES.values():
        for spec in entry.exports:
            if spec.pack != pack:
                continue
            data = spec.data(sources)
            if data is None:
                continue
            table = spec.table(data) if spec.table is not None else data
            out[file_name(spec.file_name, sources)] = (entry.plot(data, **spec.kwargs), table)
    return out


def file_name(name: str, sources: FigureSources) -> str:
    """``name`` with "accuracy" replaced by the primary metric of the sources' task, so a
    regression pack's files say what they plot (``client_rmse.pdf``, not
    ``client_accuracy.pdf``)."""
    tasks = [task_of(r) for r in sources.results.values()]
    if sources.dataset is not None:
        tasks.append(task_of(sources.dataset))
    try:
        if common_task(tasks) != "regression":
            return name
    except ConfigError:  # mixed sources: keep the generic name
        return name
    return name.replace("accuracy", primary_metric("regression").name)
