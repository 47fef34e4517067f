"""Grid results: one tidy table from the stored cells, a LaTeX table and figures.

Everything here reads what :mod:`fedcore.store` wrote; nothing is recomputed, so
``python -m fedcore report GRID`` can rebuild figures in other formats or sizes at any time.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go

from ..csv_safe import to_csv
from ..store import COMPLETE_MARKER, is_complete, read_json
from .spec import NO_SCENARIO

TIDY_COLUMNS = ["cell_id", "data", "scenario", "method", "seed", "data_seed",
                "mean_client_accuracy", "worst_accuracy", "ari", "n_clusters", "wall_seconds"]
METRIC_LABELS = {"mean_client_accuracy": "mean client accuracy",
                 "worst_accuracy": "worst client accuracy", "ari": "ARI vs. true groups"}


def _cell_row(cell_dir: Path) -> dict:
    """One tidy row: the cell's headline numbers exactly as its summary.json recorded them
    (:func:`fedcore.metrics.run_summary`), never recomputed with another definition."""
    summary = read_json(cell_dir / COMPLETE_MARKER)
    spec = read_json(cell_dir / "spec.json")
    return {
        "cell_id": cell_dir.name, "data": spec.get("data"),
        "scenario": spec.get("scenario") or NO_SCENARIO, "method": spec.get("method"),
        "seed": int(spec.get("config", {}).get("seed", 0)),
        "data_seed": int(spec.get("data_seed", 0)),
        "mean_client_accuracy": summary.get("mean_client_accuracy"),
        "worst_accuracy": summary.get("worst_client_accuracy"),
        "ari": summary.get("ari"),
        "n_clusters": int(summary["n_clusters"]),
        "wall_seconds": float(summary.get("wall_seconds", 0.0)),
    }


def collect_results(grid_dir: str | Path, cell_ids: list[str] | None = None) -> pd.DataFrame:
    """Tidy table, one row per complete cell (``TIDY_COLUMNS``).

    ``cell_ids`` restricts (and orders) the rows to the current grid's cells; by default
    the ids listed in ``grid.json`` are used, else every complete cell directory.
    """
    grid_dir = Path(grid_dir)
    if cell_ids is None:
        meta = grid_dir / "grid.json"
        cell_ids = (json.loads(meta.read_text()).get("cells") if meta.is_file() else None)
    if cell_ids is None:
        cell_ids = sorted(p.name for p in (grid_dir / "cells").glob("*") if p.is_dir())
    rows = [_cell_row(grid_dir / "cells" / cid) for cid in cell_ids
            if is_complete(grid_dir / "cells" / cid)]
    df = pd.DataFrame(rows, columns=TIDY_COLUMNS)
    for col in ("mean_client_accuracy", "worst_accuracy", "ari", "wall_seconds"):
        df[col] = pd.to_numeric(df[col], errors="coerce").astype(float)
    return df


def failed_cells(grid_dir: str | Path) -> list[str]:
    """Cells with an ``error.txt`` and no complete result."""
    cells = Path(grid_dir) / "cells"
    return sorted(p.parent.name for p in cells.glob("*/error.txt") if not is_complete(p.parent))


def metric_figure(tidy: pd.DataFrame, metric: str = "mean_client_accuracy") -> go.Figure:
    """Box + points over seeds of ``metric`` per method, one panel per scenario."""
    from plotly.subplots import make_subplots

    from ..plots.theme import PALETTE, finish

    scenarios = list(dict.fromkeys(tidy["scenario"]))
    methods = list(dict.fromkeys(tidy["method"]))
    fig = make_subplots(rows=1, cols=max(1, len(scenarios)), shared_yaxes=True,
                        subplot_titles=[str(s) for s in scenarios], horizontal_spacing=0.03)
    for j, scenario in enumerate(scenarios, start=1):
        part = tidy[tidy["scenario"] == scenario]
        for i, method in enumerate(methods):
            vals = part.loc[part["method"] == method, metric].to_numpy(dtype=float)
            fig.add_trace(go.Box(y=vals, x=[method] * len(vals), name=str(method),
                                 marker={"color": PALETTE[i % len(PALETTE)], "size": 4},
                                 line={"width": 1}, boxpoints="all", jitter=0.3, pointpos=0,
                                 showlegend=False, legendgroup=str(method)), row=1, col=j)
    fig.update_yaxes(title_text=METRIC_LABELS.get(metric, metric), row=1, col=1)
    return finish(fig, f"grid_{metric}", None)


#: metric -> (file name, caption text) of the grid's LaTeX tables.
TABLES = {"mean_client_accuracy": ("table.tex", "Mean client accuracy"),
          "worst_accuracy": ("table_worst.tex", "Worst client accuracy"),
          "ari": ("table_ari.tex", "Adjusted Rand index of the final clustering")}


def metrics_of(tidy: pd.DataFrame) -> list[str]:
    """The metrics with tables and figures: accuracy, worst accuracy, ARI when known."""
    out = ["mean_client_accuracy", "worst_accuracy"]
    return out + (["ari"] if "ari" in tidy and tidy["ari"].notna().any() else [])


def latex_tables(tidy: pd.DataFrame) -> dict[str, str]:
    """File name -> booktabs table (mean ± std over seeds, methods x scenarios)."""
    from ..export.tables import comparison_latex

    if tidy.empty:
        return {}
    data, n_seeds = tidy["data"].iloc[0], tidy["seed"].nunique()
    out = {}
    for metric in metrics_of(tidy):
        name, text = TABLES[metric]
        caption = f"{text} on {data} (mean $\\pm$ std over {n_seeds} seeds)."
        out[name] = comparison_latex(tidy, caption=caption, label=f"tab:{Path(name).stem}",
                                     value=metric)
    return out


def figure_size(tidy: pd.DataFrame) -> dict:
    """Paper size of a grid figure: one 45 mm panel per scenario."""
    return {"width": 60 + 45 * tidy["scenario"].nunique(), "height": 70, "units": "mm"}


def grid_figures(tidy: pd.DataFrame) -> dict[str, tuple]:
    """``grid_<metric>`` -> (plotly figure, the tidy columns behind it)."""
    return {f"grid_{m}": (metric_figure(tidy, m), tidy[["scenario", "method", "seed", m]])
            for m in metrics_of(tidy)}


def write_grid_outputs(grid_dir: str | Path, tidy: pd.DataFrame | None = None,
                       formats=("pdf", "svg", "png"), figure_kwargs: dict | None = None
                       ) -> list[Path]:
    """results.csv, results.parquet, table.tex (+ table_ari.tex) and figures/ of a grid."""
    from ..export.figures import export_figure

    grid_dir = Path(grid_dir)
    tidy = collect_results(grid_dir) if tidy is None else tidy
    written = []
    to_csv(tidy, grid_dir / "results.csv", index=False)
    tidy.to_parquet(grid_dir / "results.parquet", index=False)
    written += [grid_dir / "results.csv", grid_dir / "results.parquet"]
    if tidy.empty:
        return written
    for name, tex in latex_tables(tidy).items():
        (grid_dir / name).write_text(tex)
        written.append(grid_dir / name)
    kwargs = figure_size(tidy) | dict(figure_kwargs or {})
    for name, (fig, data) in grid_figures(tidy).items():
        written += export_figure(fig, data, grid_dir / "figures", name, formats=formats,
                                 **kwargs)
    return written
