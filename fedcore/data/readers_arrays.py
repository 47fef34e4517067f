"""Read NumPy ``.npz`` uploads (never unpickled).

NPZ layouts (loaded with ``allow_pickle=False``; object arrays are rejected)
----------------------------------------------------------------------------
1. Stacked: ``x`` (n, d) or images (n, H, W) / (n, H, W, C), ``y`` (n,) integers or
   strings, ``client`` (n,) client id of each row (strings or integers).
2. Per client: ``x_<id>`` and ``y_<id>`` for every client ``<id>``.

Optional in both: ``feature_names`` (d,) and ``label_names`` (K,) string arrays (then ``y``
must hold integers in ``0..K-1``). Save strings as fixed-width unicode
(``np.array(names, dtype=str)``), not as Python objects. ``uint8`` images are divided by
255; image arrays (3 or 4 dimensions) are flagged as images and not standardised.

LEAF JSON is read by :mod:`fedcore.data.readers_leaf`.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd

from ..dataset import MIN_CLIENT_SAMPLES, too_few_samples
from ..errors import DataError
from .limits import check_budget, one_line, safe_name
from .readers_archive import DECOMPRESSION_ERRORS, check_members, open_zip
from .validation import (
    DEFAULT_MAX_CLASSES,
    EncodedTable,
    encode_labels,
    encode_target,
    impute_median,
)

_PICKLE_HINT = ("FedLens never unpickles uploads: save numeric arrays, and strings as "
                "fixed-width unicode (np.array(names, dtype=str))")


#: Largest number of dimensions of a feature array: (n, H, W, C) images.
MAX_FEATURE_DIMS = 4


def _array_headers(zf, name: str) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    """Shape and dtype of every ``.npy`` member, read from its header only."""
    headers = {}
    for info in zf.infolist():
        if not info.filename.endswith(".npy"):
            continue
        key = safe_name(info.filename[:-4])
        try:
            with zf.open(info) as fh:
                version = np.lib.format.read_magic(fh)
                reader = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                          else np.lib.format.read_array_header_2_0)
                shape, _fortran, dtype = reader(fh)
        except (*DECOMPRESSION_ERRORS, SyntaxError) as exc:
            raise DataError(f"NPZ '{name}': array '{key}' is not a valid NumPy array "
                            f"({one_line(exc, 120)})") from None
        headers[key] = (tuple(int(s) for s in shape), dtype)
    return headers


def _check_npz_memory(headers: dict, name: str) -> None:
    """Every array becomes float64 and is copied about three times while being encoded."""
    elements = sum(int(np.prod(shape, dtype=np.float64)) for shape, _ in headers.values())
    check_budget(name, 24 * elements, f"{elements:,} array values as floats")


def _load(npz, key: str, name: str, headers: dict) -> np.ndarray:
    header = headers.get(key)
    if header is not None and header[1].hasobject:
        raise DataError(f"NPZ '{name}': array '{key}' holds Python objects (pickled); "
                        + _PICKLE_HINT)
    try:
        arr = npz[key]
    except (ValueError, *DECOMPRESSION_ERRORS) as exc:
        raise DataError(f"NPZ '{name}': array '{key}' is truncated or corrupt: its data "
                        f"does not match its header ({one_line(exc, 120)})") from None
    if arr.dtype.kind == "O":
        raise DataError(f"NPZ '{name}': array '{key}' holds Python objects; " + _PICKLE_HINT)
    return arr


def _features(x: np.ndarray, key: str, name: str, notes: list[str]):
    """Validate a feature array; returns (flat float matrix, input_shape, is_image)."""
    if x.dtype.kind not in "biuf":
        raise DataError(f"'{name}': features '{key}' must be numbers, not dtype {x.dtype}")
    if x.ndim < 2 or x.ndim > MAX_FEATURE_DIMS:
        raise DataError(f"'{name}': features '{key}' must have shape (n, d), (n, H, W) or "
                        f"(n, H, W, C), not {x.shape} ({x.ndim} dimensions)")
    if 0 in x.shape[1:]:
        raise DataError(f"'{name}': features '{key}' have shape {x.shape}: a sample has no "
                        "values (a zero-width dimension)")
    is_image = x.ndim >= 3
    shape = tuple(int(s) for s in x.shape[1:])
    if x.ndim == 3:
        shape = shape + (1,)
    if x.dtype == np.uint8:
        notes.append("uint8 pixel values were divided by 255")
        x = x.astype(np.float32) / 255.0
    return x.reshape(len(x), -1).astype(np.float64), shape, is_image


def finish_arrays(xs, ys, clients, name, notes, feature_names=None, label_names=None,
                  shape=None, is_image=False, task="classification") -> EncodedTable:
    X = np.concatenate(xs)
    y_raw = np.concatenate(ys)
    if y_raw.ndim != 1:
        raise DataError(f"'{name}': labels must be one value per sample, got shape {y_raw.shape}")
    if y_raw.dtype.kind == "f" and not np.isfinite(y_raw).all():
        raise DataError(f"'{name}': label of sample {int(np.flatnonzero(~np.isfinite(y_raw))[0])}"
                        " is missing (NaN) or infinite; every sample needs a label")
    if task == "regression":  # a single target name may come in label_names
        target = str(label_names[0]) if label_names is not None and len(label_names) == 1 \
            else "y"
        y, label_names = encode_target(pd.Series(y_raw), target, name)
    elif label_names is not None:
        label_names = [str(v) for v in label_names]
        if y_raw.dtype.kind not in "iu" or y_raw.min() < 0 or y_raw.max() >= len(label_names):
            raise DataError(f"'{name}': with label_names given, y must hold integers in "
                            f"0..{len(label_names) - 1}")
        y = y_raw.astype(np.int64)
        if len(np.unique(y)) < 2:
            raise DataError(f"'{name}': labels have only one class; a classifier needs two")
    else:
        y, label_names = encode_labels(pd.Series(y_raw), "y", name, DEFAULT_MAX_CLASSES)
    names = ([str(v) for v in feature_names] if feature_names is not None
             else [f"x{j}" for j in range(X.shape[1])])
    if len(names) != X.shape[1]:
        raise DataError(f"'{name}': {len(names)} feature_names for {X.shape[1]} features")
    X, names, imputed = impute_median(X, names, name, None, notes)
    if X.shape[1] == 0:
        raise DataError(f"'{name}': every feature is missing (NaN) in every sample; "
                        "nothing to learn from")
    if shape is None or int(np.prod(shape)) != X.shape[1]:
        shape, is_image = (X.shape[1],), False
    return EncodedTable(X.astype(np.float32), y, np.asarray(clients).astype(str), names,
                        label_names, notes, None, imputed, shape, is_image, task=task)


def read_npz(data: bytes, name: str, max_clients: int,
             task: str = "classification") -> EncodedTable:
    """Read an NPZ upload in either documented layout (see the module docstring)."""
    with open_zip(data, name) as zf:
        check_members(zf, name)
        headers = _array_headers(zf, name)
    _check_npz_memory(headers, name)
    try:
        npz = np.load(io.BytesIO(data), allow_pickle=False)
    except DECOMPRESSION_ERRORS as exc:
        raise DataError(f"file '{name}' is not a readable NPZ archive "
                        f"({one_line(exc)})") from None
    keys = set(npz.files)
    extra = {k: _load(npz, k, name, headers) for k in ("feature_names", "label_names") if k in keys}
    if {"x", "y"} <= keys:
        return _read_pooled_npz(npz, keys, name, headers, max_clients, extra, task)
    return _read_per_client_npz(npz, keys, name, headers, max_clients, extra, task)


def _read_pooled_npz(npz, keys: set, name: str, headers, max_clients: int,
                     extra: dict, task: str) -> EncodedTable:
    """Layout 1: pooled ``x``, ``y`` and one client id per row."""
    notes: list[str] = []
    client_key = "client" if "client" in keys else "clients" if "clients" in keys else None
    if client_key is None:
        raise DataError(f"NPZ '{name}' has 'x' and 'y' but no 'client' array (one client "
                        f"id per row); arrays found: {', '.join(sorted(keys))}")
    x, shape, is_image = _features(_load(npz, "x", name, headers), "x", name, notes)
    y, clients = _load(npz, "y", name, headers), _load(npz, client_key, name, headers)
    if not (len(x) == len(y) == len(clients)):
        raise DataError(f"NPZ '{name}': x, y and {client_key} must have the same length "
                        f"(got {len(x)}, {len(y)}, {len(clients)})")
    if len(np.unique(clients)) > max_clients:
        raise DataError(f"NPZ '{name}' has {len(np.unique(clients)):,} clients; the limit "
                        f"is {max_clients:,} (max_clients)")
    return finish_arrays([x], [y], clients, name, notes, extra.get("feature_names"),
                         extra.get("label_names"), shape, is_image, task)


def _read_per_client_npz(npz, keys: set, name: str, headers, max_clients: int,
                         extra: dict, task: str) -> EncodedTable:
    """Layout 2: arrays ``x_<id>`` / ``y_<id>`` per client."""
    ids = sorted(k[2:] for k in keys if k.startswith("x_"))
    if not ids:
        raise DataError(f"NPZ '{name}' has neither arrays 'x', 'y', 'client' nor per-client "
                        f"'x_<id>'/'y_<id>' arrays; found: {', '.join(sorted(keys)) or 'none'}")
    if len(ids) > max_clients:
        raise DataError(f"NPZ '{name}' has {len(ids):,} clients; the limit is "
                        f"{max_clients:,} (max_clients)")
    notes: list[str] = []
    xs, ys, clients, shape, is_image = [], [], [], None, False
    for cid in ids:
        x, y, shape_c, is_image = _client_arrays(npz, keys, cid, name, headers, notes)
        if shape is not None and shape_c != shape:
            raise DataError(f"NPZ '{name}': client '{cid}' samples have shape {shape_c}, "
                            f"others {shape}")
        shape = shape_c
        xs.append(x)
        ys.append(y)
        clients.extend([cid] * len(x))
    return finish_arrays(xs, ys, clients, name, sorted(set(notes)), extra.get("feature_names"),
                         extra.get("label_names"), shape, is_image, task)


def _client_arrays(npz, keys: set, cid: str, name: str, headers, notes: list[str]):
    """``(x, y, sample_shape, is_image)`` of one client of the per-client layout."""
    if f"y_{cid}" not in keys:
        raise DataError(f"NPZ '{name}': 'x_{cid}' has no matching 'y_{cid}'")
    raw = _load(npz, f"x_{cid}", name, headers)
    if len(raw) < MIN_CLIENT_SAMPLES:
        raise too_few_samples(cid, len(raw))
    x, shape_c, is_image = _features(raw, f"x_{cid}", name, notes)
    y = _load(npz, f"y_{cid}", name, headers)
    if len(x) != len(y):
        raise DataError(f"NPZ '{name}': client '{cid}' has {len(x)} rows in x_{cid} but "
                        f"{len(y)} labels in y_{cid}")
    return x, y, shape_c, is_image
