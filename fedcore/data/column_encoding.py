"""Encode one input column into numeric features, and clean the feature matrix.

The per-column half of the encoding rules in :mod:`fedcore.data.validation` (booleans, text
categories, numbers with junk, row identifiers, infinities, median imputation).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from ..errors import DataError
from .limits import MAX_TEXT_VALUE, safe_name

FLOAT32_MAX = float(np.finfo(np.float32).max)
_TRUE = {"true", "t", "yes"}
_FALSE = {"false", "f", "no"}


def row_label(origin: Callable[[int], str] | None, i: int) -> str:
    return origin(i) if origin is not None else f"data row {i + 1}"

def _stripped(col: pd.Series) -> pd.Series:
    """Text of every cell, trimmed; missing cells stay missing (vectorised)."""
    return col.astype("string").str.strip()


def _bool_values(text: pd.Series, present: pd.Series) -> np.ndarray | None:
    """0/1 (NaN for missing) of a boolean-looking column, else None."""
    lowered = text[present].str.lower()
    if not set(lowered.unique()) <= _TRUE | _FALSE:
        return None
    out = np.full(len(text), np.nan)
    out[present.to_numpy()] = lowered.isin(_TRUE).to_numpy(dtype=float)
    return out


def encode_feature(col: pd.Series, column: str, name: str, origin, max_categories: int,
                    notes: list[str]) -> tuple[np.ndarray | None, list[str]]:
    """One input column -> (matrix (n, k) float64 or None when dropped, feature names)."""
    if pd.api.types.is_bool_dtype(col):
        return col.to_numpy(dtype=float)[:, None], [column]
    if pd.api.types.is_numeric_dtype(col):
        return col.to_numpy(dtype=float)[:, None], [column]
    raw = (col.cat.categories if isinstance(col.dtype, pd.CategoricalDtype)
           else pd.unique(col.dropna()))
    longest = max((len(str(v)) for v in raw), default=0)
    if longest > MAX_TEXT_VALUE:  # before any string operation copies the long values
        notes.append(f"dropped text column '{safe_name(column)}' (a value of {longest:,} "
                     f"characters: free text or an identifier, not a category)")
        return None, []
    text = _stripped(col)
    present = text.notna() & col.notna()
    if not present.any():
        return np.full((len(col), 1), np.nan), [column]
    as_bool = _bool_values(text, present)
    if as_bool is not None:
        return as_bool[:, None], [column]
    values = text[present]
    uniques = pd.unique(values)
    as_text = pd.Series(uniques, dtype=object).astype(str)
    # a decimal comma ("0,25") is a number too: junk in a decimal-comma column is junk
    parsed = pd.to_numeric(as_text, errors="coerce").fillna(
        pd.to_numeric(as_text.str.replace(",", ".", n=1, regex=False), errors="coerce"))
    bad = set(uniques[parsed.isna().to_numpy()])
    bad_rows = values.isin(bad).to_numpy()
    if 1 - bad_rows.mean() >= 0.9:
        row = int(np.flatnonzero(present.to_numpy())[np.flatnonzero(bad_rows)[0]])
        raise DataError(f"column '{safe_name(column)}' in '{name}' is numeric but "
                        f"{row_label(origin, row)} holds '{safe_name(text.iloc[row], 40)}'; "
                        "fix that cell or leave it empty")
    cats = sorted(str(u) for u in uniques)
    if len(cats) > max_categories:
        notes.append(f"dropped text column '{safe_name(column)}' ({len(cats)} distinct "
                     f"values; more than {max_categories} looks like an identifier or free text)")
        return None, []
    codes = pd.Categorical(text.where(present), categories=cats).codes
    onehot = (codes[:, None] == np.arange(len(cats))[None, :]).astype(float)
    names = [f"{column}={c}" for c in cats]
    if (codes < 0).any():
        onehot = np.column_stack([onehot, (codes < 0).astype(float)])
        names.append(f"{column}=missing")
    return onehot, names


def impute_median(X: np.ndarray, names: list[str], name: str, origin,
                  notes: list[str]) -> tuple[np.ndarray, list[str], dict[str, int]]:
    """Reject infinities, impute NaN with column medians, drop all-missing columns."""
    inf = np.isinf(X)
    if inf.any():
        row, col = np.argwhere(inf)[0]
        raise DataError(f"column '{safe_name(names[col])}' in '{name}' has an infinite value "
                        f"at {row_label(origin, int(row))}; replace it with a number or leave it "
                        "empty")
    with np.errstate(invalid="ignore"):
        huge = np.abs(X) > FLOAT32_MAX
    if huge.any():
        row, col = np.argwhere(huge)[0]
        raise DataError(f"column '{safe_name(names[col])}' in '{name}' has the value "
                        f"{X[row, col]:g} at {row_label(origin, int(row))}, outside the range of "
                        f"32-bit floats (about ±3.4e38) FedLens computes in")
    nan = np.isnan(X)
    imputed: dict[str, int] = {}
    if not nan.any():
        return X, names, imputed
    counts = nan.sum(axis=0)
    keep = counts < len(X)
    for j in np.flatnonzero(~keep):
        notes.append(f"dropped column '{names[j]}' (missing in every row)")
    X, nan, counts = X[:, keep], nan[:, keep], counts[keep]
    names = [n for n, k in zip(names, keep) if k]
    medians = np.nanmedian(np.where(nan, np.nan, X), axis=0) if X.size else np.array([])
    X = np.where(nan, medians[None, :], X)
    for j in np.flatnonzero(counts):
        imputed[names[j]] = int(counts[j])
    if imputed:
        total = sum(imputed.values())
        detail = ", ".join(f"{k}: {v}" for k, v in list(imputed.items())[:8])
        more = ", ..." if len(imputed) > 8 else ""
        notes.append(f"imputed {total} missing values with column medians ({detail}{more})")
    return X, names, imputed

def looks_like_row_id(column: str, series: pd.Series) -> bool:
    """``id``/``index``/unnamed pandas index columns holding unique integers carry no signal
    (and would let a model memorise rows), so they are not features."""
    name = column.strip().lower()
    if not (name in ("id", "index", "row", "row_id", "") or name.startswith("unnamed:")):
        return False
    if not pd.api.types.is_integer_dtype(series):
        return False
    return bool(series.is_unique)
