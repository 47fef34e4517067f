"""Rebuild the figures of a stored run or grid from disk (no recomputation).

Used by ``python -m fedcore report DIR`` and by the bundle. Figures of a run go to
``RUN/figures/<name>.<fmt>`` with ``<name>.csv`` beside them; a grid's go to
``GRID/figures/`` together with its results.csv, table*.tex.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import plotly.graph_objects as go

from .errors import DataError
from .store import is_complete, load_run


def run_figures(run_dir: str | Path) -> dict[str, tuple[go.Figure, pd.DataFrame]]:
    """name -> (figure, tidy data) for one stored run: the ``run`` pack of
    :data:`fedcore.plots.FIGURES`."""
    from .figure_pack import build_pack
    from .figure_sources import FigureSources

    _spec, _summary, result = load_run(run_dir)
    return build_pack("run", FigureSources({result.method: result}))


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
