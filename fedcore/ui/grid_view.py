"""Grids page controller: the launch form, running a grid with a progress bar, and the
results of a grid on disk (tables, LaTeX, figures, downloads).

A grid launched here is the same as ``python -m fedcore grid``: one directory under
``<runs root>/grids/<name>`` (layout in :mod:`fedcore.grid`); re-launching it skips the
finished cells, so an interrupted grid (closed tab, stopped server) resumes.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import streamlit as st

from fedcore.csv_safe import to_csv
from fedcore.grid import aggregate as agg
from fedcore.grid import dashboard as gd

from . import state
from .errors import show_error
from .forms import loss_widgets, parse_ints

REPORT = "fl.grid_report"
PICK = "w.grid.pick"
DEFAULT_METHODS = ["fedavg", "flhc", "ifca"]
FALLBACK = {"name": "digits", "scenario": "rotation", "n_clients": 20, "n_groups": 4,
            "samples_per_client": 100, "params": {}}


def default_root() -> str:
    from fedcore.store import runs_root
    return str(runs_root())


def _source() -> dict:
    """The loaded bundled dataset's settings (an upload falls back to digits/rotation)."""
    src = state.dataset_source()
    return src if src.get("kind") == "bundled" else FALLBACK


def use_loaded_settings() -> None:
    """on_click: fill the form from the dataset loaded on the Data page."""
    src = _source()
    ss = st.session_state
    ss["w.grid.data"], ss["w.grid.scenarios"] = src["name"], [src["scenario"]]
    ss["w.grid.clients"], ss["w.grid.groups"] = int(src["n_clients"]), int(src["n_groups"])
    ss["w.grid.samples"] = int(src["samples_per_client"])
    ss["w.grid.params"] = gd.source_param_lines(src)


def launch_form(root: str) -> tuple | None:
    """The grid form; returns ``(grid, out_dir, workers, formats)`` when submitted."""
    from fedcore.data import BUNDLED
    from fedcore.partition import SCENARIOS
    from fedcore.strategies import STRATEGIES

    src, names, scenarios, methods = _source(), list(BUNDLED), list(SCENARIOS), list(STRATEGIES)
    for key, options in (("w.grid.scenarios", scenarios), ("w.grid.methods", methods),
                         ("w.grid.formats", list(gd.FORMATS))):
        state.keep_valid(key, options, multi=True)
    state.keep_valid("w.grid.data", names)
    with st.form("grid_form"):
        c1, c2, c3 = st.columns([1, 2, 2])
        data = c1.selectbox("Data", names, index=_index(names, src["name"]), key="w.grid.data")
        scen = c2.multiselect("Scenarios", scenarios, default=[src["scenario"]],
                              key="w.grid.scenarios")
        meth = c3.multiselect("Methods", methods, key="w.grid.methods",
                              default=[m for m in DEFAULT_METHODS if m in methods])
        c1, c2, c3, c4 = st.columns(4)
        seeds = c1.text_input("Seeds", "0,1,2", key="w.grid.seeds",
                              help="Each seed is both the data-split and the model seed.")
        clients = c2.number_input("Clients", 2, 1000, int(src["n_clients"]), key="w.grid.clients")
        groups = c3.number_input("True groups", 1, 50, int(src["n_groups"]), key="w.grid.groups")
        samples = c4.number_input("Samples per client", 2, 100000,
                                  int(src["samples_per_client"]), key="w.grid.samples")
        c1, c2, c3, c4 = st.columns(4)
        rounds = c1.number_input("Rounds", 1, 500, 10, key="w.grid.rounds")
        model = c2.selectbox("Model", ["logreg", "mlp", "cnn"], index=1, key="w.grid.model",
                             help="cnn needs image data (digits, mnist_5k).")
        hidden = c3.text_input("Hidden sizes", "200", key="w.grid.hidden")
        lr = c4.number_input("Learning rate", 1e-5, 10.0, 0.05, format="%g", key="w.grid.lr")
        params = st.text_area("Parameters, one NAME.KEY=VALUE per line",
                              gd.source_param_lines(src), key="w.grid.params", height=68,
                              help="NAME is a method or a scenario of the grid, e.g. "
                                   "ifca.n_clusters=4 or dirichlet.alpha=0.1")
        loss, delta = loss_widgets("w.grid", label="Training loss",
                                   auto="auto (cross-entropy; MSE for regression data)")
        c1, c2 = st.columns(2)
        kmodes = c1.multiselect("K for methods that need it", ["given", "estimated"],
                                default=["given"], key="w.grid.k",
                                help="given: the true number of groups (marked 'K given "
                                     "(oracle)'); estimated: each method estimates K itself")
        tune = c2.text_input("Tuning seeds (optional)", "", key="w.grid.tune",
                             help="Hyper-parameters chosen on these seeds, scored on a "
                                  "validation split of the train data (e.g. 100,101)")
        c1, c2, c3 = st.columns([2, 1, 2])
        name = c1.text_input("Grid name", f"{src['name']}-grid", key="w.grid.name",
                             help=f"Written to {Path(root) / 'grids'}/<name>; launching an "
                                  "existing name resumes it.")
        workers = c2.number_input("Worker processes", 0, os.cpu_count() or 1, 1,
                                  key="w.grid.workers",
                                  help="0 = inside the dashboard process (no start-up cost).")
        formats = c3.multiselect("Figure files written to the grid folder", list(gd.FORMATS),
                                 default=list(gd.FORMATS), key="w.grid.formats")
        if not st.form_submit_button("Run grid", type="primary", icon=":material/play_arrow:"):
            return None
    try:
        grid = gd.build_grid(data, scen, meth, gd.parse_seeds(seeds), clients, groups, samples,
                             rounds, model=model, hidden=parse_ints(hidden, "hidden sizes"),
                             lr=lr, params=gd.parse_param_lines(params), k_modes=kmodes,
                             tune_seeds=gd.parse_seeds(tune) if tune.strip() else (),
                             loss=loss, huber_delta=delta)
    except Exception as exc:  # noqa: BLE001
        show_error(exc, "Invalid grid settings")
        return None
    problem = invalid_method_params(grid)
    if problem:
        st.error(f"Nothing was started — {problem}", icon=":material/error:")
        return None
    return grid, gd.grid_dir(root, name), int(workers), tuple(formats)


