"""What survives a browser reload or a server restart: the dataset choice and every run.

* Every finished run is saved at once under ``<runs root>/ui/<run id>`` (the
  :mod:`fedcore.store` layout, so the Runs page and ``python -m fedcore`` read it too).
* The Data page's choice (bundled name + scenario settings, or the uploaded file) is written
  to ``<runs root>/.fedlens_ui_state.json``; an upload's bytes go to ``<runs root>/.uploads``
  (hidden: the runs listing skips them).
* A new session restores that dataset and reloads the saved runs computed on it.

The runs root is :func:`fedcore.store.runs_root` (``$FEDLENS_RUNS`` or the per-user default).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import streamlit as st

from . import state

STATE_FILE = ".fedlens_ui_state.json"
UPLOADS = ".uploads"
UI_RUNS = "ui"
#: A new session reloads at most this many saved runs (newest first).
MAX_RESTORED = 30


def root() -> Path:
    from fedcore.store import runs_root
    return Path(runs_root())


def remember_source(source: dict) -> None:
    """Persist the dataset choice (an upload's bytes go next to it, by content hash)."""
    try:
        saved = {k: v for k, v in source.items() if k != "content"}
        if source.get("kind") == "upload" and source.get("content") is not None:
            content = source["content"]
            name = f"{hashlib.sha256(content).hexdigest()[:16]}-{Path(source['filename']).name}"
            folder = root() / UPLOADS
            folder.mkdir(parents=True, exist_ok=True)
            if not (folder / name).is_file():
                (folder / name).write_bytes(content)
            saved["stored_as"] = name
        elif source.get("kind") not in ("bundled", "upload"):
            return  # test or ad-hoc datasets cannot be rebuilt
        root().mkdir(parents=True, exist_ok=True)
        (root() / STATE_FILE).write_text(json.dumps(saved, default=str))
    except OSError:
        pass  # a read-only runs folder must not break loading data


def restore_dataset():
    """``(dataset, source)`` of the remembered choice, or None (nothing remembered/unreadable)."""
    from . import cached
    try:
        source = json.loads((root() / STATE_FILE).read_text())
        if source.get("kind") == "bundled":
            return cached.bundled_dataset(**state.source_args(source)), source
        if source.get("kind") == "upload":
            content = (root() / UPLOADS / source["stored_as"]).read_bytes()
            ds = cached.upload_dataset(content, source["filename"], source.get("client_column"),
                                       source.get("label_column"), int(source.get("seed", 0)),
                                       task=source.get("task", "classification"))
            return ds, {**source, "content": content}
    except Exception:  # noqa: BLE001 - a stale or broken state file: start from the default
        return None
    return None


def autosave(key: str, result) -> Path | None:
    """Save a finished run under ``<root>/ui/<run id>``; returns the folder (None + a
    warning when the folder is not writable: the result stays in the session)."""
    from fedcore.store import save_run

    from .runs_view import run_files

    try:
        spec, summary = run_files(result, state.dataset_source(), state.dataset())
        summary["ui"] = {"run_key": key, "oracle_k": state.is_oracle(key),
                         "dataset_name": getattr(state.dataset(), "name", "")}
        return save_run(root() / UI_RUNS / key, spec, summary, result)
    except Exception as exc:  # noqa: BLE001
        st.warning(f"{key} could not be saved to {root()}: {exc}", icon=":material/save:")
        return None


def saved_runs() -> list[Path]:
    """Auto-saved run folders, newest first."""
    folder = root() / UI_RUNS
    if not folder.is_dir():
        return []
    runs = [p for p in folder.iterdir() if (p / "summary.json").is_file()]
    return sorted(runs, key=lambda p: (p / "summary.json").stat().st_mtime, reverse=True)


def restore_runs() -> int:
    """Reload the saved runs computed on the loaded dataset (oldest first, so the newest is
    the default selection); returns how many."""
    from fedcore.store import load_run

    fp = state.fingerprint()
    chosen = []
    for path in saved_runs()[:MAX_RESTORED]:
        try:
            meta = json.loads((path / "result.json").read_text())
        except (OSError, ValueError):
            continue
        if meta.get("dataset_fingerprint") == fp:
            chosen.append(path)
    n = 0
    for path in reversed(chosen):
        try:
            _spec, summary, result = load_run(path)
        except Exception:  # noqa: BLE001 - a damaged folder is skipped, the rest load
            continue
        ui = summary.get("ui") or {}
        state.store_result(result, oracle=bool(ui.get("oracle_k")),
                           key=ui.get("run_key") or path.name)
        n += 1
    st.session_state[state.RESTORED] = n
    return n


def delete_saved(keys) -> None:
    """Delete the auto-saved copies of runs (the Runs page lists other folders)."""
    import shutil
    for key in keys:
        path = root() / UI_RUNS / key
        if (path / "summary.json").is_file():
            shutil.rmtree(path, ignore_errors=True)
