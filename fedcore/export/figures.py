"""Paper-ready static figures (PNG, SVG, PDF) from plotly figures, plus the data behind them.

Rendering uses kaleido 1.x, which drives a headless Chromium (Debian's ``/usr/bin/chromium``;
``BROWSER_PATH`` or ``FEDLENS_CHROMIUM`` override). Starting Chromium costs ~2-3 s, so ONE
browser is opened per process on first use and kept on a background event loop (the same idea
as ``kaleido.start_sync_server()``, but with time-outs and errors propagated instead of a
hang when Chromium cannot start). Calls from several threads are safe: each call is scheduled
on that loop and kaleido serialises them over its tab queue.

Sizes: ``units="px"`` gives CSS pixels (PNG pixels = px x scale); ``units="mm"`` gives the
physical size: PNG pixels = mm / 25.4 x dpi (within 2 px), the PDF page and the SVG are that
many mm (96 CSS px per inch), and ``font_size`` is in points, as in a paper's text.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import threading
from collections.abc import Iterable
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

from ..csv_safe import to_csv
from ..errors import ConfigError
from ..plots.safe_text import unescape_text
from .mathjax import mathjax_path

FORMATS = ("png", "svg", "pdf")
CSS_DPI = 96.0
RENDER_TIMEOUT = 120.0


def chromium_path() -> str | None:
    """The browser kaleido should use (None lets choreographer search the PATH)."""
    for env in ("FEDLENS_CHROMIUM", "BROWSER_PATH"):
        if os.environ.get(env):
            return os.environ[env]
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").is_file() else None


class _Renderer:
    """One kaleido browser on a private event loop thread, opened lazily, closed at exit."""

    def __init__(self):
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._kaleido = None
        self.mathjax: Path | None = None

    @property
    def running(self) -> bool:
        return self._kaleido is not None

    def start(self) -> None:
        with self._lock:
            if self._kaleido is not None:
                return
            import kaleido
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, daemon=True,
                             name="fedlens-kaleido").start()
            self.mathjax = mathjax_path()
            kwargs = {"mathjax": str(self.mathjax) if self.mathjax else False}
            if chromium_path():
                kwargs["path"] = chromium_path()

            async def _open():
                k = kaleido.Kaleido(n=1, timeout=RENDER_TIMEOUT, **kwargs)
                await k.open()
                return k

            try:
                self._kaleido = asyncio.run_coroutine_threadsafe(_open(), loop).result(60)
            except Exception as exc:
                loop.call_soon_threadsafe(loop.stop)
                raise ConfigError(f"figure export needs Chromium for kaleido and it could not "
                                  f"start ({type(exc).__name__}: {exc}); install Debian's "
                                  "chromium or set BROWSER_PATH") from exc
            self._loop = loop
            atexit.register(self.stop)

    def stop(self) -> None:
        with self._lock:
            if self._kaleido is None:
                return
            k, loop = self._kaleido, self._loop
            self._kaleido = self._loop = None
            try:
                asyncio.run_coroutine_threadsafe(k.close(), loop).result(30)
            except Exception:  # noqa: BLE001 - best effort at interpreter exit
                pass
            loop.call_soon_threadsafe(loop.stop)

    def render(self, fig_dict: dict, opts: dict) -> bytes:
        self.start()
        fut = asyncio.run_coroutine_threadsafe(self._kaleido.calc_fig(fig_dict, opts=opts),
                                               self._loop)
        return fut.result(RENDER_TIMEOUT + 10)


_RENDERER = _Renderer()


def stop_renderer() -> None:
    """Close the shared Chromium (it is also closed automatically at exit)."""
    _RENDERER.stop()


def apply_paper_theme(fig: go.Figure, font_size: float = 10.0) -> go.Figure:
    """A copy of ``fig`` in the FedLens template (:mod:`fedcore.plots.theme`) with every text
    scaled to ``font_size`` and tight margins."""
    from ..plots.theme import FONT_FAMILY, TEMPLATE_NAME, register_theme

    if TEMPLATE_NAME not in pio.templates:
        register_theme(set_default=False)
    out = go.Figure(fig)
    small = font_size * 0.9
    out.update_layout(
        template=TEMPLATE_NAME, font={"family": FONT_FAMILY, "size": font_size},
        title_font_size=font_size * 1.15, legend_font_size=small,
        legend_title_font_size=small)
    out.update_xaxes(title_font_size=font_size, tickfont_size=small, automargin=True)
    out.update_yaxes(title_font_size=font_size, tickfont_size=small, automargin=True)
    out.update_annotations(font_size=font_size)
    # Plotly's screen margins (80-100 px) would eat half of a 80 mm figure; automargin grows
    # these tight defaults just enough for the tick and axis labels.
    has_title = bool(out.layout.title.text)
    # subplot titles are annotations just above the plot area: they need room on top too
    above = any(a.yref == "paper" and a.y is not None and a.y >= 1
                for a in out.layout.annotations)
    tight = {"l": font_size, "r": font_size, "b": font_size,
             "t": font_size * (3.0 if has_title else 2.2 if above else 1.0)}
    current = out.layout.margin
    out.update_layout(margin={k: v for k, v in tight.items() if getattr(current, k) is None})
    if has_title:
        # Anchored on the plot area: MathJax titles ignore "top" anchors in the container.
        out.update_layout(title={"x": 0.02, "xanchor": "left", "yref": "paper", "y": 1.0,
                                 "yanchor": "bottom", "pad": {"b": font_size * 0.8}})
    return out


def _pixel_geometry(width: float, height: float, units: str, dpi: float,
                    scale: float | None) -> tuple[float, float, float]:
    """(layout width px, layout height px, scale) for kaleido."""
    if units == "px":
        return float(width), float(height), float(scale or 1.0)
    if units == "mm":
        # plotly.js rounds the layout size to whole CSS pixels, so round here and let the
        # output be (mm / 25.4 * 96 rounded) * dpi / 96 pixels: within 2 px of mm / 25.4 * dpi.
        s = float(scale) if scale else dpi / CSS_DPI
        return round(width / 25.4 * CSS_DPI), round(height / 25.4 * CSS_DPI), s
    raise ConfigError(f"units must be 'px' or 'mm', not {units!r}")


def figure_to_bytes(fig: go.Figure, fmt: str = "png", width: float = 160, height: float = 100,
                    units: str = "mm", dpi: float = 300, scale: float | None = None,
                    font_size: float | None = 9, theme: bool = True) -> bytes:
    """Render ``fig`` as PNG, SVG or PDF bytes.

    Parameters
    ----------
    fig : plotly Figure
    fmt : {"png", "svg", "pdf"}
    width, height : float
        In ``units``.
    units : {"mm", "px"}
    dpi : float
        Output resolution for ``units="mm"`` (PNG pixels = mm / 25.4 x dpi).
    scale : float, optional
        Explicit kaleido scale (default 1 for px, dpi/96 for mm).
    font_size : float or None
        Base font size: points for mm, CSS px for px. None keeps the figure's fonts.
    theme : bool
        Apply :func:`apply_paper_theme` first.
    """
    if fmt not in FORMATS:
        raise ConfigError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    w, h, s = _pixel_geometry(width, height, units, dpi, scale)
    if units == "mm" and fmt != "png" and scale is None:
        s = 1.0  # vector output: 96 CSS px per inch, so the PDF page / SVG is the size in mm
    if theme:
        size = None if font_size is None else (
            font_size * CSS_DPI / 72.0 if units == "mm" else font_size)
        fig = apply_paper_theme(fig, size if size is not None else 10.0)
    elif font_size is not None:
        fig = go.Figure(fig).update_layout(font_size=font_size)
    out = _RENDERER.render(fig.to_dict(), {"format": fmt, "width": w, "height": h, "scale": s})
    if fmt == "pdf":
        out = set_pdf_title(out, document_title(fig))
    return out


def document_title(fig: go.Figure) -> str:
    """What a PDF viewer shows for the figure: its title (tags stripped) or its name."""
    import re
    text = re.sub(r"<[^>]+>", " ", str(fig.layout.title.text or "")).strip()
    if text:
        return " ".join(text.split())
    meta = fig.layout.meta
    name = meta.get("name") if isinstance(meta, dict) else None
    return f"FedLens: {str(name or 'figure').replace('_', ' ')}"


def _pdf_string(text: str) -> bytes:
    # UTF-16BE with BOM: any title (accents, Greek letters) survives.
    return b"<" + ("\ufeff" + text).encode("utf-16-be").hex().upper().encode() + b">"


def set_pdf_title(pdf: bytes, title: str, creator: str = "FedLens") -> bytes:
    """Give a (classic-xref) PDF a document title via an incremental update.

    kaleido's PDFs are titled "Kaleido-fier"; a viewer's window and a reference manager show
    that title, so it must say what the figure is. The original bytes are kept; a new Info
    dictionary, xref section and trailer are appended (PDF 1.4, section 3.4.5). PDFs this
    cannot parse are returned unchanged.
    """
    import re
    trailers = list(re.finditer(rb"trailer\s*<<(.*?)>>\s*startxref\s*(\d+)", pdf, re.S))
    if not trailers:
        return pdf
    body, prev = trailers[-1].group(1), int(trailers[-1].group(2))
    size = re.search(rb"/Size\s+(\d+)", body)
    root = re.search(rb"/Root\s+(\d+\s+\d+\s+R)", body)
    if size is None or root is None:
        return pdf
    info = re.search(rb"/Info\s+(\d+)\s+(\d+)\s+R", body)
    number = int(info.group(1)) if info else int(size.group(1))
    gen = int(info.group(2)) if info else 0
    total = max(int(size.group(1)), number + 1)
    out = bytearray(pdf if pdf.endswith(b"\n") else pdf + b"\n")
    offset = len(out)
    out += (b"%d %d obj\n<</Title " % (number, gen) + _pdf_string(title)
            + b" /Creator " + _pdf_string(creator) + b" /Producer " + _pdf_string(creator)
            + b">>\nendobj\n")
    xref = len(out)
    out += b"xref\n0 1\n0000000000 65535 f \n%d 1\n%010d %05d n \n" % (number, offset, gen)
    out += (b"trailer\n<</Size %d /Root " % total + root.group(1)
            + b" /Info %d %d R /Prev %d>>\nstartxref\n%d\n%%%%EOF\n" % (number, gen, prev, xref))
    return bytes(out)


def figure_data_frame(fig: go.Figure) -> pd.DataFrame:
    """The plotted numbers of every trace in long format (trace, name, x, y[, z, text])."""
    rows = []
    for i, trace in enumerate(fig.data):
        cols = {}
        for key in ("x", "y", "z", "text"):
            value = getattr(trace, key, None)
            if value is not None and not isinstance(value, str):
                cols[key] = list(value)
        n = max((len(v) for v in cols.values()), default=0)
        for j in range(n):  # the real names, not the entities escaped for drawing
            row = {"trace": i, "name": unescape_text(trace.name)}
            for key, values in cols.items():
                row[key] = unescape_text(values[j]) if j < len(values) else None
            rows.append(row)
    return pd.DataFrame(rows)


def figure_data_csv(fig: go.Figure) -> str:
    """CSV text of :func:`figure_data_frame`."""
    return to_csv(figure_data_frame(fig), index=False)


def export_figure(fig: go.Figure, data: pd.DataFrame | None, out_dir: str | Path, name: str,
                  formats: Iterable[str] = FORMATS, **render_kwargs) -> list[Path]:
    """Write ``name.<fmt>`` for each format plus ``name.csv`` with the figure's data.

    ``data`` is the tidy DataFrame the figure was made from (preferred, as it keeps every
    column); when None the numbers are read back from the traces.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt in formats:
        path = out_dir / f"{name}.{fmt}"
        path.write_bytes(figure_to_bytes(fig, fmt, **render_kwargs))
        paths.append(path)
    csv_path = out_dir / f"{name}.csv"
    frame = data if data is not None else figure_data_frame(fig)
    to_csv(frame, csv_path, index=False)
    paths.append(csv_path)
    return paths
