"""Read an exchange record (single ``.npz``, a directory, or its uploaded files), safely.

Everything is checked before anything is kept: sizes before parsing, the NPZ's members
before decompressing (zip bombs), ``np.load(allow_pickle=False)`` (object arrays are refused,
never unpickled), then every shape, id and value (:func:`fedcore.interop.exchange.validate`).
Each problem is one :class:`~fedcore.errors.DataError` line.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path, PurePosixPath

import numpy as np
import pandas as pd

from ..data.readers_archive import DECOMPRESSION_ERRORS, check_members
from ..data.source import human_size, one_line
from ..errors import DataError
from .exchange import ARRAY_KEYS, FILE_KEYS, FORMAT_NAME, FORMAT_VERSION, Exchange

#: Largest exchange file (or directory) read: 2 GiB.
MAX_BYTES = 2 * 2**30
METRICS_FILES = ("metrics.parquet", "metrics.csv")
_PICKLE_HINT = ("FedLens never unpickles: save numbers as numeric arrays and ids as "
                "np.array(ids, dtype=str)")


def _fail(msg: str):
    raise DataError(f"exchange: {msg}")


def _check_size(name: str, size: int, max_bytes: int) -> None:
    if size > max_bytes:
        _fail(f"'{name}' is {human_size(size)}; the limit is {human_size(max_bytes)}")


def load_npz(data: bytes, name: str, max_bytes: int = MAX_BYTES) -> dict[str, np.ndarray]:
    """Every array of an NPZ held in memory, without pickles and within ``max_bytes``."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            # NaN rows (clients that did not train) compress extremely well: cap the total,
            # not the ratio.
            check_members(zf, name, max_total=max_bytes, max_ratio=float("inf"))
    except zipfile.BadZipFile:
        _fail(f"'{name}' is not an NPZ file (np.savez / np.savez_compressed)")
    except DataError as exc:
        _fail(str(exc))
    out = {}
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            for key in npz.files:
                try:
                    arr = npz[key]
                except ValueError:
                    _fail(f"'{name}': array '{key}' holds pickled Python objects; "
                          + _PICKLE_HINT)
                if arr.dtype.kind == "O":
                    _fail(f"'{name}': array '{key}' holds Python objects; " + _PICKLE_HINT)
                out[key] = arr
    except DataError:
        raise
    except DECOMPRESSION_ERRORS as exc:
        _fail(f"'{name}' cannot be read ({type(exc).__name__}: {one_line(exc, 200)})")
    return out


def _manifest(obj, where: str) -> dict:
    if isinstance(obj, bytes | str):
        try:
            obj = json.loads(obj)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            _fail(f"{where} is not valid JSON ({one_line(exc, 120)})")
    if not isinstance(obj, dict) or obj.get("format") != FORMAT_NAME:
        _fail(f"{where} is not a FedLens exchange manifest (needs \"format\": "
              f"\"{FORMAT_NAME}\")")
    version = obj.get("format_version")
    if not isinstance(version, int) or version < 1:
        _fail(f"{where}: 'format_version' must be a positive integer, not {version!r}")
    if version > FORMAT_VERSION:
        _fail(f"format_version {version} was written by a newer FedLens; this one reads "
              f"up to {FORMAT_VERSION} (update FedLens)")
    return obj


