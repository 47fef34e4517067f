"""Show a plotly figure with its export buttons (PNG/SVG/PDF + the data as CSV)."""

from __future__ import annotations

import re

import pandas as pd
import streamlit as st

from fedcore.csv_safe import to_csv

FORMATS = {"png": "image/png", "svg": "image/svg+xml", "pdf": "application/pdf"}

EXPORT_SETTINGS = "fl.export_settings"
#: A single-column journal figure: 88 mm wide; 300 dpi; 8-9 pt text.
DEFAULT_SETTINGS = {"units": "mm", "width": 160.0, "height": 100.0, "dpi": 300, "font_size": 9}


def export_settings() -> dict:
    """Size, resolution and font size used by every export button, the packs and the bundle."""
    return {**DEFAULT_SETTINGS, **st.session_state.get(EXPORT_SETTINGS, {})}


def export_settings_controls() -> dict:
    """Widgets for :func:`export_settings` (kept in the session across pages)."""
    cur = export_settings()
    c1, c2, c3, c4, c5 = st.columns(5)
    units = c1.radio("Units", ["mm", "px"], index=["mm", "px"].index(cur["units"]),
                     key="w.export.units", horizontal=True,
                     help="mm: the printed size at the chosen DPI; px: screen pixels")
    big = 2000.0 if units == "px" else 500.0
    width = c2.number_input("Width", 10.0, big, float(min(cur["width"], big)), step=5.0,
                            key=f"w.export.width.{units}")
    height = c3.number_input("Height", 10.0, big, float(min(cur["height"], big)), step=5.0,
                             key=f"w.export.height.{units}")
    dpi = c4.number_input("DPI (PNG)", 72, 1200, int(cur["dpi"]), step=50, key="w.export.dpi")
    font = c5.number_input("Font size (pt)", 5, 24, int(cur["font_size"]), key="w.export.font")
    st.session_state[EXPORT_SETTINGS] = {"units": units, "width": float(width),
                                         "height": float(height), "dpi": int(dpi),
                                         "font_size": int(font)}
    return export_settings()


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
    settings = export_settings()
    with st.popover("Export", icon=":material/download:", help=f"Download {name}"):
        st.caption("{width:g} x {height:g} {units}, {dpi} dpi, {font_size} pt "
                   "(change on the Export page)".format(**settings))
        for fmt, mime in FORMATS.items():
            st.download_button(f"{fmt.upper()} image",
                               data=_renderer(export, fig, fmt, settings),
                               file_name=f"{base}.{fmt}", mime=mime, key=f"dl.{key}.{fmt}",
                               on_click="ignore", type="tertiary")
        st.download_button("CSV data", data=_csv(export, fig, data), file_name=f"{base}.csv",
                           mime="text/csv", key=f"dl.{key}.csv", on_click="ignore",
                           type="tertiary")


def _renderer(export, fig, fmt: str, settings: dict):
    # Deferred: kaleido drives a browser, so render only when the button is clicked.
    return lambda: export.figure_to_bytes(fig, fmt, **settings)


def csv_text(frame: pd.DataFrame, index: bool = True) -> str:
    """CSV of a table for a download button, spreadsheet formulas neutralised."""
    return to_csv(frame, index=index)


def _csv(export, fig, data: pd.DataFrame | None):
    if data is not None:
        return lambda: to_csv(data, index=False).encode()
    return lambda: export.figure_data_csv(fig).encode()
