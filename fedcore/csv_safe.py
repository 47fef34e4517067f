"""CSV files that are safe to open in a spreadsheet (OWASP "CSV injection").

A text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is run as a
formula by Excel, LibreOffice and Google Sheets: a client named ``=HYPERLINK(...)`` or
``+cmd|' /C calc'!A0`` would become a live formula in ``clients.csv``. Every CSV FedLens
writes goes through :func:`to_csv`, which prefixes such cells with a single quote (shown as
text by spreadsheets, not as part of the value). Cells that are plain numbers (``-0.5``,
``+3``, ``-1e-3``) stay numbers, and number columns are never touched.

A text cell that itself starts with a quote gets one more, so :func:`restore_cell` gives
back exactly the written value (``store.load_run`` reads its tables that way) and the
spreadsheet shows the value exactly as well.
"""

from __future__ import annotations

import re

import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_ESCAPED_START = (*FORMULA_START, "'")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def neutralise_cell(value):
    """``'=SUM(A1)`` for ``=SUM(A1)``; numbers and harmless text unchanged."""
    if isinstance(value, str) and value.startswith(_ESCAPED_START) \
            and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def restore_cell(value):
    """Inverse of :func:`neutralise_cell` for a cell read back from a FedLens CSV."""
    if isinstance(value, str) and len(value) > 1 and value[0] == "'" \
            and value[1] in _ESCAPED_START:
        return value[1:]
    return value


def _text_like(series: pd.Series) -> bool:
    return series.dtype == object or isinstance(series.dtype, pd.StringDtype | pd.CategoricalDtype)


def _safe_index(index: pd.Index) -> pd.Index:
    if isinstance(index, pd.MultiIndex):
        return index.set_levels([_safe_index(lvl) for lvl in index.levels])
    if index.dtype == object or isinstance(index.dtype, pd.StringDtype):
        return index.map(neutralise_cell)
    return index


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text cells, column names and index labels cannot run as formulas."""
    out = frame.copy()
    for col in out.columns:
        if _text_like(out[col]):
            out[col] = out[col].astype(object).map(neutralise_cell)
    out.columns = _safe_index(out.columns)
    out.index = _safe_index(out.index)
    return out


def restore_frame(frame: pd.DataFrame, text_columns) -> pd.DataFrame:
    """Undo :func:`safe_frame` on the given text columns (and the column names)."""
    frame.columns = [restore_cell(c) for c in frame.columns]
    for col in text_columns:
        if col in frame.columns:
            frame[col] = frame[col].map(restore_cell)
    return frame


def _has_carriage_return(frame: pd.DataFrame) -> bool:
    cells = [frame[c] for c in frame.columns if _text_like(frame[c])]
    labels = [pd.Series(frame.columns, dtype=object), pd.Series(frame.index, dtype=object)]
    return any(s.map(lambda v: isinstance(v, str) and "\r" in v).any() for s in cells + labels)


def to_csv(frame: pd.DataFrame, path=None, **kwargs):
    """``frame.to_csv(path, **kwargs)`` with spreadsheet formulas neutralised.

    A text cell holding a carriage return is only quoted by the csv module when ``\r`` is
    part of the line terminator, so such tables are written with ``\r\n`` line ends
    (otherwise the cell would split its row).
    """
    safe = safe_frame(frame)
    if "lineterminator" not in kwargs and _has_carriage_return(safe):
        kwargs["lineterminator"] = "\r\n"
    return safe.to_csv(path, **kwargs)