def invalid_method_params(grid) -> str | None:
    """The first method parameter no cell could run with (checked before any cell starts)."""
    from .simulate_view import validate_methods

    params = getattr(grid, "method_params", None) or {}
    shared = dict(params.get("*", {}))
    return validate_methods({m: {**shared, **dict(params.get(m, {}))} for m in grid.methods})


def _index(options: list, value) -> int:
    return options.index(value) if value in options else 0


def run(grid, out_dir: Path, workers: int, formats: tuple[str, ...]):
    """Run (or resume) ``grid`` into ``out_dir`` with a progress bar; remembers the report."""
    from fedcore.grid import run_grid

    n = len(grid.cells())
    bar = st.progress(0.0, text=f"Grid of {n} cells: starting (the first cell includes "
                                "TensorFlow's start-up)…")

    def progress(done, total, failed, skipped, last, seconds, fraction):
        # fraction also counts the finished rounds of running lockstep batches, whose cells
        # are all stored together at their end.
        text = (f"{done}/{total} cells · {fraction:.0%} of all rounds · {failed} failed · "
                f"{skipped} already done")
        bar.progress(min(1.0, fraction),
                     text=text + (f" · last {last} ({seconds:.1f} s)" if last else ""))

    try:
        report = run_grid(grid, out_dir, executor="local", workers=workers, progress=progress,
                          formats=formats, command=gd.grid_command(grid, out_dir))
    except Exception as exc:  # noqa: BLE001
        bar.empty()
        show_error(exc, "Grid")
        return None
    bar.progress(1.0, text=f"Done: {report.computed} computed, {report.skipped} skipped "
                           f"(already done), {len(report.failed)} failed "
                           f"in {report.seconds:.1f} s")
    st.session_state[REPORT] = {"path": str(out_dir), **report.to_dict()}
    st.session_state[PICK] = str(out_dir)
    return report


def last_report() -> dict | None:
    return st.session_state.get(REPORT)


def grids_table(root: str) -> pd.DataFrame:
    return gd.list_grids(root)


