"""Read array uploads: NumPy ``.npz`` (never unpickled) and LEAF JSON.

NPZ layouts (loaded with ``allow_pickle=False``; object arrays are rejected)
----------------------------------------------------------------------------
1. Stacked: ``x`` (n, d) or images (n, H, W) / (n, H, W, C), ``y`` (n,) integers or
   strings, ``client`` (n,) client id of each row (strings or integers).
2. Per client: ``x_<id>`` and ``y_<id>`` for every client ``<id>``.

Optional in both: ``feature_names`` (d,) and ``label_names`` (K,) string arrays (then ``y``
must hold integers in ``0..K-1``). Save strings as fixed-width unicode
(``np.array(names, dtype=str)``), not as Python objects. ``uint8`` images are divided by
255; image arrays (3 or 4 dimensions) are flagged as images and not standardised.

LEAF JSON (Caldas et al., 2018, "LEAF: A Benchmark for Federated Settings")
--------------------------------------------------------------------------
``{"users": [...], "num_samples": [...], "user_data": {user: {"x": [...], "y": [...]}}}``;
``num_samples[i]`` must equal the number of samples of ``users[i]``. Flat rows whose
length is a square >= 64 with values in [0, 1] (FEMNIST) are treated as square images.
"""

from __future__ import annotations

import io
import json
import math

import numpy as np
import pandas as pd

from ..errors import DataError
from .readers_archive import DECOMPRESSION_ERRORS, check_members, open_zip
from .source import one_line
from .validation import (
    DEFAULT_MAX_CLASSES,
    MIN_CLIENT_SAMPLES,
    EncodedTable,
    encode_labels,
    impute_median,
    too_few_samples,
)

_PICKLE_HINT = ("FedLens never unpickles uploads: save numeric arrays, and strings as "
                "fixed-width unicode (np.array(names, dtype=str))")


def _load(npz, key: str, name: str) -> np.ndarray:
    try:
        arr = npz[key]
    except ValueError:
        raise DataError(f"NPZ '{name}': array '{key}' holds Python objects (pickled); "
                        + _PICKLE_HINT) from None
    except DECOMPRESSION_ERRORS as exc:
        raise DataError(f"NPZ '{name}': array '{key}' cannot be read "
                        f"({one_line(exc)})") from None
    if arr.dtype.kind == "O":
        raise DataError(f"NPZ '{name}': array '{key}' holds Python objects; " + _PICKLE_HINT)
    return arr


def _features(x: np.ndarray, key: str, name: str, notes: list[str]):
    """Validate a feature array; returns (flat float matrix, input_shape, is_image)."""
    if x.dtype.kind not in "biuf":
        raise DataError(f"'{name}': features '{key}' must be numbers, not dtype {x.dtype}")
    if x.ndim < 2:
        raise DataError(f"'{name}': features '{key}' must have shape (n, d) or (n, H, W), "
                        f"not {x.shape}")
    is_image = x.ndim >= 3
    shape = tuple(int(s) for s in x.shape[1:])
    if x.ndim == 3:
        shape = shape + (1,)
    if x.dtype == np.uint8:
        notes.append("uint8 pixel values were divided by 255")
        x = x.astype(np.float32) / 255.0
    return x.reshape(len(x), -1).astype(np.float64), shape, is_image


def _finish(xs, ys, clients, name, notes, feature_names=None, label_names=None,
            shape=None, is_image=False) -> EncodedTable:
    X = np.concatenate(xs)
    y_raw = np.concatenate(ys)
    if y_raw.ndim != 1:
        raise DataError(f"'{name}': labels must be one value per sample, got shape {y_raw.shape}")
    if label_names is not None:
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
    if shape is None or int(np.prod(shape)) != X.shape[1]:
        shape, is_image = (X.shape[1],), False
    return EncodedTable(X.astype(np.float32), y, np.asarray(clients).astype(str), names,
                        label_names, notes, None, imputed, shape, is_image)