def _metrics_table(name: str, data: bytes, client_ids: list[str], rounds: np.ndarray):
    """Long ``round, client, accuracy[, loss]`` table -> (R, N) accuracy and loss arrays."""
    try:
        if name.endswith(".parquet"):
            df = pd.read_parquet(io.BytesIO(data))
            if "client" in df.columns:
                df["client"] = df["client"].astype(str)
        else:
            df = pd.read_csv(io.BytesIO(data), dtype={"client": str})
    except Exception as exc:  # noqa: BLE001 - any parser failure is the file's fault
        _fail(f"'{name}' cannot be read ({type(exc).__name__}: {one_line(exc, 160)})")
    missing = {"round", "client", "accuracy"} - set(df.columns)
    if missing:
        _fail(f"'{name}' lacks column(s) {', '.join(sorted(missing))} "
              "(needs round, client, accuracy[, loss])")
    unknown = sorted(set(df["client"]) - set(client_ids))
    if unknown:
        _fail(f"'{name}' names client(s) not in client_ids: {', '.join(unknown[:5])}")
    if df.duplicated(["round", "client"]).any():
        r, c = df.loc[df.duplicated(["round", "client"]), ["round", "client"]].iloc[0]
        _fail(f"'{name}' has two rows for round {r}, client {c!r}")
    pos = {int(r): i for i, r in enumerate(rounds)}
    try:
        rows = np.array([pos[int(r)] for r in df["round"]], dtype=np.int64)
    except (KeyError, ValueError, TypeError):
        _fail(f"'{name}' has rounds that are not the recorded rounds "
              f"{rounds[0]}..{rounds[-1]}")
    cols = df["client"].map({c: i for i, c in enumerate(client_ids)}).to_numpy(np.int64)
    out = []
    for col in ("accuracy", "loss"):
        arr = np.full((len(rounds), len(client_ids)), np.nan)
        if col in df.columns:
            arr[rows, cols] = pd.to_numeric(df[col], errors="coerce").to_numpy(float)
        out.append(arr)
    return out


def exchange_from_parts(arrays: dict, manifest: dict, files: dict[str, bytes] | None = None,
                        where: str = "exchange") -> Exchange:
    """Validate loaded arrays + manifest (+ sidecar files) into an :class:`Exchange`."""
    files = files or {}
    unknown = sorted(set(arrays) - set(ARRAY_KEYS) - set(FILE_KEYS))
    if unknown:
        _fail(f"{where}: unknown array(s) {', '.join(unknown[:5])}; known: "
              + ", ".join(ARRAY_KEYS))
    for key in ("client_ids", "assignments"):
        if key not in arrays:
            _fail(f"{where}: required array '{key}' is missing")
    ids = arrays["client_ids"]
    if ids.dtype.kind not in "UST" and ids.dtype.kind not in "iu":
        _fail(f"'client_ids' must be strings, not {ids.dtype}")
    if ids.ndim != 1:
        _fail(f"'client_ids' has shape {ids.shape}; expected (clients,)")
    ids = [x.decode() if isinstance(x, bytes) else str(x) for x in ids.tolist()]
    n_rounds = 1 if np.ndim(arrays["assignments"]) == 1 else np.shape(arrays["assignments"])[0]
    rounds = arrays.get("rounds", np.arange(1, n_rounds + 1))
    accuracy, loss = arrays.get("accuracy"), arrays.get("loss")
    sidecar = [f for f in METRICS_FILES if f in files]
    if sidecar:
        if accuracy is not None:
            _fail(f"{where}: accuracy given twice ('accuracy' array and {sidecar[0]})")
        if len(np.shape(rounds)) != 1 or len(rounds) != n_rounds:
            _fail(f"'rounds' has shape {np.shape(rounds)}; expected ({n_rounds},)")
        accuracy, loss = _metrics_table(sidecar[0], files[sidecar[0]], ids, np.asarray(rounds))
    if accuracy is None:
        _fail(f"{where}: per-client 'accuracy' is missing (an array or metrics.parquet/csv)")
    data = _client_data(manifest, arrays, files, where)
    reps = {k: arrays[k] for k in ("updates", "weights") if k in arrays}
    options = {k: v for k, v in (manifest.get("client_data") or {}).items() if k != "file"}
    return Exchange(client_ids=ids, assignments=arrays["assignments"], accuracy=accuracy,
                    loss=loss, representations=reps, method=manifest.get("method") or "imported",
                    params=manifest.get("params") or {},
                    framework=str(manifest.get("framework") or ""),
                    description=str(manifest.get("description") or ""),
                    true_groups=arrays.get("true_groups"),
                    num_examples=arrays.get("num_examples"), rounds=arrays.get("rounds"),
                    client_data=data, data_options=options)


