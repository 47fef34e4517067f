"""Cached wrappers around pure fedcore functions (the heavy, shareable work).

``st.cache_data`` for values keyed by plain arguments (datasets from a bundled name or from
upload bytes); ``st.cache_resource`` for process-wide singletons (the UMAP warm-up thread).
Per-user artefacts (representation caches, embeddings of one result) live in the session
(:func:`fedcore.ui.state.artefact`) because they belong to one user's result objects.
"""

from __future__ import annotations

import os
import threading

import streamlit as st

from fedcore.dataset import FederatedDataset

#: Upload limit in bytes; equal to ``server.maxUploadSize`` (MB) in .streamlit/config.toml.
MAX_UPLOAD_BYTES = 200 * 2**20


@st.cache_data(show_spinner="Preparing the dataset…", max_entries=16)
def bundled_dataset(name: str, scenario: str, n_clients: int, n_groups: int,
                    samples_per_client: int, seed: int,
                    params_items: tuple = ()) -> FederatedDataset:
    """A bundled dataset split into clients by ``scenario`` (cached by all arguments)."""
    from fedcore.partition import make_scenario

    return make_scenario(_bundled_pool(name), scenario, n_clients=int(n_clients),
                         n_groups=int(n_groups), samples_per_client=int(samples_per_client),
                         seed=int(seed), **dict(params_items))


@st.cache_resource(show_spinner="Reading the bundled data…", max_entries=8)
def _bundled_pool(name: str):
    from fedcore.data import load_bundled
    return load_bundled(name)


@st.cache_data(show_spinner=False, max_entries=8)
def upload_columns(content: bytes, filename: str) -> list[str]:
    """Column names offered for the client/label pickers (empty for NPZ / LEAF JSON)."""
    from fedcore.data import read_table_columns
    return list(read_table_columns(content, filename=filename, max_bytes=MAX_UPLOAD_BYTES))


@st.cache_data(show_spinner="Reading the upload…", max_entries=8)
def upload_dataset(content: bytes, filename: str, client_column: str | None,
                   label_column: str | None, seed: int = 0,
                   task: str = "classification") -> FederatedDataset:
    """The federated dataset of an uploaded file (raises DataError with a clear message);
    ``task`` is the user's choice of how the label column is read."""
    from fedcore.data import load_upload
    return load_upload(content, client_column=client_column or None,
                       label_column=label_column or None, seed=int(seed),
                       max_bytes=MAX_UPLOAD_BYTES, filename=filename, task=task)


@st.cache_data(show_spinner=False, max_entries=8)
def upload_task_hint(content: bytes, filename: str, client_column: str | None,
                     label_column: str | None) -> tuple[str, str] | None:
    """``(task, reason)`` the upload's label column looks like (a suggestion the page shows,
    never applies), or None when the file cannot be read either way."""
    import numpy as np

    from fedcore.data import read_upload, suggest_task

    for task in ("classification", "regression"):
        try:
            pool, _, _ = read_upload(content, client_column or None, label_column or None,
                                     MAX_UPLOAD_BYTES, filename, task=task)
        except Exception:  # noqa: BLE001 - e.g. too many classes: try it as a number
            continue
        values = (np.asarray(pool.label_names)[pool.y] if task == "classification"
                  else np.asarray(pool.y))
        hint = suggest_task(values)
        return hint.task, hint.reason
    return None


@st.cache_resource(show_spinner=False)
def umap_warmup() -> threading.Event:
    """Start UMAP's one-off JIT compilation in a background thread, once per process.

    The first UMAP fit costs ~13 s of numba compilation; until the returned event is set,
    pages use PCA and say so. ``FEDLENS_UMAP_WARMUP=0`` disables it (tests).
    """
    done = threading.Event()
    if os.environ.get("FEDLENS_UMAP_WARMUP", "1") == "0":
        return done

    def run():
        try:
            from fedcore.embeddings import warm_up_umap
            warm_up_umap()
            done.set()
        except Exception:  # noqa: BLE001 - without UMAP the pages keep using PCA
            pass

    threading.Thread(target=run, name="fedlens-umap-warmup", daemon=True).start()
    return done


def umap_ready() -> bool:
    """Whether UMAP can be used without a ~13 s stall (starts the warm-up if needed)."""
    done = umap_warmup()
    from fedcore.embeddings import umap_is_warm
    # The event outlives a reload of fedcore.embeddings (Streamlit re-imports edited
    # modules, resetting their flags) while numba's compiled code stays in the process.
    return done.is_set() or umap_is_warm()
