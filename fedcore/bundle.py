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
import json
import os
import re
import shlex
import shutil
import tempfile
import zipfile
from pathlib import Path

import pandas as pd

from .bundle_verify import COMPARED_KEYS, GRID_COMPARED, verify_bundle
from .csv_safe import to_csv
from .errors import ConfigError, DataError
from .provenance import package_versions
from .store import is_complete, read_json, save_run

RUN_FILES = ("spec.json", "summary.json", "rounds.csv", "clients.csv", "diagnostics.json",
             "result.json", "result.npz")
GRID_FILES = ("grid.json", "results.csv", "table.tex", "table_worst.tex", "table_ari.tex")


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
    from .grid.argv import grid_to_argv, spec_to_argv
    from .grid.spec import GridSpec

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


def _all_params(entry: dict) -> dict:
    """Every method and scenario parameter the run used, defaults included, so the bundle
    states them even if a later FedLens changes a default."""
    from .params import defaults
    from .registries import check_overrides, schema, validate_params

    spec = read_json(entry["dir"] / "spec.json")
    if "imported" in spec:  # another framework's method: its parameters are free-form
        return {"method_params": dict(spec.get("method_params") or {}), "scenario_params": {}}
    scenario = spec.get("scenario")
    return {"method_params": validate_params("method", spec.get("method"),
                                             spec.get("method_params")),
            "scenario_params": {**defaults(schema("scenario", scenario)),
                                **check_overrides("scenario", scenario,
                                                  spec.get("scenario_params"))}}


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
                     "mean_client_rmse": s.get("mean_client_rmse"),
                     "worst_client_rmse": s.get("worst_client_rmse"),
                     "ari": s.get("ari"), "n_clusters": s.get("n_clusters"),
                     "dataset_fingerprint": s.get("dataset_fingerprint")})
    return pd.DataFrame(rows)


#: LaTeX columns of the runs table: accuracy for classification runs, RMSE for regression.
RUN_TABLE_COLUMNS = {"mean_client_accuracy": "Mean client accuracy",
                     "worst_client_accuracy": "Worst client accuracy",
                     "mean_client_rmse": "Mean client RMSE",
                     "worst_client_rmse": "Worst client RMSE", "ari": "ARI"}


def _runs_latex_frame(table: pd.DataFrame) -> pd.DataFrame:
    """The runs table's numbers, without metric columns no run has (a classification-only
    bundle shows no RMSE columns, a regression-only one no accuracy columns)."""
    numeric = table.set_index("run")[list(RUN_TABLE_COLUMNS)].astype(float)
    numeric = numeric.loc[:, numeric.notna().any() | (numeric.columns == "ari")]
    return numeric.rename(columns=RUN_TABLE_COLUMNS)


def make_bundle(runs, figures: dict | None = None, out_path: str | Path = "fedlens_bundle.zip",
                formats=("png", "svg", "pdf"), figure_kwargs: dict | None = None,
                data_files: dict[str, bytes] | None = None,
                clusters_shown: dict | None = None) -> Path:
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
    clusters_shown : dict, optional
        The clustering the dashboard showed (the method's own, or a what-if re-clustering
        with its clusterer and parameters, and every client's cluster); written to
        ``clusters_shown.json`` so the Clusters/Explain figures can be traced to it.
    """
    from .export.figures import export_figure
    from .export.tables import latex_table

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
            to_csv(table, stage / "tables" / "runs.csv", index=False)
            numeric = _runs_latex_frame(table)
            (stage / "tables" / "runs.tex").write_text(latex_table(
                numeric, caption="Runs in this bundle.", label="tab:runs", index_name="Run"))
        for name, content in (data_files or {}).items():
            if Path(name).name != name or name.startswith("."):
                raise DataError(f"data file name {name!r} must be a plain file name")
            (stage / "data").mkdir(exist_ok=True)
            (stage / "data" / name).write_bytes(content)
        if clusters_shown:
            (stage / "clusters_shown.json").write_text(
                json.dumps(clusters_shown, indent=2, default=str) + "\n")
        script = stage / "reproduce.sh"
        script.write_text(_reproduce_script(run_entries, grid_entries, data_files))
        script.chmod(0o755)
        (stage / "versions.json").write_text(json.dumps(package_versions(), indent=2) + "\n")
        manifest = {"created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                    "runs": [{**row, **_all_params(entry)} for row, entry in
                             zip(table.to_dict(orient="records"), run_entries, strict=True)],
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


__all__ = ["make_bundle", "verify_bundle", "COMPARED_KEYS", "GRID_COMPARED"]
