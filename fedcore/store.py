"""Results on disk: one directory per run, written atomically, read back losslessly.

Layout of a run directory (``python -m fedcore run --out DIR``; grid cells live in
``GRID/cells/<cell_id>/`` with the same layout)::

    DIR/
      spec.json         ExperimentSpec.to_dict(): data, scenario, clients, seeds, method,
                        method params, SimulationConfig -- everything that fixes the numbers
      result.json       SimulationResult fields that are not arrays or tables: method, params,
                        config, client_ids, model_spec, dataset_fingerprint, wall_seconds,
                        errors, representation descriptions, table dtypes
      result.npz        arrays only (loaded with allow_pickle=False): assignments,
                        assignment_history, true_groups, rep__<name>__X, rep__<name>__distance,
                        model__<cluster> (flat weights), diag__<i> (large diagnostic arrays)
      rounds.csv        one row per round (round, mean_accuracy, worst_accuracy, ...)
      clients.csv       one row per client (client, cluster, accuracy, loss, n_train, ...)
      diagnostics.json  per-round strategy diagnostics; arrays as nested lists, arrays with
                        more than 4096 entries as {"$npz": "diag__<i>"} pointing into result.npz
      summary.json      headline numbers (runner.summary_dict); WRITTEN LAST = the run is complete
      figures/          optional, written later by ``python -m fedcore report DIR``
      exchange.npz      imported runs only: the validated exchange record it was made from
                        (``python -m fedcore import``; fedcore.interop)

Atomicity: everything is written into a hidden temporary directory next to ``DIR``
(``.DIR.tmp-<pid>-*``) which replaces ``DIR`` only once ``summary.json`` is in it. A run
interrupted by Ctrl-C or a kill leaves at most a hidden temporary directory, never a ``DIR``
that looks complete; readers (:func:`list_runs`, the grid's resume check) only accept
directories containing ``summary.json``. Temporary directories of dead processes are
removed by the next save of the same ``DIR``.

Replacing an earlier run: on Linux the two directories are swapped in one atomic
``renameat2(RENAME_EXCHANGE)``, so ``DIR`` always holds either the previous or the new run.
Where that call is unavailable, the previous run is moved aside to ``.DIR.old-*/run`` first;
a kill between the two renames is repaired on the next access of ``DIR`` (save, load, list,
resume check), which moves the previous run back.

The default root for runs is a per-user data directory, never the code checkout:
``$FEDLENS_RUNS``, else ``$XDG_DATA_HOME/fedlens/runs``, else ``~/.local/share/fedlens/runs``
(:func:`default_runs_root`).
"""

from __future__ import annotations

import io
import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from .csv_safe import restore_frame, to_csv
from .errors import ConfigError, DataError
from .results import Representation, SimulationResult
from .store_atomic import clean_stale as _clean_stale
from .store_atomic import exchange as _exchange
from .store_atomic import recover_interrupted

#: File names a run directory may contain; anything else makes us refuse to overwrite it.
RUN_FILES = {"spec.json", "result.json", "result.npz", "rounds.csv", "clients.csv",
             "diagnostics.json", "summary.json", "figures", "error.txt", "exchange.npz"}
#: Arrays with more entries than this go into result.npz instead of diagnostics.json.
LARGE_ARRAY = 4096
COMPLETE_MARKER = "summary.json"


def default_runs_root() -> Path:
    """Directory holding runs by default (the CLI's and the Runs page's).

    ``$FEDLENS_RUNS`` if set, else ``$XDG_DATA_HOME/fedlens/runs``, else
    ``~/.local/share/fedlens/runs``: per user and outside the code checkout, so results are
    neither committed by accident nor served from the source tree.
    """
    if os.environ.get("FEDLENS_RUNS"):
        return Path(os.environ["FEDLENS_RUNS"]).expanduser()
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home).expanduser() / "fedlens" / "runs"


#: Former name, kept for callers written before :func:`default_runs_root`.
runs_root = default_runs_root


def is_complete(run_dir: str | Path) -> bool:
    """Whether ``run_dir`` holds a finished run (its ``summary.json`` exists)."""
    recover_interrupted(run_dir)
    return (Path(run_dir) / COMPLETE_MARKER).is_file()


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

def _encode_diag(obj, arrays: dict, index: list, path: list):
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
        return {str(k): _encode_diag(v, arrays, index, path + [str(k)]) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_encode_diag(v, arrays, index, path + [i]) for i, v in enumerate(obj)]
    return to_jsonable(obj)


def _get_parent(root, path):
    node = root
    for step in path[:-1]:
        node = node[step]
    return node


def _decode_diag(obj, npz, index: list):
    # Deepest paths first so a dict's int keys are restored after its values were rebuilt.
    for entry in sorted(index, key=lambda e: -len(e["path"])):
        path = entry["path"]
        parent = _get_parent(obj, path) if path else None
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