def read_npz(data: bytes, name: str, max_clients: int) -> EncodedTable:
    """Read an NPZ upload in either documented layout (see the module docstring)."""
    with open_zip(data, name) as zf:
        check_members(zf, name)
    try:
        npz = np.load(io.BytesIO(data), allow_pickle=False)
    except DECOMPRESSION_ERRORS as exc:
        raise DataError(f"file '{name}' is not a readable NPZ archive "
                        f"({one_line(exc)})") from None
    keys = set(npz.files)
    notes: list[str] = []
    extra = {k: _load(npz, k, name) for k in ("feature_names", "label_names") if k in keys}
    if {"x", "y"} <= keys:
        client_key = "client" if "client" in keys else "clients" if "clients" in keys else None
        if client_key is None:
            raise DataError(f"NPZ '{name}' has 'x' and 'y' but no 'client' array (one client "
                            f"id per row); arrays found: {', '.join(sorted(keys))}")
        x, shape, is_image = _features(_load(npz, "x", name), "x", name, notes)
        y, clients = _load(npz, "y", name), _load(npz, client_key, name)
        if not (len(x) == len(y) == len(clients)):
            raise DataError(f"NPZ '{name}': x, y and {client_key} must have the same length "
                            f"(got {len(x)}, {len(y)}, {len(clients)})")
        if len(np.unique(clients)) > max_clients:
            raise DataError(f"NPZ '{name}' has {len(np.unique(clients)):,} clients; the limit "
                            f"is {max_clients:,} (max_clients)")
        return _finish([x], [y], clients, name, notes, extra.get("feature_names"),
                       extra.get("label_names"), shape, is_image)
    ids = sorted(k[2:] for k in keys if k.startswith("x_"))
    if not ids:
        raise DataError(f"NPZ '{name}' has neither arrays 'x', 'y', 'client' nor per-client "
                        f"'x_<id>'/'y_<id>' arrays; found: {', '.join(sorted(keys)) or 'none'}")
    if len(ids) > max_clients:
        raise DataError(f"NPZ '{name}' has {len(ids):,} clients; the limit is "
                        f"{max_clients:,} (max_clients)")
    xs, ys, clients, shape, is_image = [], [], [], None, False
    for cid in ids:
        if f"y_{cid}" not in keys:
            raise DataError(f"NPZ '{name}': 'x_{cid}' has no matching 'y_{cid}'")
        raw = _load(npz, f"x_{cid}", name)
        if len(raw) < MIN_CLIENT_SAMPLES:
            raise too_few_samples(cid, len(raw))
        x, shape_c, is_image = _features(raw, f"x_{cid}", name, notes)
        y = _load(npz, f"y_{cid}", name)
        if len(x) != len(y):
            raise DataError(f"NPZ '{name}': client '{cid}' has {len(x)} rows in x_{cid} but "
                            f"{len(y)} labels in y_{cid}")
        if shape is not None and shape_c != shape:
            raise DataError(f"NPZ '{name}': client '{cid}' samples have shape {shape_c}, "
                            f"others {shape}")
        shape = shape_c
        xs.append(x)
        ys.append(y)
        clients.extend([cid] * len(x))
    return _finish(xs, ys, clients, name, sorted(set(notes)), extra.get("feature_names"),
                   extra.get("label_names"), shape, is_image)


def read_leaf(data: bytes, name: str, max_clients: int) -> EncodedTable:
    """Read a LEAF JSON file, checking ``num_samples`` against the data."""
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise DataError(f"file '{name}' is not UTF-8 text (byte {exc.start}); LEAF JSON "
                        "must be UTF-8") from None
    except json.JSONDecodeError as exc:
        raise DataError(f"file '{name}' is not valid JSON (line {exc.lineno}, column "
                        f"{exc.colno}: {exc.msg})") from None
    if not isinstance(doc, dict) or not {"users", "user_data"} <= set(doc):
        raise DataError(f"JSON '{name}' is not in LEAF format: it needs 'users', "
                        "'num_samples' and 'user_data'")
    users, user_data = doc["users"], doc["user_data"]
    counts = doc.get("num_samples")
    if not isinstance(users, list) or not isinstance(user_data, dict):
        raise DataError(f"LEAF '{name}': 'users' must be a list and 'user_data' an object")
    if len(set(map(str, users))) != len(users):
        raise DataError(f"LEAF '{name}': 'users' lists the same user twice")
    if counts is not None and len(counts) != len(users):
        raise DataError(f"LEAF '{name}': {len(users)} users but {len(counts)} num_samples "
                        "entries")
    if len(users) > max_clients:
        raise DataError(f"LEAF '{name}' has {len(users):,} users; the limit is "
                        f"{max_clients:,} (max_clients)")
    xs, ys, clients, notes = [], [], [], []
    for i, user in enumerate(users):
        entry = user_data.get(user)
        if not isinstance(entry, dict) or "x" not in entry or "y" not in entry:
            raise DataError(f"LEAF '{name}': user '{user}' has no 'x'/'y' in user_data")
        n_x, n_y = len(entry["x"]), len(entry["y"])
        if n_x != n_y or (counts is not None and counts[i] != n_x):
            declared = f"num_samples says {counts[i]}, " if counts is not None else ""
            raise DataError(f"LEAF '{name}': inconsistent counts for user '{user}' "
                            f"({declared}x has {n_x}, y has {n_y})")
        if n_x < MIN_CLIENT_SAMPLES:
            raise too_few_samples(str(user), n_x)
        try:
            x = np.asarray(entry["x"], dtype=np.float64)
        except (ValueError, TypeError):
            raise DataError(f"LEAF '{name}': user '{user}' has rows of different lengths "
                            "or non-numeric features") from None
        xs.append(x.reshape(n_x, -1) if n_x else x.reshape(0, -1))
        ys.append(np.asarray(entry["y"]))
        clients.extend([str(user)] * n_x)
    if not xs:
        raise DataError(f"LEAF '{name}' holds no users")
    widths = {x.shape[1] for x in xs}
    if len(widths) > 1:
        raise DataError(f"LEAF '{name}': users have different numbers of features "
                        f"{sorted(widths)}")
    d = widths.pop()
    side = math.isqrt(d)
    flat = np.concatenate(xs)
    shape, is_image = None, False
    if side * side == d and d >= 64 and flat.min() >= 0 and flat.max() <= 1:
        shape, is_image = (side, side, 1), True
        notes.append(f"rows of {d} values in [0, 1] read as {side}x{side} images")
    return _finish(xs, ys, clients, name, notes, shape=shape, is_image=is_image)
