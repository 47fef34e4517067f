"""Per-session state: the loaded dataset, results per method, selections, staleness.

Everything a user made lives in ``st.session_state`` under the ``fl.`` keys below, so switching
pages loses nothing. Widgets whose value must survive a page switch use keys starting with
``w.``; :func:`keep_widget_values` re-asserts them every run (Streamlit otherwise forgets the
value of a widget that was not drawn in the previous run); every page calls
:func:`page_setup` first.
"""

from __future__ import annotations

import streamlit as st

from fedcore.dataset import FederatedDataset
from fedcore.results import SimulationResult

DATASET = "fl.dataset"
DATASET_SOURCE = "fl.dataset_source"
DATASET_FINGERPRINT = "fl.dataset_fingerprint"
DATASET_ERROR = "fl.dataset_error"
RESULTS = "fl.results"
RUN_ERRORS = "fl.run_errors"
SELECTION = "fl.cluster_selection"
ARTEFACTS = "fl.artefacts"
DATASET_NAMES = "fl.dataset_names"
SIDEBAR_SLOT = "fl.sidebar_slot"
ORACLE_RUNS = "fl.oracle_runs"
RESTORED = "fl.restored"
RUNNING = "fl.running"

#: The dataset loaded on first visit: small, real, with natural clients (4 hospitals).
DEFAULT_SOURCE = {"kind": "bundled", "name": "heart", "scenario": "natural", "n_clients": 4,
                  "n_groups": 4, "samples_per_client": 100, "seed": 0, "params": {}}


def keep_widget_values() -> None:
    """Re-assert every ``w.``-prefixed widget value so it survives page switches."""
    for key in list(st.session_state.keys()):
        if isinstance(key, str) and key.startswith("w."):
            st.session_state[key] = st.session_state[key]


def keep_valid(key: str, options: list, multi: bool = False) -> None:
    """Drop a remembered widget value that is no longer among ``options``.

    Options of some widgets depend on the session (result names, whether true groups are
    known); a value kept from an earlier run must not make Streamlit raise.
    """
    if key not in st.session_state:
        return
    value = st.session_state[key]
    if multi:
        kept = [v for v in (value or []) if v in options]
        if kept != list(value or []):
            st.session_state[key] = kept
    elif value not in options:
        del st.session_state[key]


def page_setup() -> None:
    """First line of every page: keep widget values across page switches, ensure data.

    Called by each page (not only by app.py) because a widget-triggered rerun may execute
    the page without the frame script (as Streamlit's AppTest does).
    """
    keep_widget_values()
    ensure_dataset()


def ensure_dataset() -> None:
    """On a session's first run: restore the last dataset choice and the saved runs on it
    (a browser reload or a server restart loses nothing), else load the default dataset.
    Never replaces a loaded dataset."""
    fresh = RESULTS not in st.session_state
    st.session_state.setdefault(RESULTS, {})
    st.session_state.setdefault(RUN_ERRORS, {})
    st.session_state.setdefault(ARTEFACTS, {})
    st.session_state.setdefault(ORACLE_RUNS, set())
    if st.session_state.get(DATASET) is not None or st.session_state.get(DATASET_ERROR):
        return
    from . import persist
    restored = persist.restore_dataset()
    if restored is not None:
        set_dataset(*restored, remember=False)
    else:
        from . import cached
        try:
            ds = cached.bundled_dataset(**source_args(DEFAULT_SOURCE))
        except Exception as exc:  # noqa: BLE001 - shown on the Data page instead of crashing
            st.session_state[DATASET_ERROR] = f"default dataset could not be loaded: {exc}"
            return
        set_dataset(ds, DEFAULT_SOURCE, remember=False)
    if fresh:
        persist.restore_runs()


def source_args(source: dict) -> dict:
    """The arguments of :func:`fedcore.ui.cached.bundled_dataset` for a bundled ``source``."""
    return {k: source[k] for k in ("name", "scenario", "n_clients", "n_groups",
                                   "samples_per_client", "seed")} | {
        "params_items": tuple(sorted(source.get("params", {}).items()))}


def dataset() -> FederatedDataset | None:
    """The currently loaded dataset (None only if even the default failed)."""
    return st.session_state.get(DATASET)


def dataset_source() -> dict:
    return st.session_state.get(DATASET_SOURCE, {})


def set_dataset(ds: FederatedDataset, source: dict, remember: bool = True) -> None:
    """Make ``ds`` the current dataset; results computed on another dataset become stale.

    ``remember``: save the choice so a reloaded page starts with it
    (:mod:`fedcore.ui.persist`)."""
    if remember:
        from . import persist
        persist.remember_source(source)
    st.session_state[DATASET] = ds
    st.session_state[DATASET_SOURCE] = dict(source)
    st.session_state[DATASET_FINGERPRINT] = ds.fingerprint()
    st.session_state.setdefault(DATASET_NAMES, {})[ds.fingerprint()] = ds.name
    st.session_state.pop(DATASET_ERROR, None)
    refresh_sidebar()


def fingerprint() -> str:
    return st.session_state.get(DATASET_FINGERPRINT, "")


def results() -> dict[str, SimulationResult]:
    """Run id -> result (insertion order = run order); see :mod:`fedcore.ui.run_keys`."""
    return st.session_state.setdefault(RESULTS, {})


