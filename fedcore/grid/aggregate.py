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
from ..kmode import NO_K, k_label, row_label
from ..store import COMPLETE_MARKER, is_complete, read_json
from .spec import NO_SCENARIO
from .stats import grid_task, paired_differences

#: ``fedavg_diff`` is the paired difference of the task's primary metric (accuracy or RMSE).
TIDY_COLUMNS = ["cell_id", "data", "scenario", "method", "k", "variant", "seed", "data_seed",
                "mean_client_accuracy", "worst_accuracy", "ari", "fedavg_diff", "n_clusters",
                "wall_seconds"]
#: Added to the tidy table of a regression grid (whose accuracy columns are NaN); a
#: classification grid's table keeps exactly :data:`TIDY_COLUMNS`.
REGRESSION_TIDY_COLUMNS = ["task", "mean_client_rmse", "worst_rmse", "mean_client_mae",
                           "mean_client_r2"]
METRIC_LABELS = {"mean_client_accuracy": "mean client accuracy",
                 "worst_accuracy": "worst client accuracy", "ari": "ARI vs. true groups",
                 "mean_client_rmse": "mean client RMSE (lower is better)",
                 "worst_rmse": "worst (largest) client RMSE"}
#: Metrics where lower is better (bold = lowest in the LaTeX tables).
LOWER_IS_BETTER = {"mean_client_rmse", "worst_rmse"}
_NUMERIC = ("mean_client_accuracy", "worst_accuracy", "ari", "wall_seconds",
            "mean_client_rmse", "worst_rmse", "mean_client_mae", "mean_client_r2")


def _cell_row(cell_dir: Path) -> dict:
    """One tidy row: the cell's headline numbers exactly as its summary.json recorded them
    (:func:`fedcore.metrics.run_summary`), never recomputed with another definition."""
    summary = read_json(cell_dir / COMPLETE_MARKER)
    spec = read_json(cell_dir / "spec.json")
    k = k_label(spec.get("method"), spec.get("method_params") or {}, spec.get("k_mode"))
    return {
        "cell_id": cell_dir.name, "data": spec.get("data"),
        "scenario": spec.get("scenario") or NO_SCENARIO, "method": spec.get("method"),
        "k": k, "variant": row_label(spec.get("method"), k),
        "seed": int(spec.get("config", {}).get("seed", 0)),
        "data_seed": int(spec.get("data_seed", 0)),
        "mean_client_accuracy": summary.get("mean_client_accuracy"),
        "worst_accuracy": summary.get("worst_client_accuracy"),
        "ari": summary.get("ari"),
        "n_clusters": int(summary["n_clusters"]),
        "wall_seconds": float(summary.get("wall_seconds", 0.0)),
        "task": summary.get("task", "classification"),
        "mean_client_rmse": summary.get("mean_client_rmse"),
        "worst_rmse": summary.get("worst_client_rmse"),
        "mean_client_mae": summary.get("mean_client_mae"),
        "mean_client_r2": summary.get("mean_client_r2"),
    }


