"""Show a plotly figure with its export buttons (PNG/SVG/PDF + the data as CSV)."""

from __future__ import annotations

import re

import pandas as pd
import streamlit as st

FORMATS = {"png": "image/png", "svg": "image/svg+xml", "pdf": "application/pdf"}


def export_available() -> bool:
    return _export_module() is not None


def _export_module():
    try:
        import fedcore.export as export
    except Exception:  # noqa: BLE001 - export is optional for showing figures
        return None
    try:
        export.figure_to_bytes  # noqa: B018 - lazy attribute: checks the module is complete
    except AttributeError:
        return None
    return export


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "figure"


def show_figure(fig, name: str, data: pd.DataFrame | None = None, key: str | None = None,
                exports: bool = True) -> None:
    """``st.plotly_chart`` with the fedcore theme kept, plus lazy export buttons.

    Parameters
    ----------
    fig : plotly.graph_objects.Figure
    name : str
        Figure name; file names derive from it.
    data : DataFrame, optional
        The tidy data behind the figure, offered as CSV.
    key : str, optional
        Widget key (defaults to the slug of ``name``).
    exports : bool
        Draw the export buttons (when :mod:`fedcore.export` exists).
    """
    key = key or slug(name)
    # theme=None keeps fedcore.plots' paper theme instead of Streamlit's.
    st.plotly_chart(fig, theme=None, key=f"fig.{key}")
    if exports:
        export_buttons(fig, name, data, key)


def export_buttons(fig, name: str, data: pd.DataFrame | None, key: str) -> None:
    """PNG/SVG/PDF/CSV download buttons; files are rendered only when clicked."""
    export = _export_module()
    if export is None:
        return
    base = slug(name)
    with st.popover("Export", icon=":material/download:", help=f"Download {name}"):
        for fmt, mime in FORMATS.items():
            st.download_button(f"{fmt.upper()} image", data=_renderer(export, fig, fmt),
                               file_name=f"{base}.{fmt}", mime=mime, key=f"dl.{key}.{fmt}",
                               on_click="ignore", type="tertiary")
        st.download_button("CSV data", data=_csv(export, fig, data), file_name=f"{base}.csv",
                           mime="text/csv", key=f"dl.{key}.csv", on_click="ignore",
                           type="tertiary")


def _renderer(export, fig, fmt: str):
    # Deferred: kaleido drives a browser, so render only when the button is clicked.
    return lambda: export.figure_to_bytes(fig, fmt)


def _csv(export, fig, data: pd.DataFrame | None):
    if data is not None:
        return lambda: data.to_csv(index=False).encode()
    return lambda: export.figure_data_csv(fig).encode()