def pick_grid(grids: pd.DataFrame) -> str | None:
    """Selectbox over the grids on disk; returns the chosen grid's path."""
    paths = grids["path"].tolist()
    state.keep_valid(PICK, paths)
    labels = dict(zip(paths, grids["grid"], strict=True))
    return st.selectbox("Grid", paths, format_func=lambda p: labels.get(p, p), key=PICK)


@st.cache_data(show_spinner="Reading the grid…", max_entries=16)
def _tidy(path: str, signature: tuple) -> pd.DataFrame:
    from fedcore.grid import collect_results
    return collect_results(path)


def tidy(path: str) -> pd.DataFrame:
    """The grid's tidy results, re-read whenever a cell finishes (cached otherwise)."""
    return _tidy(str(path), gd.signature(path))


def status(path: str) -> None:
    """Cell counts and the errors of failed cells."""
    meta = gd.read_meta(path)
    s = gd.cell_status(path, meta)
    st.caption(f"{s['complete']}/{s['total']} cells done, {s['failed']} failed · `{path}`")
    errors = gd.failed_errors(path)
    if errors:
        # Shown, not folded away: a failed cell changes what the tables below mean.
        st.error(f"{len(errors)} cell(s) failed; the tables below leave them out. Press "
                 "Run grid again to retry them.", icon=":material/error:")
        st.dataframe(pd.DataFrame({"cell": list(errors), "error": list(errors.values())}),
                     hide_index=True)
    if meta.get("command"):
        st.code("python -m fedcore " + " ".join(meta["command"]), language="bash")


def metric_tabs(tidy_df: pd.DataFrame, path: str | None = None) -> dict[str, str]:
    """The comparison summary, then one tab per metric (accuracy, worst accuracy, ARI);
    returns the LaTeX tables (with the tuned hyper-parameters under them)."""
    from fedcore.grid.stats import CAPTION

    notes = agg.grid_notes(path) if path else []
    st.dataframe(gd.summary_display(tidy_df), hide_index=True)
    st.caption(" ".join([CAPTION, *notes]))
    tables = agg.latex_tables(tidy_df, notes)
    metrics = agg.metrics_of(tidy_df)
    for tab, metric in zip(st.tabs([gd.metric_label(m) for m in metrics]), metrics,
                           strict=True):
        name = agg.TABLES[metric][0]
        with tab:
            try:
                metric_tab(tidy_df, metric, tables.get(name), name)
            except Exception as exc:  # noqa: BLE001 - the other tabs still draw
                show_error(exc, gd.metric_label(metric))
    return tables


def metric_tab(tidy_df: pd.DataFrame, metric: str, latex: str | None, tex_name: str) -> None:
    """Mean ± std table, grid figure and LaTeX of one metric."""
    from .figures import show_figure

    st.dataframe(gd.comparison_frame(tidy_df, metric))
    fig, data = agg.grid_figures(tidy_df)[f"grid_{metric}"]
    show_figure(fig, f"grid_{metric}", data, key=f"grid.{metric}")
    if latex:
        st.code(latex, language="latex")
        st.download_button(f"LaTeX ({tex_name})", latex, tex_name, "text/x-tex",
                           key=f"dl.grid.{metric}.tex", on_click="ignore",
                           icon=":material/download:")


def downloads(tidy_df: pd.DataFrame, tables: dict[str, str], path: str) -> None:
    """results.csv, every LaTeX table in one .tex, and the ZIP of figures (PDF/SVG/PNG)."""
    from .export_view import download

    name = Path(path).name or "grid"
    c1, c2, c3 = st.columns(3)
    c1.download_button("results.csv", to_csv(tidy_df, index=False), f"{name}_results.csv",
                       "text/csv", key="dl.grid.csv", on_click="ignore",
                       icon=":material/download:")
    c2.download_button("All LaTeX tables (.tex)", "\n".join(tables.values()),
                       f"{name}_tables.tex", "text/x-tex", key="dl.grid.tex_all",
                       on_click="ignore", icon=":material/download:")
    with c3:
        download("Figures ZIP (PDF/SVG/PNG)", lambda: gd.figures_zip(tidy_df, gd.FORMATS),
                 f"{name}_figures.zip", "application/zip", "dl.grid.figs")
