"""Uploads -> :class:`~fedcore.dataset.FederatedDataset` (the public entry points).

Supported files (by extension): ``.csv``/``.tsv``/``.txt`` and ``.parquet`` long tables
with a client column and a label column; ``.zip`` of one CSV per client; ``.npz`` arrays;
LEAF ``.json``. Every failure, including unexpected parser errors, is a
:class:`~fedcore.errors.DataError` naming the file.
"""

from __future__ import annotations

import hashlib

import numpy as np

from ..dataset import FederatedDataset, PooledData, check_task
from ..errors import DataError, FedLensError
from ..partition import federate, partition_indices
from .limits import DEFAULT_MAX_BYTES, check_budget, one_line
from .readers_archive import (
    DECOMPRESSION_ERRORS,
    check_members,
    open_zip,
    read_member,
    read_zip_tables,
)
from .readers_arrays import read_npz
from .readers_leaf import read_leaf
from .readers_table import estimate_csv_memory, read_csv_bytes, read_parquet_bytes, table_columns
from .source import read_source
from .validation import (
    CLIENT_CANDIDATES,
    DEFAULT_MAX_CLIENTS,
    EncodedTable,
    encode_frame,
    pick_column,
)


def _client_column_name(source, client_column: str | None) -> tuple[str, ...]:
    """The column to read as text exactly as written (client ids: ``01`` is not ``1``)."""
    if client_column is not None:
        return (client_column,)
    check_budget(source.name, estimate_csv_memory(source.data), "parsing the table")
    try:
        columns = table_columns(source.data, source.name, source.kind)
        return (pick_column(columns, None, CLIENT_CANDIDATES, "client", source.name, ""),)
    except DataError:
        return ()


def _encode(source, client_column, label_column, max_clients,
            require_client=True, task="classification") -> EncodedTable:
    if source.kind in ("csv", "parquet"):
        reader = read_csv_bytes if source.kind == "csv" else read_parquet_bytes
        text_columns = _client_column_name(source, client_column) if source.kind == "csv" else ()
        frame, notes = reader(source.data, source.name, text_columns)
        enc = encode_frame(frame, source.name, client_column, label_column,
                           max_clients=max_clients, require_client=require_client, task=task)
    elif source.kind == "zip":
        frame, clients, origin, notes = read_zip_tables(source.data, source.name, max_clients)
        # a client-id column inside per-client files would be a perfect client identifier
        drop = tuple(c for c in frame.columns if c.lower() in CLIENT_CANDIDATES
                     and c != label_column)
        if drop:
            notes.append(f"ignored column(s) {', '.join(drop)}: clients are the file names")
        enc = encode_frame(frame, source.name, None, label_column, clients=clients,
                           row_origin=origin, drop=drop, max_clients=max_clients, task=task)
    elif source.kind == "npz":
        return read_npz(source.data, source.name, max_clients, task)
    else:
        return read_leaf(source.data, source.name, max_clients, task)
    enc.notes = notes + enc.notes
    return enc


def _naming_file(exc: FedLensError, name: str) -> FedLensError:
    """The same error on one line, naming the file if it does not yet."""
    text = one_line(exc, 500)
    return type(exc)(text if name in text else f"file '{name}': {text}")


