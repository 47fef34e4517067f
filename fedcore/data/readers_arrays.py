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
import sys

import numpy as np
import pandas as pd

from ..dataset import MIN_CLIENT_SAMPLES, too_few_samples
from ..errors import DataError
from .limits import JSON_BYTES_PER_VALUE, check_budget, one_line, safe_name
from .readers_archive import DECOMPRESSION_ERRORS, check_members, open_zip
from .validation import (
    DEFAULT_MAX_CLASSES,
    EncodedTable,
    encode_labels,
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


def _finish(xs, ys, clients, name, notes, feature_names=None, label_names=None,
            shape=None, is_image=False) -> EncodedTable:
    X = np.concatenate(xs)
    y_raw = np.concatenate(ys)
    if y_raw.ndim != 1:
        raise DataError(f"'{name}': labels must be one value per sample, got shape {y_raw.shape}")
    if y_raw.dtype.kind == "f" and not np.isfinite(y_raw).all():
        raise DataError(f"'{name}': label of sample {int(np.flatnonzero(~np.isfinite(y_raw))[0])}"
                        " is missing (NaN) or infinite; every sample needs a label")
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
    if X.shape[1] == 0:
        raise DataError(f"'{name}': every feature is missing (NaN) in every sample; "
                        "nothing to learn from")
    if shape is None or int(np.prod(shape)) != X.shape[1]:
        shape, is_image = (X.shape[1],), False
    return EncodedTable(X.astype(np.float32), y, np.asarray(clients).astype(str), names,
                        label_names, notes, None, imputed, shape, is_image)


def read_npz(data: bytes, name: str, max_clients: int) -> EncodedTable:
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
    notes: list[str] = []
    extra = {k: _load(npz, k, name, headers) for k in ("feature_names", "label_names") if k in keys}
    if {"x", "y"} <= keys:
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
        raw = _load(npz, f"x_{cid}", name, headers)
        if len(raw) < MIN_CLIENT_SAMPLES:
            raise too_few_samples(cid, len(raw))
        x, shape_c, is_image = _features(raw, f"x_{cid}", name, notes)
        y = _load(npz, f"y_{cid}", name, headers)
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


def _json_type(value) -> str:
    names = {str: "text", bool: "true/false", dict: "an object", list: "a list",
             type(None): "null", float: "a number", int: "a number"}
    return names.get(type(value), type(value).__name__)


def _first_bad_value(rows: list, width: int | None) -> tuple[int, str] | None:
    """(sample index, problem) of the first LEAF sample that is not a row of numbers."""
    for i, row in enumerate(rows):
        flat, stack = [], [row]
        while stack:
            item = stack.pop()
            if isinstance(item, list):
                stack.extend(item)
            else:
                flat.append(item)
        for v in flat:
            if not isinstance(v, int | float):  # true/false are 1/0, as in CSV files
                return i, f"holds {_json_type(v)} '{safe_name(v, 40)}', not a number"
            if isinstance(v, int) and abs(v) > sys.float_info.max:
                return i, f"holds an integer with {len(str(abs(v)))} digits (too large)"
        if width is not None and len(flat) != width:
            return i, f"has {len(flat)} values, the first sample has {width}"
        width = len(flat) if width is None else width
    return None


def _leaf_features(rows, user: str, name: str) -> np.ndarray:
    if not isinstance(rows, list):
        raise DataError(f"LEAF '{name}': user '{user}': 'x' must be a list of samples, not "
                        f"{_json_type(rows)}")
    if not rows:
        return np.zeros((0, 0))
    try:  # fast path: a regular block of numbers (no text, booleans or huge integers)
        x = np.asarray(rows)
    except (ValueError, TypeError, OverflowError):
        x = None
    if x is None or x.dtype.kind not in "iuf":
        bad = _first_bad_value(rows, None)
        if bad is not None:
            raise DataError(f"LEAF '{name}': user '{user}' sample {bad[0]} {bad[1]}")
        raise DataError(f"LEAF '{name}': user '{user}' has samples of different shapes")
    return x.astype(np.float64).reshape(len(rows), -1)


def _leaf_labels(labels, user: str, name: str) -> list:
    if not isinstance(labels, list):
        raise DataError(f"LEAF '{name}': user '{user}': 'y' must be a list of labels, not "
                        f"{_json_type(labels)}")
    for i, v in enumerate(labels):
        if isinstance(v, float) and not math.isfinite(v):
            raise DataError(f"LEAF '{name}': user '{user}' label {i} is {v} (missing or "
                            "infinite); every sample needs a label")
        if isinstance(v, bool) or not isinstance(v, str | int | float):
            raise DataError(f"LEAF '{name}': user '{user}' label {i} is {_json_type(v)}; "
                            "labels must be numbers or text")
        if isinstance(v, int) and abs(v) >= 2**63:
            raise DataError(f"LEAF '{name}': user '{user}' label {i} is an integer with "
                            f"{len(str(abs(v)))} digits (too large)")
    return labels


def _leaf_users(doc: dict, name: str) -> tuple[list[str], list | None]:
    """User keys (numbers given in 'users' are looked up as their text) and counts."""
    users, counts = doc["users"], doc.get("num_samples")
    if not isinstance(users, list) or not isinstance(doc["user_data"], dict):
        raise DataError(f"LEAF '{name}': 'users' must be a list and 'user_data' an object")
    keys = []
    for i, user in enumerate(users):
        if isinstance(user, bool) or not isinstance(user, str | int):
            raise DataError(f"LEAF '{name}': users[{i}] is {_json_type(user)}; user ids "
                            "must be text or integers")
        keys.append(user if isinstance(user, str) else str(user))
    if len(set(keys)) != len(keys):
        raise DataError(f"LEAF '{name}': 'users' lists the same user twice")
    if counts is not None:
        if not isinstance(counts, list):
            raise DataError(f"LEAF '{name}': 'num_samples' must be a list of integers, not "
                            f"{_json_type(counts)}")
        for i, c in enumerate(counts):
            if isinstance(c, bool) or not isinstance(c, int) or c < 0:
                raise DataError(f"LEAF '{name}': num_samples[{i}] is {_json_type(c)} "
                                f"'{safe_name(c, 40)}'; expected a count (an integer >= 0)")
        if len(counts) != len(users):
            raise DataError(f"LEAF '{name}': {len(users)} users but {len(counts)} "
                            "num_samples entries")
    return keys, counts


def read_leaf(data: bytes, name: str, max_clients: int) -> EncodedTable:
    """Read a LEAF JSON file, checking ``num_samples`` against the data."""
    check_budget(name, 2 * len(data) + JSON_BYTES_PER_VALUE * (data.count(b",") + 1),
                 "the JSON values as Python objects")
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise DataError(f"file '{name}' is not UTF-8 text (byte {exc.start}); LEAF JSON "
                        "must be UTF-8") from None
    except json.JSONDecodeError as exc:
        raise DataError(f"file '{name}' is not valid JSON (line {exc.lineno}, column "
                        f"{exc.colno}: {exc.msg})") from None
    except RecursionError:
        raise DataError(f"file '{name}' nests JSON lists or objects too deeply") from None
    if not isinstance(doc, dict) or not {"users", "user_data"} <= set(doc):
        raise DataError(f"JSON '{name}' is not in LEAF format: it needs 'users', "
                        "'num_samples' and 'user_data'")
    users, counts = _leaf_users(doc, name)
    user_data = doc["user_data"]
    if len(users) > max_clients:
        raise DataError(f"LEAF '{name}' has {len(users):,} users; the limit is "
                        f"{max_clients:,} (max_clients)")
    xs, ys, clients, notes = [], [], [], []
    for i, user in enumerate(users):
        entry = user_data.get(user)
        shown = safe_name(user)
        if not isinstance(entry, dict) or "x" not in entry or "y" not in entry:
            raise DataError(f"LEAF '{name}': user '{shown}' has no 'x'/'y' in user_data")
        x = _leaf_features(entry["x"], shown, name)
        y = _leaf_labels(entry["y"], shown, name)
        n_x, n_y = len(x), len(y)
        if n_x != n_y or (counts is not None and counts[i] != n_x):
            declared = f"num_samples says {counts[i]}, " if counts is not None else ""
            raise DataError(f"LEAF '{name}': inconsistent counts for user '{shown}' "
                            f"({declared}x has {n_x}, y has {n_y})")
        if n_x < MIN_CLIENT_SAMPLES:
            raise too_few_samples(shown, n_x)
        xs.append(x)
        ys.append(np.asarray(y, dtype=object))
        clients.extend([user] * n_x)
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
    if side * side == d and d >= 64 and np.nanmin(flat) >= 0 and np.nanmax(flat) <= 1:
        shape, is_image = (side, side, 1), True
        notes.append(f"rows of {d} values in [0, 1] read as {side}x{side} images")
    return _finish(xs, ys, clients, name, notes, shape=shape, is_image=is_image)