def _table_dtypes(df: pd.DataFrame) -> dict:
    return {str(c): str(t) for c, t in df.dtypes.items()}


def _read_table(path: Path, dtypes: dict) -> pd.DataFrame:
    text_cols = {c: str for c, t in dtypes.items() if t in ("object", "str", "string")}
    df = restore_frame(pd.read_csv(path, dtype=text_cols, keep_default_na=True), text_cols)
    for col, dtype in dtypes.items():
        if col in df.columns and col not in text_cols:
            try:
                df[col] = df[col].astype(dtype)
            except (TypeError, ValueError):
                pass  # e.g. an all-NaN int column; keep what pandas parsed
    return df


# ---- save / load ----------------------------------------------------------------------------

def _check_target(out_dir: Path) -> None:
    if out_dir.exists() and not out_dir.is_dir():
        raise ConfigError(f"{out_dir}: exists and is not a directory")
    if out_dir.is_dir():
        foreign = sorted(p.name for p in out_dir.iterdir() if p.name not in RUN_FILES)
        if foreign:
            raise ConfigError(f"{out_dir}: not empty and not a FedLens run directory "
                              f"(contains {', '.join(foreign[:5])}); choose another --out")


def _write_contents(tmp: Path, spec_dict: dict, summary: dict, result: SimulationResult,
                    max_representation_floats: int | None = None) -> None:
    arrays = {"assignments": np.asarray(result.assignments),
              "assignment_history": np.asarray(result.assignment_history)}
    if result.true_groups is not None:
        arrays["true_groups"] = np.asarray(result.true_groups)
    reps, dropped = {}, []
    for name, rep in result.representations.items():
        size = sum(np.size(a) for a in (rep.X, rep.distance) if a is not None)
        if max_representation_floats is not None and size > max_representation_floats:
            dropped.append(name)
            continue
        reps[name] = {"description": rep.description, "name": rep.name}
        if rep.X is not None:
            arrays[f"rep__{name}__X"] = np.asarray(rep.X)
        if rep.distance is not None:
            arrays[f"rep__{name}__distance"] = np.asarray(rep.distance)
    for cluster, weights in result.models.items():
        arrays[f"model__{int(cluster)}"] = np.asarray(weights)
    diag_arrays: dict = {}
    diag_index: list = []
    diagnostics = _encode_diag(list(result.diagnostics), diag_arrays, diag_index, [])
    arrays.update(diag_arrays)

    write_json(tmp / "spec.json", spec_dict)
    write_json(tmp / "result.json", {
        "method": result.method, "params": result.params, "config": result.config,
        "client_ids": [str(c) for c in result.client_ids], "model_spec": result.model_spec,
        "dataset_fingerprint": result.dataset_fingerprint,
        "wall_seconds": float(result.wall_seconds), "errors": list(result.errors),
        "representations": reps, "dropped_representations": dropped,
        "model_keys": [int(k) for k in result.models],
        "rounds_dtypes": _table_dtypes(result.rounds),
        "clients_dtypes": _table_dtypes(result.client_metrics),
        "diagnostics_index": diag_index,
    })
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    (tmp / "result.npz").write_bytes(buf.getvalue())
    to_csv(result.rounds, tmp / "rounds.csv", index=False)
    to_csv(result.client_metrics, tmp / "clients.csv", index=False)
    (tmp / "diagnostics.json").write_text(json.dumps(diagnostics) + "\n")
    write_json(tmp / COMPLETE_MARKER, summary)  # last: its presence means "complete"


def save_run(out_dir: str | Path, spec_dict: dict, summary: dict,
             result: SimulationResult, max_representation_floats: int | None = None) -> Path:
    """Write one run atomically to ``out_dir`` (replacing an earlier run there).

    Parameters
    ----------
    out_dir : path
        The run directory; parents are created. An existing run directory (or an empty
        directory) is replaced; a directory holding other files is refused.
    spec_dict : dict
        ``ExperimentSpec.to_dict()``.
    summary : dict
        ``runner.summary_dict(...)`` (JSON-ready headline numbers).
    result : SimulationResult
    max_representation_floats : int, optional
        Leave out representations larger than this (grids keep only the small ones: full
        weight vectors of every cell would take gigabytes); listed in ``result.json``.

    Returns
    -------
    Path
        ``out_dir``.
    """
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    _clean_stale(out_dir)
    _check_target(out_dir)
    pid = os.getpid()
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-{pid}-", dir=out_dir.parent))
    old = None
    try:
        _write_contents(tmp, spec_dict, summary, result, max_representation_floats)
        if out_dir.exists() and _exchange(tmp, out_dir):
            shutil.rmtree(tmp, ignore_errors=True)  # now holds the previous run
            return out_dir
        if out_dir.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old-{pid}-",
                                        dir=out_dir.parent))
            os.replace(out_dir, old / "run")
        os.replace(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if old is not None and (old / "run").exists() and not out_dir.exists():
            os.replace(old / "run", out_dir)  # put the previous run back
        raise
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    return out_dir


def _read_arrays(path: Path) -> dict:
    """result.npz, with a one-line DataError when it is missing, truncated or corrupt."""
    import zipfile
    import zlib

    try:
        with np.load(path, allow_pickle=False) as npz:
            return {k: npz[k] for k in npz.files}
    except FileNotFoundError:
        raise DataError(f"{path}: missing; the run directory is incomplete -- re-run "
                        "it") from None
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, OSError) as exc:
        detail = " ".join(str(exc).split())[:120]
        raise DataError(f"{path}: truncated or corrupt ({detail}); re-run it") from None


