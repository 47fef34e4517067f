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
  With ``task="regression"`` (only when the user says so; :func:`suggest_task` may
  suggest it, never decides) the label must be a finite number in every row that has
  one: text or infinity is an error naming the column, the first bad row and its value;
  ``y`` is float32 and ``label_names`` is ``[label column]``.
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

from ..dataset import check_task
from ..errors import DataError
from .column_encoding import encode_feature, impute_median, looks_like_row_id, row_label
from .limits import MAX_TEXT_VALUE, check_budget, safe_name
from .targets import DEFAULT_MAX_CLASSES, TaskSuggestion, encode_target, suggest_task

CLIENT_CANDIDATES = ("client", "client_id", "clientid", "client id", "site", "site_id",
                     "hospital", "hospital_id", "center", "centre", "station", "dataset",
                     "user", "user_id", "silo", "institution", "device")
LABEL_CANDIDATES = ("label", "target", "y", "num", "class", "outcome", "diagnosis", "labels")
GROUP_CANDIDATES = ("true_group",)
__all__ = ["DEFAULT_MAX_CLASSES", "TaskSuggestion", "suggest_task", "encode_frame", "encode_labels",
           "encode_target", "pick_column", "EncodedTable", "impute_median"]
DEFAULT_MAX_CLIENTS = 10_000
DEFAULT_MAX_CATEGORIES = 50


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
    task: str = "classification"


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
                        f"values (limit {max_classes}) for a classification task; if it is "
                        "a measurement, choose the regression task, else pick a categorical "
                        "column or bin this one")
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
                 require_client: bool = True, task: str = "classification") -> EncodedTable:
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
    task : {"classification", "regression"}
        How the label column is read (see the module docstring).
    """
    check_task(task)
    columns = [str(c) for c in frame.columns]
    notes: list[str] = []
    client_column, label_column, clients, has_clients = _choose_columns(
        frame, columns, name, client_column, label_column, clients, require_client)
    ids = clients if clients is not None else _as_id_with_nan(frame[client_column])
    rows = np.flatnonzero(_rows_to_keep(frame, None if clients is not None else client_column,
                                        label_column, name, notes))

    def origin(i: int) -> str:  # row i of the kept rows, located in the original file
        return row_label(row_origin, int(rows[i]))

    frame = frame.iloc[rows]
    ids = np.asarray(ids)[rows].astype(str)
    n_clients = len(np.unique(ids))
    if n_clients > max_clients:
        raise DataError(f"'{name}' has {n_clients:,} clients; the limit is {max_clients:,} "
                        "(max_clients): check the client column or raise the limit")
    if task == "regression":
        y, label_names = encode_target(frame[label_column].reset_index(drop=True),
                                       label_column, name, origin)
    else:
        y, label_names = encode_labels(frame[label_column], label_column, name, max_classes)
    group_column = next((c for c in columns if c.lower() in GROUP_CANDIDATES), None)
    skip = {client_column, label_column, group_column, *drop}
    blocks, names = _encode_columns(frame, [c for c in columns if c not in skip], name,
                                    origin, missing_indicators, max_categories, notes)
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
                        imputed, has_clients=has_clients, task=task)


def _choose_columns(frame: pd.DataFrame, columns: list[str], name: str,
                    client_column: str | None, label_column: str | None,
                    clients: np.ndarray | None, require_client: bool):
    """``(client_column, label_column, clients, has_clients)``, explicit or auto-detected."""
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
    return client_column, label_column, clients, has_clients


def _rows_to_keep(frame: pd.DataFrame, client_column: str | None, label_column: str,
                  name: str, notes: list[str]) -> np.ndarray:
    """Rows with a client id (when read from ``client_column``) and a label."""
    keep = np.ones(len(frame), dtype=bool)
    if client_column is not None:
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
    return keep


def _encode_columns(frame: pd.DataFrame, columns: list[str], name: str, origin,
                    missing_indicators: tuple[str, ...], max_categories: int,
                    notes: list[str]) -> tuple[list[np.ndarray], list[str]]:
    """Feature blocks and names of the input ``columns`` (row identifiers dropped)."""
    blocks, names = [], []
    for col in columns:
        series = frame[col].reset_index(drop=True)
        if looks_like_row_id(col, series):
            notes.append(f"dropped column '{col}' (a row identifier: unique integers)")
            continue
        if col in missing_indicators:
            blocks.append(series.isna().to_numpy(dtype=float)[:, None])
            names.append(f"{col}_missing")
        block, block_names = encode_feature(series, col, name, origin, max_categories, notes)
        if block is not None:
            blocks.append(block)
            names.extend(block_names)
            # the blocks, their concatenation and the imputed copy are alive together
            check_budget(name, 3 * 8 * len(frame) * len(names), "the encoded feature matrix")
    return blocks, names


def _as_id_with_nan(values: pd.Series) -> np.ndarray:
    present = values.notna()
    out = np.full(len(values), "", dtype=object)
    if present.any():
        out[present.to_numpy()] = _as_id(values[present])
    return out.astype(str)
