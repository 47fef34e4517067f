"""How a stored run is written: JSON that round-trips numpy values, and typed CSV tables.

Diagnostics stay readable JSON while arrays (large ones in the run's ``.npz``), their dtypes
and integer dict keys survive a save/load round trip; tables keep their dtypes and their text
columns exactly as written (:mod:`fedcore.csv_safe`).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from .csv_safe import restore_frame
from .errors import DataError

#: Diagnostics arrays with more elements than this go to the ``.npz``, not the JSON.
LARGE_ARRAY = 4096


def to_jsonable(obj):
    """Numpy scalars/arrays, tuples and Paths -> plain JSON types (recursively)."""
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, Path):
        return str(obj)
    return obj


def write_json(path: Path, obj) -> None:
    path.write_text(json.dumps(to_jsonable(obj), indent=2, sort_keys=False) + "\n")


def read_json(path: Path):
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise DataError(f"{path}: missing (is this a FedLens run directory?)") from None
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}: not valid JSON ({exc})") from None


# ---- diagnostics: readable JSON that still round-trips arrays, dtypes and int keys ----------

def encode_diagnostics(obj, arrays: dict, index: list, path: list):
    """JSON-able copy of ``obj``; large arrays go to ``arrays``, their place to ``index``."""
    if isinstance(obj, np.ndarray) and obj.dtype != object:
        entry = {"path": path, "kind": "array", "dtype": obj.dtype.str, "shape": list(obj.shape)}
        index.append(entry)
        if obj.size > LARGE_ARRAY:
            key = f"diag__{len(arrays)}"
            arrays[key] = obj
            return {"$npz": key}
        return obj.tolist()
    if isinstance(obj, dict):
        if any(isinstance(k, int | np.integer) for k in obj):
            index.append({"path": path, "kind": "intkeys"})
        return {str(k): encode_diagnostics(v, arrays, index, path + [str(k)])
                for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [encode_diagnostics(v, arrays, index, path + [i]) for i, v in enumerate(obj)]
    return to_jsonable(obj)


def _parent_of(root, path):
    node = root
    for step in path[:-1]:
        node = node[step]
    return node


def decode_diagnostics(obj, npz, index: list):
    """Inverse of :func:`encode_diagnostics` (arrays from ``npz``, int keys restored)."""
    # Deepest paths first so a dict's int keys are restored after its values were rebuilt.
    for entry in sorted(index, key=lambda e: -len(e["path"])):
        path = entry["path"]
        parent = _parent_of(obj, path) if path else None
        value = parent[path[-1]] if path else obj
        if entry["kind"] == "array":
            if isinstance(value, dict) and "$npz" in value:
                value = npz[value["$npz"]]
            else:
                value = np.asarray(value, dtype=np.dtype(entry["dtype"]))
                value = value.reshape(entry["shape"])
        else:
            value = {int(k): v for k, v in value.items()}
        if path:
            parent[path[-1]] = value
        else:
            obj = value
    return obj


# ---- tables ---------------------------------------------------------------------------------

def table_dtypes(df: pd.DataFrame) -> dict:
    """``{column: dtype name}``, stored beside a table to restore it."""
    return {str(c): str(t) for c, t in df.dtypes.items()}


def read_table(path: Path, dtypes: dict) -> pd.DataFrame:
    """A CSV written by the store, with the dtypes recorded by :func:`table_dtypes`."""
    text_cols = {c: str for c, t in dtypes.items() if t in ("object", "str", "string")}
    df = restore_frame(pd.read_csv(path, dtype=text_cols, keep_default_na=True), text_cols)
    for col, dtype in dtypes.items():
        if col in df.columns and col not in text_cols:
            try:
                df[col] = df[col].astype(dtype)
            except (TypeError, ValueError):
                pass  # e.g. an all-NaN int column; keep what pandas parsed
    return df