def load_run(run_dir: str | Path) -> tuple[dict, dict, SimulationResult]:
    """Read a run written by :func:`save_run`.

    Returns
    -------
    (spec_dict, summary, SimulationResult)
        The result is rebuilt fully: arrays, representations, cluster models, both tables
        (with their original dtypes) and diagnostics.
    """
    run_dir = Path(run_dir)
    if not is_complete(run_dir):
        raise DataError(f"{run_dir}: not a complete FedLens run (no summary.json); "
                        "it may have been interrupted -- re-run it")
    spec = read_json(run_dir / "spec.json")
    summary = read_json(run_dir / COMPLETE_MARKER)
    meta = read_json(run_dir / "result.json")
    arrays = _read_arrays(run_dir / "result.npz")
    reps = {}
    for name, info in meta["representations"].items():
        reps[name] = Representation(name=info.get("name", name),
                                    X=arrays.get(f"rep__{name}__X"),
                                    distance=arrays.get(f"rep__{name}__distance"),
                                    description=info.get("description", ""))
    diagnostics = json.loads((run_dir / "diagnostics.json").read_text())
    diagnostics = _decode_diag(diagnostics, arrays, meta.get("diagnostics_index", []))
    result = SimulationResult(
        method=meta["method"], params=meta["params"], config=meta["config"],
        client_ids=list(meta["client_ids"]), true_groups=arrays.get("true_groups"),
        assignments=arrays["assignments"], assignment_history=arrays["assignment_history"],
        rounds=_read_table(run_dir / "rounds.csv", meta["rounds_dtypes"]),
        client_metrics=_read_table(run_dir / "clients.csv", meta["clients_dtypes"]),
        diagnostics=diagnostics, representations=reps,
        models={k: arrays[f"model__{k}"] for k in meta["model_keys"]},
        model_spec=meta["model_spec"], dataset_fingerprint=meta["dataset_fingerprint"],
        wall_seconds=meta["wall_seconds"], errors=list(meta["errors"]))
    return spec, summary, result


LIST_COLUMNS = ["run_id", "path", "method", "data", "scenario", "mean_client_accuracy", "ari",
                "created"]


def list_runs(root: str | Path | None = None, max_depth: int = 3) -> pd.DataFrame:
    """Complete runs under ``root`` (default :func:`default_runs_root`), newest first.

    Grid cells (``GRID/cells/<id>``) are found too. Hidden (temporary) and incomplete
    directories are skipped.

    Returns
    -------
    DataFrame with columns ``run_id, path, method, data, scenario, mean_client_accuracy,
    ari, created`` (``run_id`` is the path relative to ``root``).
    """
    root = Path(root) if root is not None else default_runs_root()
    rows = []
    if root.is_dir():
        for old in root.rglob(".*.old-*"):  # a kill between the two renames of a save
            name = old.name[1:].rsplit(".old-", 1)[0]
            recover_interrupted(old.parent / name)
        for marker in sorted(root.rglob(COMPLETE_MARKER)):
            rel = marker.parent.relative_to(root)
            if len(rel.parts) > max_depth or any(p.startswith(".") for p in rel.parts):
                continue
            try:
                summary = read_json(marker)
                spec = read_json(marker.parent / "spec.json")
            except DataError:
                continue
            rows.append({
                "run_id": rel.as_posix() or ".", "path": str(marker.parent),
                "method": summary.get("method", spec.get("method")),
                "data": spec.get("data"), "scenario": spec.get("scenario"),
                "mean_client_accuracy": summary.get("mean_client_accuracy"),
                "ari": summary.get("ari"),
                "created": pd.Timestamp(marker.stat().st_mtime, unit="s", tz="UTC"),
            })
    df = pd.DataFrame(rows, columns=LIST_COLUMNS)
    for col in ("mean_client_accuracy", "ari"):
        df[col] = pd.to_numeric(df[col], errors="coerce").astype(float)
    return df.sort_values("created", ascending=False, kind="stable").reset_index(drop=True)
