"""Runs page, "Import results": an exchange record (made by any framework) -> a saved run.

The upload is validated completely before anything is written or loaded
(:mod:`fedcore.interop`); a bad record is one error line and the session keeps what it had.
"""

from __future__ import annotations

import time
from pathlib import Path

import streamlit as st

from . import state
from .errors import show_error

#: What the uploader accepts: the single .npz, or the files of the directory form.
IMPORT_TYPES = ["npz", "json", "parquet", "csv", "tsv", "txt", "zip"]


def import_controls(root: Path) -> None:
    """Uploader + button; on success the run is saved under ``root`` and loaded."""
    with st.expander("Import results from another framework (PyTorch, Flower, NumPy…)",
                     icon=":material/upload:"):
        st.caption("A FedLens exchange record (README, *Import results*): one `.npz`, or all "
                   "files of the directory form (`manifest.json`, `arrays.npz`, metrics, "
                   "client data) at once.")
        files = st.file_uploader("Exchange record", type=IMPORT_TYPES, key="runs.import.files",
                                 accept_multiple_files=True)
        if st.button("Import results", key="runs.import.go", disabled=not files):
            key = import_upload(root, files)
            if key is not None:
                st.success(f"Imported {key}; open the Clusters or Performance page.")


def import_upload(root: Path, files) -> str | None:
    """Validate, save and load uploaded exchange files; the session key, or None on error."""
    from fedcore.data import DEFAULT_MAX_BYTES
    from fedcore.interop import read_exchange, save_imported

    try:
        if len(files) == 1:
            payload, name = files[0], files[0].name
        else:
            payload, name = {f.name: f.getvalue() for f in files}, "upload"
        ex = read_exchange(payload, filename=None if len(files) > 1 else name,
                           max_bytes=DEFAULT_MAX_BYTES)
        out = root / f"import-{time.strftime('%Y%m%d-%H%M%S')}-{_slug(ex.method)}"
        path, result, dataset = save_imported(ex, out, source=name)
    except Exception as exc:  # noqa: BLE001 - shown, nothing loaded
        show_error(exc, "Import")
        return None
    return _into_session(result, dataset, ex, path.name)


def is_imported_run(path: str) -> bool:
    from fedcore.interop import EXCHANGE_FILE
    return (Path(path) / EXCHANGE_FILE).is_file()


def load_imported(path: str, run_id: str) -> str | None:
    """Reload an imported run and, when its record has client data, that data too."""
    from fedcore.interop import load_imported_run

    try:
        result, dataset, ex = load_imported_run(path)
    except Exception as exc:  # noqa: BLE001
        show_error(exc, f"Could not load run {run_id}")
        return None
    return _into_session(result, dataset, ex, run_id)


def _into_session(result, dataset, ex, run_id: str) -> str:
    if dataset is not None:
        name, content = ex.client_data
        opts = ex.data_options
        state.set_dataset(dataset, {"kind": "upload", "filename": name, "content": content,
                                    "seed": int(opts.get("seed", 0)),
                                    "client_column": opts.get("client_column"),
                                    "label_column": opts.get("label_column")})
    return state.store_result(result, key=f"{result.method} @ {run_id}")


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in text)[:40]
