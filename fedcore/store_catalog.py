"""Where runs live and which of them are complete: the runs root and its catalogue.

A run directory is complete once its ``summary.json`` exists (written last by
:func:`fedcore.store.save_run`); interrupted saves are recovered before anything is listed.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from .errors import DataError
from .store_atomic import recover_interrupted
from .store_codec import read_json

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


LIST_COLUMNS = ["run_id", "path", "method", "data", "scenario", "mean_client_accuracy", "ari",
                "created", "task", "mean_client_rmse"]


def list_runs(root: str | Path | None = None, max_depth: int = 3) -> pd.DataFrame:
    """Complete runs under ``root`` (default :func:`default_runs_root`), newest first.

    Grid cells (``GRID/cells/<id>``) are found too. Hidden (temporary) and incomplete
    directories are skipped.

    Returns
    -------
    DataFrame with columns ``run_id, path, method, data, scenario, mean_client_accuracy,
    ari, created, task, mean_client_rmse`` (``run_id`` is the path relative to ``root``;
    runs saved before tasks existed are ``classification``; the score of the other task
    is NaN).
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
                "task": summary.get("task", "classification"),
                "mean_client_rmse": summary.get("mean_client_rmse"),
            })
    df = pd.DataFrame(rows, columns=LIST_COLUMNS)
    for col in ("mean_client_accuracy", "ari", "mean_client_rmse"):
        df[col] = pd.to_numeric(df[col], errors="coerce").astype(float)
    return df.sort_values("created", ascending=False, kind="stable").reset_index(drop=True)