def read_upload(path, client_column: str | None = None, label_column: str | None = None,
                max_bytes: int = DEFAULT_MAX_BYTES, filename: str | None = None,
                max_clients: int = DEFAULT_MAX_CLIENTS,
                require_client: bool = True,
                task: str = "classification") -> tuple[PooledData, EncodedTable, dict]:
    """Read and validate an upload without splitting it.

    ``task`` says how the label column is read: ``"classification"`` (classes) or
    ``"regression"`` (a finite number per row; see :mod:`fedcore.data.targets`). It is
    the user's choice; :func:`fedcore.data.suggest_task` may only suggest one.

    Returns
    -------
    pool : PooledData
        Raw (not standardised) features, natural client of each row in ``client_column``.
    encoded : EncodedTable
        Notes, per-client groups (``true_group`` column), imputation counts.
    info : dict
        ``file``, ``format``, ``bytes``, ``sha256`` of the upload.

    With ``require_client=False`` a CSV/Parquet table without a client column is read as
    one pool (``pool.client_column`` is None), ready for a partition scenario.
    """
    source = read_source(path, filename, max_bytes)
    check_task(task)
    try:
        enc = _encode(source, client_column, label_column, max_clients, require_client, task)
    except FedLensError as exc:
        raise _naming_file(exc, source.name) from None
    except (ValueError, TypeError, KeyError, IndexError, UnicodeError, OSError, MemoryError,
            *DECOMPRESSION_ERRORS) as exc:  # a parser corner case we did not foresee
        raise DataError(f"file '{source.name}' could not be read: "
                        f"{type(exc).__name__}: {one_line(exc, 200)}") from None
    shape = enc.input_shape or (enc.X.shape[1],)
    pool = PooledData(X=enc.X, y=enc.y, feature_names=enc.feature_names,
                      label_names=enc.label_names, input_shape=tuple(shape),
                      client_column=enc.clients if enc.has_clients else None,
                      name=source.name, is_image=enc.is_image,
                      description=f"uploaded file {source.name}", task=task)
    info = {"file": source.name, "format": source.kind, "bytes": len(source.data),
            "sha256": hashlib.sha256(source.data).hexdigest()}
    return pool, enc, info


def load_upload(path, client_column: str | None = None, label_column: str | None = None,
                test_fraction: float = 0.2, seed: int = 0, max_bytes: int = DEFAULT_MAX_BYTES,
                filename: str | None = None,
                max_clients: int = DEFAULT_MAX_CLIENTS,
                standardisation: str = "auto",
                task: str = "classification") -> FederatedDataset:
    """Read an upload into a federated dataset with its own (natural) clients.

    Parameters
    ----------
    path : str, Path, bytes or file-like
        The file, or its bytes (then ``filename`` gives the extension).
    client_column, label_column : str, optional
        Auto-detected when None (tables and ZIP only; ZIP clients are file names).
    test_fraction : float
        Per-client test share (stratified for classification, random for regression).
    seed : int
        Seed of the train/test split.
    max_bytes : int
        Larger files are rejected before parsing.
    filename : str, optional
    max_clients : int
        More clients than this is an error (usually a wrong client column).
    standardisation : {"auto", "pooled", "per-client", "none"}
        Feature standardisation (:func:`fedcore.partition.federate.standardise_parts`).
    task : {"classification", "regression"}
        How the label column is read (the user's choice, never auto-detected).
    """
    pool, enc, info = read_upload(path, client_column, label_column, max_bytes, filename,
                                  max_clients, task=task)
    indices, _ = partition_indices(pool.y, "natural", pool=pool)
    groups = None
    if enc.client_groups is not None:
        groups = np.array([enc.client_groups[c] for c in indices], dtype=np.int64)
    provenance = {**info, "source": info["file"], "scenario": "natural", "seed": int(seed),
                  "test_fraction": float(test_fraction), "notes": list(enc.notes),
                  "imputed": dict(enc.imputed), "client_column": client_column,
                  "label_column": label_column, "task": task}
    try:
        return federate(pool, indices, groups, seed=seed, test_fraction=test_fraction,
                        name=info["file"], provenance=provenance,
                        standardisation=standardisation)
    except DataError as exc:  # e.g. a client too small to split
        raise _naming_file(exc, info["file"]) from None


def read_table_columns(path_or_bytes, filename: str | None = None,
                       max_bytes: int = DEFAULT_MAX_BYTES) -> list[str]:
    """Column names offered in the UI's client/label pickers.

    CSV/Parquet: the header; ZIP: the header of the first CSV member; NPZ and LEAF JSON
    have no columns to pick (empty list).
    """
    source = read_source(path_or_bytes, filename, max_bytes)
    if source.kind in ("csv", "parquet"):
        return table_columns(source.data, source.name, source.kind)
    if source.kind == "zip":
        with open_zip(source.data, source.name) as zf:
            for info in check_members(zf, source.name):
                if info.filename.lower().endswith((".csv", ".tsv", ".txt")) and \
                        "__MACOSX" not in info.filename:
                    data = read_member(zf, info, source.name)
                    return table_columns(data, f"{source.name}/{info.filename}", "csv")
        raise DataError(f"ZIP '{source.name}' holds no CSV files")
    return []
