"""Results on disk: one directory per run, written atomically, read back losslessly.

Layout of a run directory (``python -m fedcore run --out DIR``; grid cells live in
``GRID/cells/<cell_id>/`` with the same layout)::

    DIR/
      spec.json         ExperimentSpec.to_dict(): data, scenario, clients, seeds, method,
                        method params, SimulationConfig -- everything that fixes the numbers
      result.json       SimulationResult fields that are not arrays or tables: method, params,
                        config, client_ids, model_spec, dataset_fingerprint, wall_seconds,
                        errors, task, target_scale, representation descriptions, table dtypes
      result.npz        arrays only (loaded with allow_pickle=False): assignments,
                        assignment_history, true_groups, rep__<name>__X, rep__<name>__distance,
                        model__<cluster> (flat weights), diag__<i> (large diagnostic arrays)
      rounds.csv        one row per round (round, mean_accuracy, worst_accuracy, ...)
      clients.csv       one row per client (client, cluster, accuracy, loss, n_train, ...;
                        regression: loss, mae, rmse, r2 instead of accuracy, loss)
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

from .csv_safe import to_csv
from .dataset import check_task
from .errors import ConfigError, DataError
from .results import Representation, SimulationResult
from .store_atomic import clean_stale as _clean_stale
from .store_atomic import exchange as _exchange
from .store_catalog import (
    COMPLETE_MARKER,
    LIST_COLUMNS,
    default_runs_root,
    is_complete,
    list_runs,
    runs_root,
)
from .store_codec import (
    decode_diagnostics,
    encode_diagnostics,
    read_json,
    read_table,
    table_dtypes,
    write_json,
)

__all__ = ["save_run", "load_run", "list_runs", "is_complete", "default_runs_root", "runs_root",
           "read_json", "write_json", "COMPLETE_MARKER", "LIST_COLUMNS", "RUN_FILES"]

#: File names a run directory may contain; anything else makes us refuse to overwrite it.
RUN_FILES = {"spec.json", "result.json", "result.npz", "rounds.csv", "clients.csv",
             "diagnostics.json", "summary.json", "figures", "error.txt", "exchange.npz"}


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
    diagnostics = encode_diagnostics(list(result.diagnostics), diag_arrays, diag_index, [])
    arrays.update(diag_arrays)

    write_json(tmp / "spec.json", spec_dict)
    write_json(tmp / "result.json", {
        "method": result.method, "params": result.params, "config": result.config,
        "client_ids": [str(c) for c in result.client_ids], "model_spec": result.model_spec,
        "dataset_fingerprint": result.dataset_fingerprint,
        "wall_seconds": float(result.wall_seconds), "errors": list(result.errors),
        "task": result.task, "target_scale": None if result.target_scale is None
        else [float(v) for v in result.target_scale],
        "representations": reps, "dropped_representations": dropped,
        "model_keys": [int(k) for k in result.models],
        "rounds_dtypes": table_dtypes(result.rounds),
        "clients_dtypes": table_dtypes(result.client_metrics),
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


def _scale_from_json(scale) -> tuple[float, float] | None:
    """A stored target scale ``[mean, std]`` as a tuple; None (raw or older runs) stays."""
    return None if scale is None else (float(scale[0]), float(scale[1]))


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
    diagnostics = decode_diagnostics(diagnostics, arrays, meta.get("diagnostics_index", []))
    result = SimulationResult(
        method=meta["method"], params=meta["params"], config=meta["config"],
        client_ids=list(meta["client_ids"]), true_groups=arrays.get("true_groups"),
        assignments=arrays["assignments"], assignment_history=arrays["assignment_history"],
        rounds=read_table(run_dir / "rounds.csv", meta["rounds_dtypes"]),
        client_metrics=read_table(run_dir / "clients.csv", meta["clients_dtypes"]),
        diagnostics=diagnostics, representations=reps,
        models={k: arrays[f"model__{k}"] for k in meta["model_keys"]},
        model_spec=meta["model_spec"], dataset_fingerprint=meta["dataset_fingerprint"],
        wall_seconds=meta["wall_seconds"], errors=list(meta["errors"]),
        task=check_task(meta.get("task", "classification")),  # older runs: classification
        target_scale=_scale_from_json(meta.get("target_scale")))
    return spec, summary, result
