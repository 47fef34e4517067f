"""Reproducibility bundle: one ZIP with the results, figures, tables, configs, seeds, package
versions, dataset fingerprints and the exact headless commands that re-create the numbers.

ZIP layout::

    README.txt            what is inside and how to reproduce
    manifest.json         runs/grids with seeds, dataset fingerprints and headline numbers
    versions.json         python, platform and the installed version of every requirement
    reproduce.sh          python -m fedcore run/grid ... commands (PYTHON, OUT overridable)
    runs/<name>/          spec.json, summary.json, rounds.csv, clients.csv, diagnostics.json,
                          result.json, result.npz (fedcore.store layout), figures/ if any
    grids/<name>/         grid.json, results.csv, table*.tex, figures/
    figures/<name>.*      the figures passed in (png/svg/pdf + csv of their data)
    tables/runs.csv|.tex  one row per run

:func:`verify_bundle` re-runs ``reproduce.sh`` (or the specs in-process) and compares every
stored number with the re-computed one.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata as im
import json
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import ConfigError, DataError
from ..store import is_complete, read_json, save_run
from .mathjax import PROJECT_ROOT

RUN_FILES = ("spec.json", "summary.json", "rounds.csv", "clients.csv", "diagnostics.json",
             "result.json", "result.npz")
GRID_FILES = ("grid.json", "results.csv", "table.tex", "table_worst.tex", "table_ari.tex")
#: summary.json keys a reproduction must match exactly.
COMPARED_KEYS = ("mean_client_accuracy", "worst_client_accuracy", "ari", "n_clusters",
                 "assignments", "client_accuracy", "dataset_fingerprint")
GRID_COMPARED = ("mean_client_accuracy", "worst_accuracy", "ari", "n_clusters")


def package_versions() -> dict:
    """Python, platform and installed versions of everything in requirements*.txt."""
    names = []
    for req in ("requirements.txt", "requirements-dev.txt"):
        path = PROJECT_ROOT / req
        if path.is_file():
            for line in path.read_text().splitlines():
                m = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(==|>=|<=|~=|$)", line)
                if m and not line.lstrip().startswith(("#", "-")):
                    names.append(m.group(1))
    if not names:
        from ..runner import RECORDED_PACKAGES
        names = list(RECORDED_PACKAGES)
    packages = {}
    for name in dict.fromkeys(names):
        try:
            packages[name] = im.version(name)
        except im.PackageNotFoundError:
            packages[name] = None
    return {"python": platform.python_version(), "platform": platform.platform(),
            "packages": packages}


def _unique(name: str, taken: set) -> str:
    base, i = re.sub(r"[^A-Za-z0-9._-]+", "-", name) or "run", 1
    name = base
    while name in taken:
        i += 1
        name = f"{base}-{i}"
    taken.add(name)
    return name


def _stage_runs(runs, stage: Path) -> tuple[list[dict], list[dict]]:
    """Copy runs/grids into the staging dir; returns (run entries, grid entries)."""
    run_entries, grid_entries, taken = [], [], set()
    for item in runs:
        if isinstance(item, tuple | list) and len(item) == 3:
            spec, summary, result = item
            name = _unique(f"{result.method}-{spec.get('scenario') or 'data'}", taken)
            save_run(stage / "runs" / name, spec, summary, result)
            run_entries.append({"name": name, "dir": stage / "runs" / name})
            continue
        src = Path(item)
        if (src / "grid.json").is_file():
            kind, files, entries = "grids", GRID_FILES, grid_entries
        elif is_complete(src):
            kind, files, entries = "runs", RUN_FILES, run_entries
        else:
            raise DataError(f"{src}: not a complete run (summary.json) or grid (grid.json)")
        name = _unique(src.name, taken)
        entries.append({"name": name, "dir": _copy_result(src, stage / kind / name, files)})
    return run_entries, grid_entries


def _copy_result(src: Path, dest: Path, files) -> Path:
    """Copy a run's or grid's record files and figures (not its cells) into ``dest``."""
    dest.mkdir(parents=True)
    for f in files:
        if (src / f).is_file():
            shutil.copy2(src / f, dest / f)
    if (src / "figures").is_dir():
        shutil.copytree(src / "figures", dest / "figures")
    return dest


def _command(argv: list[str], data_files: dict) -> str:
    """Shell-quoted arguments; a ``--data`` value shipped in the bundle points into it."""
    words = []
    for i, arg in enumerate(argv):
        if i > 0 and argv[i - 1] == "--data" and arg in data_files:
            words.append(f'"$HERE/data/"{shlex.quote(arg)}')
        else:
            words.append(shlex.quote(arg))
    return " ".join(words)


def _reproduce_script(run_entries: list[dict], grid_entries: list[dict],
                      data_files: dict | None = None) -> str:
    from ..grid.spec import GridSpec, grid_to_argv, spec_to_argv

    data_files = data_files or {}

    lines = ["#!/usr/bin/env bash",
             "# Re-creates every number of this bundle, headless, on CPU.",
             "# Run from the FedLens project directory (so that `python -m fedcore` works):",
             "#   PYTHON=.venv/bin/python OUT=reproduced bash /path/to/bundle/reproduce.sh",
             "# Same package versions as versions.json give identical numbers.",
             "set -euo pipefail",
             'PY="${PYTHON:-python}"',
             'OUT="${OUT:-reproduced}"',
             'HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"']
    for entry in run_entries:
        spec = read_json(entry["dir"] / "spec.json")
        if "imported" in spec:  # made outside FedLens: its numbers come from its record
            src = spec["imported"].get("source", "its exchange record")
            lines.append(f"# runs/{entry['name']}: imported from {src} "
                         f"({spec['imported'].get('framework') or 'another framework'}); "
                         "nothing to re-run (python -m fedcore import re-creates it)")
            continue
        argv = ["-m", "fedcore", "run", *spec_to_argv(spec)]
        lines.append('"$PY" ' + _command(argv, data_files)
                     + f' --quiet --out "$OUT/runs/{entry["name"]}"')
    for entry in grid_entries:
        grid = GridSpec.from_dict(read_json(entry["dir"] / "grid.json")["grid"])
        argv = ["-m", "fedcore", "grid", *grid_to_argv(grid), "--formats", "none"]
        lines.append('"$PY" ' + _command(argv, data_files)
                     + f' --quiet --out "$OUT/grids/{entry["name"]}"')
    return "\n".join(lines) + "\n"


def _runs_table(run_entries: list[dict]) -> pd.DataFrame:
    rows = []
    for entry in run_entries:
        s = read_json(entry["dir"] / "summary.json")
        spec = read_json(entry["dir"] / "spec.json")
        rows.append({"run": entry["name"], "method": spec.get("method"),
                     "data": spec.get("data"), "scenario": spec.get("scenario"),
                     "data_seed": spec.get("data_seed"),
                     "model_seed": spec.get("config", {}).get("seed"),
                     "mean_client_accuracy": s.get("mean_client_accuracy"),
                     "worst_client_accuracy": s.get("worst_client_accuracy"),
                     "ari": s.get("ari"), "n_clusters": s.get("n_clusters"),
                     "dataset_fingerprint": s.get("dataset_fingerprint")})
    return pd.DataFrame(rows)


def make_bundle(runs, figures: dict | None = None, out_path: str | Path = "fedlens_bundle.zip",
                formats=("png", "svg", "pdf"), figure_kwargs: dict | None = None,
                data_files: dict[str, bytes] | None = None) -> Path:
    """Write the reproducibility ZIP.

    Parameters
    ----------
    runs : list
        Run directories, grid directories, or ``(spec_dict, summary, SimulationResult)``
        tuples (in-memory runs, e.g. from the dashboard).
    figures : dict, optional
        ``name -> (plotly Figure, tidy DataFrame)``; exported in ``formats`` + CSV.
    out_path : path
        The ZIP (written atomically).
    data_files : dict of str to bytes, optional
        Uploaded datasets (file name -> content) to ship under ``data/``; runs whose ``data``
        is one of these names are re-run from the bundled copy.
    """
    from .figures import export_figure
    from .tables import latex_table

    if not runs:
        raise ConfigError("a bundle needs at least one run or grid")
    out_path = Path(out_path)
    with tempfile.TemporaryDirectory() as tmp:
        stage = Path(tmp) / "bundle"
        stage.mkdir()
        run_entries, grid_entries = _stage_runs(runs, stage)
        for name, (fig, data) in (figures or {}).items():
            export_figure(fig, data, stage / "figures", name, formats=formats,
                          **(figure_kwargs or {}))
        table = _runs_table(run_entries)
        if not table.empty:
            (stage / "tables").mkdir()
            table.to_csv(stage / "tables" / "runs.csv", index=False)
            numeric = table.set_index("run")[["mean_client_accuracy", "worst_client_accuracy",
                                              "ari"]].astype(float)
            (stage / "tables" / "runs.tex").write_text(latex_table(
                numeric, caption="Runs in this bundle.", label="tab:runs", index_name="run"))
        for name, content in (data_files or {}).items():
            if Path(name).name != name or name.startswith("."):
                raise DataError(f"data file name {name!r} must be a plain file name")
            (stage / "data").mkdir(exist_ok=True)
            (stage / "data" / name).write_bytes(content)
        script = stage / "reproduce.sh"
        script.write_text(_reproduce_script(run_entries, grid_entries, data_files))
        script.chmod(0o755)
        (stage / "versions.json").write_text(json.dumps(package_versions(), indent=2) + "\n")
        manifest = {"created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                    "runs": table.to_dict(orient="records"),
                    "grids": [{"name": e["name"],
                               "cells": len(read_json(e["dir"] / "grid.json")["cells"])}
                              for e in grid_entries]}
        (stage / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str) + "\n")
        (stage / "README.txt").write_text(
            "FedLens reproducibility bundle.\n\nrun `bash reproduce.sh` from the FedLens "
            "project directory (PYTHON=... to choose the interpreter, OUT=... for the output\n"
            "directory); compare the new summary.json / results.csv with runs/ and grids/.\n"
            "versions.json lists the package versions, manifest.json the seeds and dataset "
            "fingerprints.\n")
        out_path.parent.mkdir(parents=True, exist_ok=True)
        partial = out_path.with_name(f".{out_path.name}.part")
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as zf:
            for path in sorted(stage.rglob("*")):
                if path.is_file():
                    zf.write(path, path.relative_to(stage).as_posix())
        os.replace(partial, out_path)
    return out_path


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
    from ..grid import GridSpec, collect_results, run_grid
    from ..grid.executors import DEFAULT_BACKEND, _resolve

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
            spec, summary, result = _resolve(backend)(read_json(run_dir / "spec.json"))
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
        for key in COMPARED_KEYS:
            rows.append({"kind": "run", "name": run_dir.name, "key": key,
                         "stored": stored.get(key), "reproduced": again.get(key),
                         "match": _same(stored.get(key), again.get(key), atol)})
    for grid_dir in grid_dirs:
        stored = pd.read_csv(grid_dir / "results.csv").set_index("cell_id").sort_index()
        again = collect_results(out / "grids" / grid_dir.name).set_index("cell_id").sort_index()
        for cell in stored.index:
            for key in GRID_COMPARED:
                a = stored.at[cell, key]
                b = again.at[cell, key] if cell in again.index else None
                rows.append({"kind": "grid", "name": f"{grid_dir.name}/{cell}", "key": key,
                             "stored": a, "reproduced": b,
                             "match": b is not None and _same(float(a), float(b), atol)})
    return pd.DataFrame(rows, columns=["kind", "name", "key", "stored", "reproduced", "match"])
