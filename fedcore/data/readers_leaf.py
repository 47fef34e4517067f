"""Read LEAF JSON uploads.

LEAF JSON (Caldas et al., 2018, "LEAF: A Benchmark for Federated Settings")
--------------------------------------------------------------------------
``{"users": [...], "num_samples": [...], "user_data": {user: {"x": [...], "y": [...]}}}``;
``num_samples[i]`` must equal the number of samples of ``users[i]``. Flat rows whose
length is a square >= 64 with values in [0, 1] (FEMNIST) are treated as square images.

Users may be text or integers (JSON object keys are text, so ``users: [1, 2]`` reads
``user_data["1"]``); features must be numbers (``true``/``false`` read as 1/0); labels
numbers or text. The memory the parsed values take is checked before parsing.
"""

from __future__ import annotations

import json
import math
import sys

import numpy as np

from ..dataset import MIN_CLIENT_SAMPLES, too_few_samples
from ..errors import DataError
from .limits import JSON_BYTES_PER_VALUE, check_budget, safe_name
from .readers_arrays import finish_arrays
from .validation import EncodedTable


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


def _parse_leaf_json(data: bytes, name: str) -> dict:
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
    return doc


def _leaf_user(entry, shown: str, declared_count: int | None, name: str):
    """``(x, y)`` of one LEAF user, checked against its declared ``num_samples``."""
    if not isinstance(entry, dict) or "x" not in entry or "y" not in entry:
        raise DataError(f"LEAF '{name}': user '{shown}' has no 'x'/'y' in user_data")
    x = _leaf_features(entry["x"], shown, name)
    y = _leaf_labels(entry["y"], shown, name)
    n_x, n_y = len(x), len(y)
    if n_x != n_y or (declared_count is not None and declared_count != n_x):
        declared = f"num_samples says {declared_count}, " if declared_count is not None else ""
        raise DataError(f"LEAF '{name}': inconsistent counts for user '{shown}' "
                        f"({declared}x has {n_x}, y has {n_y})")
    if n_x < MIN_CLIENT_SAMPLES:
        raise too_few_samples(shown, n_x)
    return x, np.asarray(y, dtype=object)


def _leaf_image_shape(xs: list[np.ndarray], name: str, notes: list[str]):
    """``(shape, is_image)``: square rows of >= 64 values in [0, 1] are grey images."""
    widths = {x.shape[1] for x in xs}
    if len(widths) > 1:
        raise DataError(f"LEAF '{name}': users have different numbers of features "
                        f"{sorted(widths)}")
    d = widths.pop()
    side = math.isqrt(d)
    flat = np.concatenate(xs)
    if side * side == d and d >= 64 and np.nanmin(flat) >= 0 and np.nanmax(flat) <= 1:
        notes.append(f"rows of {d} values in [0, 1] read as {side}x{side} images")
        return (side, side, 1), True
    return None, False


def read_leaf(data: bytes, name: str, max_clients: int,
              task: str = "classification") -> EncodedTable:
    """Read a LEAF JSON file, checking ``num_samples`` against the data."""
    doc = _parse_leaf_json(data, name)
    users, counts = _leaf_users(doc, name)
    user_data = doc["user_data"]
    if len(users) > max_clients:
        raise DataError(f"LEAF '{name}' has {len(users):,} users; the limit is "
                        f"{max_clients:,} (max_clients)")
    xs, ys, clients, notes = [], [], [], []
    for i, user in enumerate(users):
        x, y = _leaf_user(user_data.get(user), safe_name(user),
                          None if counts is None else counts[i], name)
        xs.append(x)
        ys.append(y)
        clients.extend([user] * len(x))
    if not xs:
        raise DataError(f"LEAF '{name}' holds no users")
    shape, is_image = _leaf_image_shape(xs, name, notes)
    return finish_arrays(xs, ys, clients, name, notes, shape=shape, is_image=is_image,
                         task=task)
