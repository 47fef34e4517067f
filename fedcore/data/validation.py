"""Validate a parsed table and encode it into numeric arrays (features, labels, clients).

Encoding rules (documented for users in ``data/README.md``)
----------------------------------------------------------
* Client column: user-chosen, else the first column named like ``client``, ``client_id``,
  ``site``, ``hospital``, ``station``, ``dataset``... (case-insensitive). Rows without a
  client id are dropped and counted in the notes.
* Label column: user-chosen, else ``label``, ``target``, ``y``, ``num``, ``class``... Any
  values work; ``label_names`` are the distinct values sorted (numerically when numeric),
  ``y`` indexes them. Rows without a label are dropped (counted in the notes). One class,
  or more than ``max_classes`` distinct values (a regression target), is an error.
* Booleans (``True/False`` in any case) become 0/1.
* Text columns with at most ``max_categories`` distinct values are one-hot encoded with
  readable names (``cp=typical angina``; ``cp=missing`` when some cells are empty). Text
  columns with more values are identifiers or free text: they are dropped with a note.
* A text column that is at least 90 % numbers is a numeric column with junk in it: error
  naming the column, the first bad row and its value.
* Numeric missing values (NaN) are imputed with the column median and counted in the
  notes; a column missing in every row is dropped with a note. Infinite values are an
  error (they usually mean a division by zero upstream, not a measurement).
* Integer row identifiers (a column named ``id``, ``index`` or pandas' ``Unnamed: 0``
  holding unique integers) are dropped with a note.
* Optional ``true_group`` column: a known group per client (must be constant per client).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import DataError
from .limits import MAX_TEXT_VALUE, check_budget, safe_name

CLIENT_CANDIDATES = ("client", "client_id", "clientid", "client id", "site", "site_id",
                     "hospital", "hospital_id", "center", "centre", "station", "dataset",
                     "user", "user_id", "silo", "institution", "device")
LABEL_CANDIDATES = ("label", "target", "y", "num", "class", "outcome", "diagnosis", "labels")
GROUP_CANDIDATES = ("true_group",)
DEFAULT_MAX_CLIENTS = 10_000
DEFAULT_MAX_CLASSES = 100
DEFAULT_MAX_CATEGORIES = 50
FLOAT32_MAX = float(np.finfo(np.float32).max)
_TRUE = {"true", "t", "yes"}
_FALSE = {"false", "f", "no"}


@dataclass
class EncodedTable:
    """Numeric version of a table: what a :class:`~fedcore.dataset.PooledData` needs, plus notes."""

    X: np.ndarray
    y: np.ndarray
    clients: np.ndarray
    feature_names: list[str]
    label_names: list[str]
    notes: list[str] = field(default_factory=list)
    client_groups: dict[str, int] | None = None
    imputed: dict[str, int] = field(default_factory=dict)
    input_shape: tuple[int, ...] | None = None
    is_image: bool = False
    has_clients: bool = True


def pick_column(columns: list[str], wanted: str | None, candidates: tuple[str, ...],
                role: str, name: str, option: str) -> str:
    """Return the column to use for ``role`` (client/label), explicit or auto-detected."""
    available = ", ".join(f"'{safe_name(c, 60)}'" for c in columns[:20])
    if len(columns) > 20:
        available += f", ... ({len(columns):,} columns)"
    if wanted is not None:
        if wanted in columns:
            return wanted
        raise DataError(f"{role} column '{safe_name(wanted)}' not found in '{name}'; "
                        f"available columns: {available}")
    lower = {c.lower(): c for c in reversed(columns)}
    for cand in candidates:
        if cand in lower:
            return lower[cand]
    raise DataError(f"no {role} column found in '{name}' (looked for "
                    f"{', '.join(candidates[:6])}, ...); choose one with {option}; "
                    f"available columns: {available}")


def _row(origin: Callable[[int], str] | None, i: int) -> str:
    return origin(i) if origin is not None else f"data row {i + 1}"


def _as_id(values: pd.Series) -> np.ndarray:
    """Client ids as strings; integral floats lose their '.0' (1.0 -> '1')."""
    if pd.api.types.is_float_dtype(values) and np.all(np.mod(values.to_numpy(), 1) == 0):
        values = values.astype(np.int64)
    return values.astype(str).to_numpy(dtype=object).astype(str)


def _first_long_text(values, what: str, column: str, name: str) -> None:
    """Refuse a text value too long to be a client id or a label."""
    for v in values:
        if isinstance(v, str) and len(v) > MAX_TEXT_VALUE:
            raise DataError(f"{what} column '{safe_name(column)}' in '{name}' holds a value "
                            f"of {len(v):,} characters ('{safe_name(v, 40)}'); {what}s are "
                            f"short names (at most {MAX_TEXT_VALUE} characters)")


def encode_labels(values: pd.Series, column: str, name: str,
                  max_classes: int) -> tuple[np.ndarray, list[str]]:
    """Map label values to ``0..K-1``; names sorted numerically for numbers."""
    uniques = pd.unique(values)
    _first_long_text(uniques, "label", column, name)
    if len(uniques) > max_classes:
        raise DataError(f"label column '{column}' in '{name}' has {len(uniques)} distinct "
                        f"values (limit {max_classes}); FedLens does classification: pick a "
                        "categorical column or bin this one")
    numeric = pd.to_numeric(pd.Series(uniques), errors="coerce")
    if numeric.notna().all() and not pd.api.types.is_bool_dtype(values):
        order = np.argsort(numeric.to_numpy(dtype=float), kind="stable")
        nums = numeric.to_numpy(dtype=float)[order]
        names = [str(int(v)) if float(v).is_integer() else repr(float(v)) for v in nums]
        keys = [uniques[i] for i in order]
    else:
        keys = sorted(uniques, key=lambda v: str(v))
        names = [str(k) for k in keys]
    if len(keys) < 2:
        raise DataError(f"label column '{column}' in '{name}' has only one class "
                        f"('{names[0]}'); a classifier needs at least two")
    lookup = pd.Series(np.arange(len(keys)), index=pd.Index(keys, dtype=object))
    y = lookup.reindex(pd.Index(values.to_numpy(), dtype=object)).to_numpy(dtype=np.int64)
    return y, names


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


def _encode_feature(col: pd.Series, column: str, name: str, origin, max_categories: int,
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
                        f"{_row(origin, row)} holds '{safe_name(text.iloc[row], 40)}'; fix that "
                        "cell or leave it empty")
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
                        f"at {_row(origin, int(row))}; replace it with a number or leave it "
                        "empty")
    with np.errstate(invalid="ignore"):
        huge = np.abs(X) > FLOAT32_MAX
    if huge.any():
        row, col = np.argwhere(huge)[0]
        raise DataError(f"column '{safe_name(names[col])}' in '{name}' has the value "
                        f"{X[row, col]:g} at {_row(origin, int(row))}, outside the range of "
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


def _client_groups(frame: pd.DataFrame, column: str, clients: np.ndarray,
                   name: str) -> dict[str, int]:
    groups = pd.Series(frame[column].to_numpy(), index=clients)
    per = groups.groupby(level=0).nunique(dropna=False)
    if (per > 1).any():
        bad = per.index[per > 1][0]
        raise DataError(f"column '{column}' in '{name}' must be constant within a client; "
                        f"client '{bad}' has several values")
    first = groups.groupby(level=0).first()
    codes = {v: i for i, v in enumerate(sorted(first.unique(), key=str))}
    return {str(c): codes[v] for c, v in first.items()}


def encode_frame(frame: pd.DataFrame, name: str, client_column: str | None = None,
                 label_column: str | None = None, *, clients: np.ndarray | None = None,
                 row_origin: Callable[[int], str] | None = None,
                 missing_indicators: tuple[str, ...] = (), drop: tuple[str, ...] = (),
                 max_clients: int = DEFAULT_MAX_CLIENTS, max_classes: int = DEFAULT_MAX_CLASSES,
                 max_categories: int = DEFAULT_MAX_CATEGORIES,
                 require_client: bool = True) -> EncodedTable:
    """Validate and encode a table (see the module docstring for the rules).

    Parameters
    ----------
    frame : DataFrame
    name : str
        File name used in messages.
    client_column, label_column : str, optional
        Explicit choices; auto-detected when None. ``client_column`` is ignored when
        ``clients`` (one id per row, e.g. from ZIP member names) is given.
    row_origin : callable, optional
        ``i -> "file a.csv, data row 3"`` for messages about row ``i`` of ``frame``.
    missing_indicators : tuple of str
        Columns that get an extra 0/1 ``<col>_missing`` feature before imputation.
    drop : tuple of str
        Columns to ignore.
    require_client : bool
        When False, a table without a client column is accepted as one pool
        (``EncodedTable.has_clients`` is False).
    """
    columns = [str(c) for c in frame.columns]
    notes: list[str] = []
    has_clients = True
    if clients is None:
        try:
            client_column = pick_column(columns, client_column, CLIENT_CANDIDATES, "client",
                                        name, "client_column / --client-column")
        except DataError:
            if require_client or client_column is not None:
                raise
            # a pooled table that a scenario will partition: no natural clients
            clients, has_clients = np.full(len(frame), "pool"), False
    label_column = pick_column(columns, label_column, LABEL_CANDIDATES, "label", name,
                               "label_column / --label-column")
    if clients is None and client_column == label_column:
        raise DataError(f"'{name}': the client column and the label column are both "
                        f"'{label_column}'; choose two different columns")
    if clients is None:
        _first_long_text(pd.unique(frame[client_column].dropna()), "client", client_column,
                         name)
    ids = clients if clients is not None else _as_id_with_nan(frame[client_column])
    keep = np.ones(len(frame), dtype=bool)
    if clients is None:
        no_client = frame[client_column].isna().to_numpy()
        if no_client.any():
            notes.append(f"dropped {int(no_client.sum())} rows without a client id")
            keep &= ~no_client
    no_label = frame[label_column].isna().to_numpy()
    if no_label.all():
        raise DataError(f"label column '{label_column}' in '{name}' has no values")
    if no_label.any():
        notes.append(f"dropped {int(no_label.sum())} rows without a label "
                     f"('{label_column}' empty)")
        keep &= ~no_label
    rows = np.flatnonzero(keep)

    def origin(i: int) -> str:  # row i of the kept rows, located in the original file
        return _row(row_origin, int(rows[i]))

    frame = frame.iloc[rows]
    ids = np.asarray(ids)[rows].astype(str)
    n_clients = len(np.unique(ids))
    if n_clients > max_clients:
        raise DataError(f"'{name}' has {n_clients:,} clients; the limit is {max_clients:,} "
                        "(max_clients): check the client column or raise the limit")
    y, label_names = encode_labels(frame[label_column], label_column, name, max_classes)
    group_column = next((c for c in columns if c.lower() in GROUP_CANDIDATES), None)
    skip = {client_column, label_column, group_column, *drop}
    blocks, names = [], []
    for col in columns:
        if col in skip:
            continue
        series = frame[col].reset_index(drop=True)
        if _looks_like_row_id(col, series):
            notes.append(f"dropped column '{col}' (a row identifier: unique integers)")
            continue
        if col in missing_indicators:
            blocks.append(series.isna().to_numpy(dtype=float)[:, None])
            names.append(f"{col}_missing")
        block, block_names = _encode_feature(series, col, name, origin, max_categories, notes)
        if block is not None:
            blocks.append(block)
            names.extend(block_names)
            # the blocks, their concatenation and the imputed copy are alive together
            check_budget(name, 3 * 8 * len(frame) * len(names), "the encoded feature matrix")
    if not blocks:
        raise DataError(f"'{name}' has no feature columns besides the client and label "
                        "columns")
    X, names, imputed = impute_median(np.concatenate(blocks, axis=1), names, name, origin,
                                      notes)
    if X.shape[1] == 0:
        raise DataError(f"'{name}' has no usable feature columns (all were empty)")
    groups = (_client_groups(frame, group_column, ids, name)
              if group_column is not None and has_clients else None)
    return EncodedTable(X.astype(np.float32), y, ids, names, label_names, notes, groups,
                        imputed, has_clients=has_clients)


def _looks_like_row_id(column: str, series: pd.Series) -> bool:
    """``id``/``index``/unnamed pandas index columns holding unique integers carry no signal
    (and would let a model memorise rows), so they are not features."""
    name = column.strip().lower()
    if not (name in ("id", "index", "row", "row_id", "") or name.startswith("unnamed:")):
        return False
    if not pd.api.types.is_integer_dtype(series):
        return False
    return bool(series.is_unique)


def _as_id_with_nan(values: pd.Series) -> np.ndarray:
    present = values.notna()
    out = np.full(len(values), "", dtype=object)
    if present.any():
        out[present.to_numpy()] = _as_id(values[present])
    return out.astype(str)
