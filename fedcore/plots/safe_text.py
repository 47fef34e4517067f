"""Data text never becomes markup in a figure.

Plotly renders a subset of HTML in any text it draws (tick labels, legend entries, hover
labels, annotations): a client named ``<a href="http://...">x</a>`` would become a live
link in the SVG, HTML and PDF exports. :func:`escape_figure_text` runs in
:func:`fedcore.plots.theme.finish` (every figure of the package) and writes ``<``, ``>`` and
``&`` of data-derived strings as entities, which plotly shows as the literal characters.
Titles and annotations (our own text) keep the formatting tags FedLens uses (``<b>``,
``<i>``, ``<br>``, ``<sup>``, ``<sub>``); any other tag in them is escaped too.
"""

from __future__ import annotations

import html
import re

import numpy as np

#: Trace attributes holding data-derived text that plotly may draw.
TEXT_KEYS = ("x", "y", "z", "text", "hovertext", "name", "labels", "ids", "customdata",
             "legendgrouptitle", "parents")
_ALLOWED_TAG = re.compile(r"</?(b|i|br|sup|sub|em)\s*/?>", re.IGNORECASE)


def escape_text(value: str) -> str:
    """``<a>`` -> ``&lt;a&gt;`` (plotly shows the characters, not a link)."""
    return html.escape(value, quote=False)


def escape_markup(value: str) -> str:
    """Escape every tag except FedLens's own formatting tags."""
    parts, last = [], 0
    for match in _ALLOWED_TAG.finditer(value):
        parts.append(escape_text(value[last:match.start()]))
        parts.append(match.group(0))
        last = match.end()
    parts.append(escape_text(value[last:]))
    return "".join(parts)


def _escaped(value):
    if isinstance(value, str):
        return escape_text(value)
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "OUS":
            return np.vectorize(_escaped, otypes=[object])(value) if value.size else value
        return value
    if isinstance(value, list | tuple):
        if not any(isinstance(v, str | list | tuple | np.ndarray) for v in value):
            return value  # numbers only: nothing to escape, keep the same object
        return type(value)(_escaped(v) for v in value)
    return value


def escape_figure_text(fig):
    """Escape data text in every trace and in titles/annotations (in place; returns fig)."""
    validate = fig._validate
    fig._validate = False  # values are only re-typed strings; skip per-element validation
    try:
        for trace in fig.data:
            for key in TEXT_KEYS:
                value = getattr(trace, key, None) if key in trace else None
                if value is not None and not isinstance(value, dict):
                    new = _escaped(value)
                    if new is not value:
                        trace[key] = new
    finally:
        fig._validate = validate
    for ann in fig.layout.annotations or ():
        if isinstance(ann.text, str):
            ann.text = escape_markup(ann.text)
    title = fig.layout.title
    if title is not None and isinstance(title.text, str):
        title.text = escape_markup(title.text)
    for axis in [k for k in fig.layout if k.startswith(("xaxis", "yaxis"))]:
        ax = fig.layout[axis]
        if ax.ticktext is not None:
            ax.ticktext = [escape_text(t) if isinstance(t, str) else t for t in ax.ticktext]
        if ax.title is not None and isinstance(ax.title.text, str):
            ax.title.text = escape_markup(ax.title.text)
    return fig


def unescape_text(value):
    """Inverse of :func:`escape_text` (figure data exported as CSV holds the real names)."""
    return html.unescape(value) if isinstance(value, str) else value