def collect_results(grid_dir: str | Path, cell_ids: list[str] | None = None) -> pd.DataFrame:
    """Tidy table, one row per complete cell (``TIDY_COLUMNS``, + ``REGRESSION_TIDY_COLUMNS``
    for a regression grid).

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
    df = pd.DataFrame(rows, columns=TIDY_COLUMNS + REGRESSION_TIDY_COLUMNS)
    for col in _NUMERIC:
        df[col] = pd.to_numeric(df[col], errors="coerce").astype(float)
    if grid_task(df) != "regression":
        df = df[TIDY_COLUMNS].copy()
    else:
        from .baselines import persistence_rows  # builds datasets: only for regression grids
        extra = persistence_rows(grid_dir, df)
        if len(extra):
            df = pd.concat([df, extra[df.columns]], ignore_index=True)
    df["fedavg_diff"] = paired_differences(df) if len(df) else pd.Series(dtype=float)
    return df


def with_variants(tidy: pd.DataFrame) -> pd.DataFrame:
    """``tidy`` with the ``k``/``variant``/``fedavg_diff`` columns (tables made before they
    existed hold one row per method)."""
    if {"k", "variant", "fedavg_diff"} <= set(tidy.columns):
        return tidy
    out = tidy.copy()
    out["k"] = out.get("k", NO_K)
    out["variant"] = out.get("variant", out["method"])
    out["fedavg_diff"] = paired_differences(out)
    return out


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
TABLES = {"mean_client_accuracy": ("table.tex", "Final-round mean client accuracy (each "
                                   "client's model after the last round, on its own test "
                                   "split)"),
          "worst_accuracy": ("table_worst.tex", "Final-round worst-client accuracy"),
          "ari": ("table_ari.tex", "Adjusted Rand index of the final clustering"),
          "mean_client_rmse": ("table.tex", "Final-round mean client RMSE, lower is better "
                               "(each client's model after the last round, on its own test "
                               "split; bold = lowest)"),
          "worst_rmse": ("table_worst.tex", "Final-round worst-client (largest) RMSE, lower "
                         "is better")}
K_NOTE = r" ``K given (oracle)'': the method was told the true number of groups."


def metrics_of(tidy: pd.DataFrame) -> list[str]:
    """The metrics with tables and figures: accuracy and worst accuracy (regression: mean
    and worst RMSE), ARI when known."""
    out = (["mean_client_rmse", "worst_rmse"] if grid_task(tidy) == "regression"
           else ["mean_client_accuracy", "worst_accuracy"])
    return out + (["ari"] if "ari" in tidy and tidy["ari"].notna().any() else [])


def latex_tables(tidy: pd.DataFrame, notes: list[str] = ()) -> dict[str, str]:
    """File name -> booktabs table (mean ± std over seeds, methods [K mode] x scenarios),
    plus ``table_diff.tex`` (paired difference to FedAvg) when the grid has FedAvg;
    ``notes`` (e.g. the tuned hyper-parameters) are printed under each table."""
    from ..export.tables import latex_escape, latex_table, mean_std_table
    from .latex_diff import diff_latex, with_notes

    if tidy.empty:
        return {}
    tidy = with_variants(tidy)
    data, n_seeds = latex_escape(tidy["data"].iloc[0]), tidy["seed"].nunique()
    out = {}
    for metric in metrics_of(tidy):
        name, text = TABLES[metric]
        caption = f"{text} on {data}, mean $\\pm$ std over {n_seeds} seeds.{K_NOTE}"
        means, stds = mean_std_table(tidy, value=metric, row="variant")
        tex = latex_table(means, caption, f"tab:{Path(name).stem}", std=stds,
                          index_name="Method", higher_is_better=metric not in LOWER_IS_BETTER)
        out[name] = with_notes(tex, notes)
    if (tidy["method"] == "fedavg").any():
        out["table_diff.tex"] = with_notes(diff_latex(tidy, data), notes)
    return out


def grid_notes(grid_dir: str | Path) -> list[str]:
    """Lines printed under a grid's tables: the tuned hyper-parameters (``grid.json``)."""
    from .tuning import tuning_lines

    meta_path = Path(grid_dir) / "grid.json"
    meta = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
    grid = meta.get("grid") or {}
    lines = tuning_lines(meta.get("tuning") or [], grid.get("tune_seeds") or [],
                         grid.get("validation_fraction", 0.2))
    if not lines:
        lines = ["Hyper-parameters: method defaults (no tuning seeds)."]
    return lines


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
    from .stats import summary_frame

    tidy = collect_results(grid_dir) if tidy is None else tidy
    written = []
    to_csv(tidy, grid_dir / "results.csv", index=False)
    tidy.to_parquet(grid_dir / "results.parquet", index=False)
    to_csv(summary_frame(tidy), grid_dir / "summary.csv", index=False)
    written += [grid_dir / "results.csv", grid_dir / "results.parquet",
                grid_dir / "summary.csv"]
    if tidy.empty:
        return written
    for name, tex in latex_tables(tidy, grid_notes(grid_dir)).items():
        (grid_dir / name).write_text(tex)
        written.append(grid_dir / name)
    kwargs = figure_size(tidy) | dict(figure_kwargs or {})
    for name, (fig, data) in grid_figures(tidy).items():
        written += export_figure(fig, data, grid_dir / "figures", name, formats=formats,
                                 **kwargs)
    return written
