"""The FedLens exchange format (version 1): results of an FL run made by any framework.

A run made elsewhere (PyTorch, JAX, a plain NumPy loop, Flower) is written as

* ONE ``.npz`` file: the arrays below plus ``manifest`` (a 0-d unicode array holding the
  manifest JSON) and, optionally, ``client_data`` (the bytes of a data file, uint8); or
* a DIRECTORY (or a ``.zip`` of it): ``manifest.json`` + ``arrays.npz`` (same arrays),
  optionally ``metrics.parquet`` / ``metrics.csv`` (long table ``round, client, accuracy
  [, loss]`` instead of the ``accuracy``/``loss`` arrays) and the client data file named in
  the manifest.

Nothing is ever pickled: files are read with ``np.load(allow_pickle=False)``; strings are
fixed-width unicode arrays. N clients, R recorded rounds, P parameters (any length):

========================  =========================  ========================================
array                     shape, dtype               meaning
========================  =========================  ========================================
``client_ids``            (N,) str                   unique client ids (required)
``assignments``           (R, N) int >= 0            cluster of each client after each round
                                                     (required; (N,) means one round)
``accuracy``              (R, N) float in [0, 1]     each client's test accuracy under its
                                                     cluster's model; NaN = not evaluated
``loss``                  (R, N) float               test loss, NaN = not evaluated (optional)
``updates``, ``weights``  (N, P) or (R, N, P) float  flattened local update / local weights;
                                                     (N, P) = last round only; in (R, N, P) an
                                                     all-NaN row = client did not train then.
                                                     At least one of the two is required.
``true_groups``           (N,) int                   known grouping (optional)
``num_examples``          (N,) int >= 0              training examples per client (optional)
``rounds``                (R,) int, increasing       round numbers (optional, default 1..R)
========================  =========================  ========================================

Manifest keys: ``format`` (``"fedlens-exchange"``), ``format_version`` (1), ``method`` (free
text), ``params`` (free JSON object), optional ``framework``, ``description`` and
``client_data`` = ``{"file", "client_column", "label_column", "test_fraction", "seed"}``
(a file in any upload format FedLens reads; its clients must be exactly ``client_ids``).
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import DataError

FORMAT_NAME = "fedlens-exchange"
FORMAT_VERSION = 1
REPRESENTATIONS = ("updates", "weights")
ARRAY_KEYS = ("client_ids", "assignments", "accuracy", "loss", *REPRESENTATIONS,
              "true_groups", "num_examples", "rounds")
#: Keys of the single-file form that are not result arrays.
FILE_KEYS = ("manifest", "client_data")
#: Representations above this many floats are refused (4 GB of float32).
MAX_FLOATS = 10**9


@dataclass
class Exchange:
    """A validated exchange record in memory (see the module docstring for the fields).

    ``representations`` maps ``updates``/``weights`` to an (R, N, P) array (NaN rows = no
    result that round) or an (N, P) array (last round only). ``client_data`` is
    ``(file name, bytes)`` or None.
    """

    client_ids: list[str]
    assignments: np.ndarray
    accuracy: np.ndarray
    loss: np.ndarray
    representations: dict[str, np.ndarray]
    method: str = "imported"
    params: dict = field(default_factory=dict)
    framework: str = ""
    description: str = ""
    true_groups: np.ndarray | None = None
    num_examples: np.ndarray | None = None
    rounds: np.ndarray | None = None
    client_data: tuple[str, bytes] | None = None
    data_options: dict = field(default_factory=dict)

    def __post_init__(self):
        validate(self)

    @property
    def n_clients(self) -> int:
        return len(self.client_ids)

    @property
    def n_rounds(self) -> int:
        return int(self.assignments.shape[0])

    def latest(self, name: str) -> np.ndarray:
        """(N, P): each client's most recent vector of representation ``name``."""
        arr = self.representations[name]
        if arr.ndim == 2:
            return arr
        out = np.full(arr.shape[1:], np.nan, dtype=arr.dtype)
        for r in range(arr.shape[0]):
            ok = ~np.isnan(arr[r]).all(axis=1)
            out[ok] = arr[r][ok]
        return out

    def manifest(self) -> dict:
        data = None
        if self.client_data is not None:
            data = {"file": self.client_data[0], **self.data_options}
        return {"format": FORMAT_NAME, "format_version": FORMAT_VERSION,
                "method": self.method, "params": self.params, "framework": self.framework,
                "description": self.description, "client_data": data}

    def arrays(self) -> dict[str, np.ndarray]:
        out = {"client_ids": np.asarray(self.client_ids, dtype=str),
               "assignments": self.assignments, "accuracy": self.accuracy, "loss": self.loss,
               **self.representations}
        for key in ("true_groups", "num_examples", "rounds"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        return out

    def to_npz_bytes(self) -> bytes:
        """The single-file form (manifest and client data inside)."""
        arrays = self.arrays()
        arrays["manifest"] = np.array(json.dumps(self.manifest()))
        if self.client_data is not None:
            arrays["client_data"] = np.frombuffer(self.client_data[1], dtype=np.uint8)
        buf = io.BytesIO()
        np.savez_compressed(buf, **arrays)
        return buf.getvalue()

    def save(self, path: str | Path) -> Path:
        """Write ``path`` (``.npz``: single file; anything else: a directory)."""
        path = Path(path)
        if path.suffix.lower() == ".npz":
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(self.to_npz_bytes())
            return path
        path.mkdir(parents=True, exist_ok=True)
        (path / "manifest.json").write_text(json.dumps(self.manifest(), indent=2) + "\n")
        np.savez_compressed(path / "arrays.npz", **self.arrays())
        if self.client_data is not None:
            (path / self.client_data[0]).write_bytes(self.client_data[1])
        return path


def _fail(msg: str):
    raise DataError(f"exchange: {msg}")


def _as_float(name: str, arr, shape: tuple) -> np.ndarray:
    arr = np.asarray(arr)
    if arr.dtype.kind not in "fiub":
        _fail(f"'{name}' must be numeric, not {arr.dtype}")
    arr = arr.astype(np.float64 if name in ("accuracy", "loss") else np.float32, copy=False)
    if arr.shape != shape:
        _fail(f"'{name}' has shape {arr.shape}; expected {shape} (rounds x clients)")
    if np.isinf(arr).any():
        _fail(f"'{name}' contains inf")
    return arr


def _as_int(name: str, arr, shape: tuple, minimum: int | None = 0) -> np.ndarray:
    arr = np.asarray(arr)
    if arr.dtype.kind == "f":
        if not np.isfinite(arr).all():
            _fail(f"'{name}' contains NaN or inf")
        if (arr != np.round(arr)).any():
            _fail(f"'{name}' must hold whole numbers")
    elif arr.dtype.kind not in "iub":
        _fail(f"'{name}' must be integers, not {arr.dtype}")
    arr = arr.astype(np.int64)
    if arr.shape != shape:
        _fail(f"'{name}' has shape {arr.shape}; expected {shape}")
    if minimum is not None and arr.size and arr.min() < minimum:
        _fail(f"'{name}' has a value below {minimum}: {int(arr.min())}")
    return arr


def _check_representation(name: str, arr, n_rounds: int, n_clients: int) -> np.ndarray:
    arr = np.asarray(arr)
    if arr.dtype.kind not in "fiu":
        _fail(f"'{name}' must be a numeric array, not {arr.dtype}")
    if arr.ndim not in (2, 3) or arr.shape[-2] != n_clients or arr.shape[-1] < 1:
        _fail(f"'{name}' has shape {arr.shape}; expected (clients={n_clients}, params) or "
              f"(rounds={n_rounds}, clients={n_clients}, params)")
    if arr.ndim == 3 and arr.shape[0] != n_rounds:
        _fail(f"'{name}' has {arr.shape[0]} rounds but 'assignments' has {n_rounds}")
    if arr.size > MAX_FLOATS:
        _fail(f"'{name}' has {arr.size:,} values; the limit is {MAX_FLOATS:,} "
              "(store only the last round, shape (clients, params))")
    arr = arr.astype(np.float32, copy=False)
    if np.isinf(arr).any():
        _fail(f"'{name}' contains inf")
    nan = np.isnan(arr)
    if arr.ndim == 2 and nan.any():
        row = int(np.flatnonzero(nan.any(axis=1))[0])
        _fail(f"'{name}' contains NaN (client row {row})")
    if arr.ndim == 3:
        partial = nan.any(axis=2) & ~nan.all(axis=2)
        if partial.any():
            r, c = (int(v) for v in np.argwhere(partial)[0])
            _fail(f"'{name}' round index {r}, client row {c} is partly NaN (a client "
                  "without a result that round must be a whole NaN row)")
        never = nan.all(axis=2).all(axis=0)
        if never.any():
            _fail(f"'{name}': client row {int(np.flatnonzero(never)[0])} has no vector "
                  "in any round")
    return arr


def validate(ex: Exchange) -> None:
    """Check shapes, ids and values of ``ex`` in place (normalising dtypes).

    Raises
    ------
    DataError
        One line naming the array and the problem.
    """
    ex.client_ids = _valid_client_ids(ex.client_ids)
    n = len(ex.client_ids)
    a = np.asarray(ex.assignments)
    if a.ndim == 1:
        a = a[None, :]
    if a.ndim != 2 or a.shape[0] < 1:
        _fail(f"'assignments' has shape {np.shape(ex.assignments)}; expected (rounds, {n})")
    ex.assignments = _as_int("assignments", a, (a.shape[0], n))
    _validate_metrics(ex)
    shape = ex.assignments.shape
    reps = {k: v for k, v in (ex.representations or {}).items() if v is not None}
    unknown = set(reps) - set(REPRESENTATIONS)
    if unknown:
        _fail(f"unknown representation(s) {', '.join(sorted(unknown))}; use "
              + " or ".join(REPRESENTATIONS))
    if not reps:
        _fail("no client representation: give 'updates' and/or 'weights'")
    ex.representations = {k: _check_representation(k, v, shape[0], n) for k, v in reps.items()}
    _validate_optional(ex, n, shape[0])


def _valid_client_ids(client_ids) -> list[str]:
    ids = [str(c) for c in client_ids]
    if not ids:
        _fail("'client_ids' is empty")
    if any(not c.strip() for c in ids):
        _fail("'client_ids' contains an empty id")
    dup = sorted({c for c in ids if ids.count(c) > 1}) if len(set(ids)) != len(ids) else []
    if dup:
        _fail(f"'client_ids' are not unique (repeated: {', '.join(dup[:5])})")
    return ids


def _validate_metrics(ex: Exchange) -> None:
    """Accuracy (fractions, every client evaluated at least once) and loss, per round."""
    shape = ex.assignments.shape
    ex.accuracy = _as_float("accuracy", _rounds_2d(ex.accuracy, shape), shape)
    acc = ex.accuracy[np.isfinite(ex.accuracy)]
    if acc.size and (acc.min() < 0 or acc.max() > 1):
        _fail("'accuracy' must be fractions in [0, 1] (NaN = not evaluated)")
    if np.isnan(ex.accuracy).all(axis=0).any():
        c = ex.client_ids[int(np.flatnonzero(np.isnan(ex.accuracy).all(axis=0))[0])]
        _fail(f"'accuracy': client {c!r} was never evaluated")
    loss = np.full(shape, np.nan) if ex.loss is None else _rounds_2d(ex.loss, shape)
    ex.loss = _as_float("loss", loss, shape)


def _validate_optional(ex: Exchange, n: int, n_rounds: int) -> None:
    """True groups, example counts, round numbers, method name and parameters."""
    if ex.true_groups is not None:
        ex.true_groups = _as_int("true_groups", ex.true_groups, (n,))
    if ex.num_examples is not None:
        ex.num_examples = _as_int("num_examples", ex.num_examples, (n,))
    if ex.rounds is not None:
        ex.rounds = _as_int("rounds", ex.rounds, (n_rounds,), minimum=None)
        if (np.diff(ex.rounds) <= 0).any():
            _fail("'rounds' must be strictly increasing")
    if not isinstance(ex.params, dict):
        _fail("'params' must be a JSON object")
    try:
        json.dumps(ex.params)
    except (TypeError, ValueError) as exc:
        _fail(f"'params' is not JSON-serialisable ({exc})")
    ex.method = str(ex.method or "imported")


def _rounds_2d(arr, shape: tuple) -> np.ndarray:
    arr = np.asarray(arr)
    return arr[None, :] if arr.ndim == 1 and shape[0] == 1 else arr
