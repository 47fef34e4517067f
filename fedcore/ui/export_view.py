"""Export page controller: figure pack, LaTeX table, projector files and the run bundle ZIP."""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from . import state

FIGURE_FORMATS = ("png", "svg", "pdf")


def summary_frame(results: dict) -> pd.DataFrame:
    from fedcore.metrics import method_summary
    return method_summary(results).set_index("method")


def latex_summary(results: dict) -> str:
    """A booktabs table: mean / worst / p10 client accuracy and ARI per method; for
    regression runs mean / worst / p90 client RMSE, mean MAE, mean R² and ARI, the lowest
    errors (highest R², ARI) in bold."""
    from fedcore.export import latex_table

    from .task_metrics import metric_for

    metric = metric_for(results)
    summary = summary_frame(results)
    if metric.higher_is_better:
        columns = {"mean_accuracy": "Mean accuracy", "worst_accuracy": "Worst client",
                   "p10_accuracy": "10th percentile", "ari": "ARI"}
        what = "Client accuracy"
    else:
        columns = {"mean_rmse": "Mean RMSE", "worst_rmse": "Worst client RMSE",
                   "p90_rmse": "90th percentile RMSE", "mean_mae": "Mean MAE",
                   "mean_r2": "Mean R²", "ari": "ARI"}
        what = "Client RMSE (lower is better)"
    df = summary[list(columns)]
    df.columns = list(columns.values())
    higher = {label: name in ("accuracy", "ari", "mean_r2") or name.endswith("_accuracy")
              for name, label in columns.items()}
    ds = state.dataset()
    return latex_table(df, caption=f"{what} and clustering on {ds.name if ds else ''}",
                       label="tab:fedlens-methods", index_name="Method",
                       higher_is_better=higher)


def session_figures(results: dict, dataset=None, shown: dict | None = None) -> dict:
    """name -> (figure, tidy data) of the session pack of :data:`fedcore.plots.FIGURES` for
    this session's results, plus the Clusters and Explain figures of the clustering shown
    (:func:`export_shown.capture`)."""
    from fedcore.figure_pack import build_pack
    from fedcore.figure_sources import FigureSources

    figs = build_pack("session", FigureSources(results, dataset))
    from .export_shown import figures as shown_figures
    figs.update(shown_figures(shown, dataset))
    return figs


def figure_pack(results: dict, formats: tuple[str, ...], dataset=None,
                settings: dict | None = None, shown: dict | None = None) -> bytes:
    """ZIP of every session figure in ``formats`` plus the CSV of its data, and
    ``clusters_shown.json`` recording the clustering the Clusters/Explain figures show."""
    import json

    from fedcore.export import export_figure

    from .export_shown import record

    buf = io.BytesIO()
    with tempfile.TemporaryDirectory(prefix="fedlens_figs_") as tmp, \
            zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        if shown is not None:
            zf.writestr("clusters_shown.json", json.dumps(record(shown), indent=2) + "\n")
        for name, (fig, data) in session_figures(results, dataset, shown).items():
            for path in export_figure(fig, data, tmp, name, formats=formats,
                                      **(settings or {})):
                zf.write(path, arcname=f"figures/{Path(path).name}")
    return buf.getvalue()


def projector_zip(result, rep_name: str) -> bytes:
    """TensorBoard Embedding Projector files (vectors + metadata TSV) of one representation."""
    from fedcore.export import write_projector

    rep = result.representations[rep_name]
    from .task_metrics import metric_for
    score = metric_for({"r": result}).name
    meta = result.client_metrics[["client", "cluster", score]].copy()
    if result.true_groups is not None:
        meta["true_group"] = np.asarray(result.true_groups)
    buf = io.BytesIO()
    with tempfile.TemporaryDirectory(prefix="fedlens_proj_") as tmp, \
            zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        out = write_projector(tmp, np.asarray(rep.X), meta)
        paths = out if isinstance(out, list | tuple) else list(Path(tmp).rglob("*"))
        for path in paths:
            if Path(path).is_file():
                zf.write(path, arcname=f"projector/{Path(path).relative_to(tmp)}")
    return buf.getvalue()


def bundle_zip(results: dict, dataset, source: dict, figures: dict | None = None,
               formats: tuple[str, ...] = ("svg",), settings: dict | None = None,
               shown: dict | None = None) -> bytes:
    """The reproducibility bundle (spec, summary, result of every run + figures) as bytes.

    Parameters
    ----------
    results : dict
        Session key -> SimulationResult (all computed on ``dataset``).
    dataset : FederatedDataset
    source : dict
        How the dataset was made (:func:`fedcore.ui.state.dataset_source`).
    figures : dict, optional
        ``name -> (figure, tidy data)`` exported into the bundle in ``formats``.
    shown : dict, optional
        :func:`fedcore.ui.export_shown.capture`: recorded as ``clusters_shown.json``.
    """
    from fedcore.bundle import make_bundle

    from .runs_view import run_files

    runs = [(*run_files(result, source, dataset), result) for result in results.values()]
    with tempfile.TemporaryDirectory(prefix="fedlens_bundle_") as tmp:
        # An uploaded dataset travels inside the bundle, or reproduce.sh could not find it.
        data_files = ({source["filename"]: source["content"]}
                      if source.get("kind") == "upload" and source.get("content") else None)
        from .export_shown import record
        path = make_bundle(runs, figures=figures, out_path=Path(tmp) / "fedlens_bundle.zip",
                           formats=formats, data_files=data_files, figure_kwargs=settings,
                           clusters_shown=record(shown))
        return Path(path).read_bytes()


def download(label: str, build, file_name: str, mime: str, key: str) -> None:
    """A download button whose content is built only when clicked."""
    st.download_button(label, data=build, file_name=file_name, mime=mime, key=key,
                       on_click="ignore", icon=":material/download:")