def _client_data(manifest: dict, arrays: dict, files: dict, where: str):
    spec = manifest.get("client_data")
    if not spec:
        if "client_data" in arrays:
            _fail(f"{where}: 'client_data' bytes without a manifest 'client_data' entry")
        return None
    if not isinstance(spec, dict) or not isinstance(spec.get("file"), str):
        _fail(f"{where}: manifest 'client_data' must be an object with a 'file' name")
    name = spec["file"]
    if PurePosixPath(name).name != name or name.startswith(".") or "\\" in name:
        _fail(f"{where}: client data file {name!r} must be a plain file name")
    allowed = {"file", "client_column", "label_column", "test_fraction", "seed"}
    extra = sorted(set(spec) - allowed)
    if extra:
        _fail(f"{where}: unknown client_data option(s) {', '.join(extra)}")
    if "client_data" in arrays:
        raw = arrays["client_data"]
        if raw.dtype != np.uint8 or raw.ndim != 1:
            _fail("'client_data' must be the file's bytes as a 1-D uint8 array")
        return name, raw.tobytes()
    if name not in files:
        _fail(f"{where}: client data file '{name}' named in the manifest is missing")
    return name, files[name]


def read_exchange(obj, filename: str | None = None, max_bytes: int = MAX_BYTES) -> Exchange:
    """Read and validate an exchange record.

    Parameters
    ----------
    obj : path, bytes or file-like, or dict of file name -> bytes
        A ``.npz`` file (single-file form), a directory (or the dict of its files, e.g. an
        upload of several files), or the bytes / uploaded file of a ``.npz``.
    filename : str, optional
        Name of ``obj`` when it is bytes.
    max_bytes : int
        Larger inputs are refused before parsing.

    Raises
    ------
    DataError
        One line naming what is wrong; nothing is returned.
    """
    if isinstance(obj, dict):
        return _from_files(obj, "uploaded files", max_bytes)
    if isinstance(obj, str | Path) and Path(obj).is_dir():
        root = Path(obj)
        files = {}
        total = sum(p.stat().st_size for p in root.iterdir() if p.is_file())
        _check_size(root.name, total, max_bytes)
        for p in root.iterdir():
            if p.is_file() and not p.name.startswith("."):
                files[p.name] = p.read_bytes()
        return _from_files(files, f"directory '{root.name}'", max_bytes)
    name, data = _read_bytes(obj, filename, max_bytes)
    if not name.lower().endswith(".npz"):
        _fail(f"'{name}': expected a .npz file or a directory (manifest.json + arrays.npz)")
    arrays = load_npz(data, name, max_bytes)
    if "manifest" not in arrays:
        _fail(f"'{name}' has no 'manifest' array; is it a FedLens exchange file?")
    manifest = _manifest(str(arrays["manifest"]), f"'{name}' manifest")
    return exchange_from_parts(arrays, manifest, where=f"'{name}'")


def _from_files(files: dict[str, bytes], where: str, max_bytes: int) -> Exchange:
    files = {PurePosixPath(str(k)).name: bytes(v) for k, v in files.items()}
    _check_size(where, sum(len(v) for v in files.values()), max_bytes)
    npz = [k for k in files if k.lower().endswith(".npz")]
    if "manifest.json" not in files:
        if len(files) == 1 and npz:
            return read_exchange(files[npz[0]], npz[0], max_bytes)
        _fail(f"{where}: no manifest.json (or give a single .npz exchange file)")
    manifest = _manifest(files["manifest.json"], "manifest.json")
    if "arrays.npz" not in files:
        _fail(f"{where}: arrays.npz is missing next to manifest.json")
    arrays = load_npz(files["arrays.npz"], "arrays.npz", max_bytes)
    if "manifest" in arrays:
        _fail("arrays.npz must not hold a 'manifest' array (it is manifest.json)")
    return exchange_from_parts(arrays, manifest, files, where)


def _read_bytes(obj, filename: str | None, max_bytes: int) -> tuple[str, bytes]:
    if isinstance(obj, str | Path):
        path = Path(obj)
        if not path.is_file():
            _fail(f"'{path}' not found")
        _check_size(path.name, path.stat().st_size, max_bytes)
        return filename or path.name, path.read_bytes()
    if isinstance(obj, bytes | bytearray | memoryview):
        _check_size(filename or "upload", len(obj), max_bytes)
        return filename or "upload.npz", bytes(obj)
    if hasattr(obj, "read"):
        name = Path(filename or getattr(obj, "name", None) or "upload.npz").name
        declared = getattr(obj, "size", None)
        if isinstance(declared, int):
            _check_size(name, declared, max_bytes)
        data = obj.read(max_bytes + 1)
        _check_size(name, len(data), max_bytes)
        return name, bytes(data)
    _fail(f"cannot read an exchange from {type(obj).__name__}")
