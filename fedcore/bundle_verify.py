"""Re-create a reproducibility bundle's numbers and compare them with the stored ones.

:func:`verify_bundle` runs the bundle's ``reproduce.sh`` (the published commands) or re-runs
each spec in this process, then compares every headline number
(:func:`fedcore.metrics.run_summary`) run by run and grid cell by grid cell.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import ConfigError, DataError
from .provenance import PROJECT_ROOT
from .store import read_json, save_run

#: summary.json keys a reproduction must match exactly.
COMPARED_KEYS = ("mean_client_accuracy", "worst_client_accuracy", "ari", "n_clusters",
                 "assignments", "client_accuracy", "dataset_fingerprint")
GRID_COMPARED = ("mean_client_accuracy", "worst_accuracy", "ari", "n_clusters")
#: Also compared when the stored numbers have them (regression runs and grids).
REGRESSION_KEYS = ("mean_client_rmse", "worst_client_rmse", "mean_client_mae",
                   "mean_client_r2", "client_rmse", "client_mae", "client_r2")
GRID_REGRESSION = ("mean_client_rmse", "worst_rmse", "mean_client_mae", "mean_client_r2")


def compared_keys(stored, base: tuple, extra: tuple) -> tuple:
    """``base`` plus the ``extra`` (regression) keys present in ``stored``: a regression
    result is verified on its errors, not only on its (NaN) accuracy."""
    return base + tuple(k for k in extra if k in stored)


def _same(a, b, atol: float) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k], atol) for k in a)
    if isinstance(a, float | int) and isinstance(b, float | int) and not isinstance(a, bool):
        return bool(np.isclose(a, b, rtol=0.0, atol=atol, equal_nan=True))
    return a == b


def verify_bundle(zip_path: str | Path, workdir: str | Path | None = None,
                  mode: str = "script", python: str | None = None, atol: float = 0.0,
                  cwd: str | Path | None = None, backend: str | None = None) -> pd.DataFrame:
    """Re-create a bundle's numbers and compare them with the stored ones.

    Parameters
    ----------
    mode : {"script", "python"}
        ``script`` runs ``reproduce.sh`` (the exact published commands) with ``python``
        (default: this interpreter) from ``cwd`` (default: the project directory);
        ``python`` re-runs each ``spec.json`` in this process.
    atol : float
        Allowed absolute difference of numbers (0 = identical).
    backend : str, optional
        ``"module:function"`` computing a spec in ``python`` mode (default: the runner).

    Returns
    -------
    DataFrame
        ``kind, name, key, stored, reproduced, match``; ``df["match"].all()`` is the verdict.
    """
    from .grid import GridSpec, collect_results, run_grid
    from .grid.executors import DEFAULT_BACKEND, resolve_backend

    backend = backend or DEFAULT_BACKEND

    work = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="fedlens-verify-"))
    bundle, out = work / "bundle", work / "reproduced"
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(bundle)
    run_dirs = sorted(p for p in (bundle / "runs").glob("*") if p.is_dir()
                      and "imported" not in read_json(p / "spec.json"))  # nothing to re-run
    grid_dirs = sorted(p for p in (bundle / "grids").glob("*") if p.is_dir())
    if mode == "script":
        env = dict(os.environ, PYTHON=python or sys.executable, OUT=str(out))
        proc = subprocess.run(["bash", str(bundle / "reproduce.sh")], cwd=cwd or PROJECT_ROOT,
                              env=env, capture_output=True, text=True)
        if proc.returncode != 0:
            raise DataError(f"reproduce.sh failed ({proc.returncode}): {proc.stderr[-2000:]}")
    elif mode == "python":
        for run_dir in run_dirs:
            spec, summary, result = resolve_backend(backend)(read_json(run_dir / "spec.json"))
            save_run(out / "runs" / run_dir.name, spec, summary, result)
        for grid_dir in grid_dirs:
            grid = GridSpec.from_dict(read_json(grid_dir / "grid.json")["grid"])
            run_grid(grid, out / "grids" / grid_dir.name, workers=0, formats=(),
                     backend=backend)
    else:
        raise ConfigError(f"mode must be 'script' or 'python', not {mode!r}")
    rows = []
    for run_dir in run_dirs:
        stored = read_json(run_dir / "summary.json")
        again = read_json(out / "runs" / run_dir.name / "summary.json")
        for key in compared_keys(stored, COMPARED_KEYS, REGRESSION_KEYS):
            rows.append({"kind": "run", "name": run_dir.name, "key": key,
                         "stored": stored.get(key), "reproduced": again.get(key),
                         "match": _same(stored.get(key), again.get(key), atol)})
    for grid_dir in grid_dirs:
        stored = pd.read_csv(grid_dir / "results.csv").set_index("cell_id").sort_index()
        again = collect_results(out / "grids" / grid_dir.name).set_index("cell_id").sort_index()
        for cell in stored.index:
            for key in compared_keys(stored.columns, GRID_COMPARED, GRID_REGRESSION):
                a = stored.at[cell, key]
                b = again.at[cell, key] if cell in again.index else None
                rows.append({"kind": "grid", "name": f"{grid_dir.name}/{cell}", "key": key,
                             "stored": a, "reproduced": b,
                             "match": b is not None and _same(float(a), float(b), atol)})
    return pd.DataFrame(rows, columns=["kind", "name", "key", "stored", "reproduced", "match"])
