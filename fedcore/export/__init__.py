"""Export: paper figures (PNG/SVG/PDF + CSV of their data), LaTeX tables, TensorBoard
projector files (the reproducibility bundle, which also re-runs grids, is
:mod:`fedcore.bundle`).

Names are imported lazily so that ``python -m fedcore.export.mathjax`` and
``import fedcore.export`` stay cheap (no plotly/kaleido import until used).
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "export_figure": ".figures", "figure_data_csv": ".figures", "figure_to_bytes": ".figures",
    "stop_renderer": ".figures", "apply_paper_theme": ".figures",
    "latex_table": ".tables", "mean_std_table": ".tables", "comparison_latex": ".tables",
    "write_projector": ".projector",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