def store_result(result: SimulationResult, oracle: bool = False, key: str | None = None) -> str:
    """Add ``result`` under its run id (replacing an identical earlier run); returns the id."""
    from .run_keys import run_id
    key = key or run_id(result)
    results().pop(key, None)  # re-inserted last: the newest run is the default everywhere
    results()[key] = result
    oracles = st.session_state.setdefault(ORACLE_RUNS, set())
    (oracles.add if oracle else oracles.discard)(key)
    st.session_state.setdefault(RUN_ERRORS, {}).pop(result.method, None)
    _forget_derived(key)
    refresh_sidebar()
    return key


def _forget_derived(key: str) -> None:
    # Derived artefacts (cluster caches, embeddings) of an older result with this key are void.
    arts = st.session_state.setdefault(ARTEFACTS, {})
    for k in [k for k in arts if k[0] == key]:
        del arts[k]
    if selection().get("result") == key:
        st.session_state.pop(SELECTION, None)


def delete_results(keys) -> None:
    """Remove results from the session (saved copies on disk stay)."""
    for key in list(keys):
        results().pop(key, None)
        st.session_state.setdefault(ORACLE_RUNS, set()).discard(key)
        _forget_derived(key)
    refresh_sidebar()


def is_oracle(key: str) -> bool:
    return key in st.session_state.get(ORACLE_RUNS, set())


def names(res: dict | None = None) -> dict[str, str]:
    """Run id -> unique readable name (method + the parameters telling its runs apart)."""
    from .run_keys import display_names
    # Named among ALL session results, so a run has the same name on every page.
    full = {**results(), **(res or {})}
    label = display_names(full, st.session_state.get(ORACLE_RUNS, set()))
    return {k: label[k] for k in (full if res is None else res)}


def named(res: dict) -> dict[str, SimulationResult]:
    """``res`` keyed by display name: the ``method`` column of every table and legend."""
    label = names(res)
    return {label[k]: r for k, r in res.items()}


def run_errors() -> dict[str, str]:
    return st.session_state.setdefault(RUN_ERRORS, {})


def is_stale(result: SimulationResult) -> bool:
    """True when ``result`` was computed on a different dataset than the loaded one."""
    return bool(result.dataset_fingerprint) and result.dataset_fingerprint != fingerprint()


def stale_notice(res: dict | None = None, what: str = "") -> list[str]:
    """ONE warning naming every stale result (instead of a banner per result); returns
    the stale keys. ``what`` says what happens to them on this page."""
    res = results() if res is None else res
    stale = [k for k, r in res.items() if is_stale(r)]
    if stale:
        label = names()
        st.warning(f"Stale — re-run or delete: {', '.join(label.get(k, k) for k in stale)} "
                   f"{'was' if len(stale) == 1 else 'were'} computed on another dataset than "
                   f"the loaded {dataset().name if dataset() else 'one'}{what}.",
                   icon=":material/history:")
    return stale


def stale_note(result: SimulationResult) -> str:
    """Why ``result`` is stale, naming both datasets when this session knows them."""
    names = st.session_state.get(DATASET_NAMES, {})
    ds = dataset()
    was = names.get(result.dataset_fingerprint) or "another dataset"
    now = ds.name if ds is not None else "none"
    return (f"{result.method}: stale — re-run (computed on {was} "
            f"`{result.dataset_fingerprint[:8]}`; the loaded dataset is {now} "
            f"`{fingerprint()[:8]}`)")


def artefact(key: tuple, build):
    """Per-session memo: ``build()`` once per ``key`` (first item = result key)."""
    arts = st.session_state.setdefault(ARTEFACTS, {})
    if key not in arts:
        arts[key] = build()
    return arts[key]


def forget_artefact(key: tuple) -> None:
    st.session_state.setdefault(ARTEFACTS, {}).pop(key, None)


def selection() -> dict:
    """The Clusters page's current choice (result, representation, clusterer, labels)."""
    return st.session_state.get(SELECTION, {})


def set_selection(sel: dict) -> None:
    st.session_state[SELECTION] = sel


def sidebar_status() -> None:
    """A compact status block in the sidebar: dataset, fingerprint, results.

    Drawn into a placeholder before the page runs; :func:`set_dataset` and
    :func:`store_result` redraw it, so it never shows the previous dataset or results.
    """
    slot = st.sidebar.empty()
    st.session_state[SIDEBAR_SLOT] = slot
    _draw_status(slot)


def refresh_sidebar() -> None:
    """Redraw the sidebar status of this run (no-op before :func:`sidebar_status`)."""
    slot = st.session_state.get(SIDEBAR_SLOT)
    if slot is None:
        return
    try:
        _draw_status(slot)
    except Exception:  # noqa: BLE001 - a status line must never break a page
        pass


def _draw_status(slot) -> None:
    ds = dataset()
    with slot.container():
        if ds is None:
            st.caption("No dataset loaded.")
            return
        st.caption(f"**Dataset:** {ds.name} · {ds.n_clients} clients · {ds.n_classes} classes"
                   f"  \n`{fingerprint()}`")
        res = results()
        if res:
            label = names(res)
            marks = [f"{label[k]}{' (stale)' if is_stale(r) else ''}" for k, r in res.items()]
            st.caption("**Results:** " + ", ".join(marks))
