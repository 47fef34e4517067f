"""The session's simulation results on the Simulate page: summary table, learning curves,
deletion (from the session and from the auto-saved runs)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from . import state


def results_table(results: dict) -> pd.DataFrame:
    """One row per result: accuracy, worst client, clusters, ARI vs true groups, staleness.

    ``Run`` is the readable run name (oracle-K runs say so); ``K`` how the number of
    clusters was chosen."""
    rows = []
    label = state.names(results)
    for key, r in results.items():
        acc = r.client_metrics["accuracy"].to_numpy(dtype=float)
        rows.append({"run": label[key], "method": r.method,
                     "K chosen": "oracle (true groups)" if state.is_oracle(key) else "user",
                     "mean accuracy": round(float(pd.Series(acc).mean()), 4),
                     "worst client": round(float(pd.Series(acc).min()), 4),
                     "clusters": int(len(set(r.assignments.tolist()))),
                     "ARI": _ari(r), "rounds": int(len(r.rounds)),
                     "seconds": round(float(r.wall_seconds), 1),
                     "status": "stale — re-run" if state.is_stale(r) else "current",
                     "run id": key})
    return pd.DataFrame(rows)


def _ari(result) -> float | None:
    if result.true_groups is None:
        return None
    from sklearn.metrics import adjusted_rand_score
    return round(float(adjusted_rand_score(result.true_groups, result.assignments)), 4)


def rounds_frame(results: dict) -> pd.DataFrame:
    """All results' per-round metrics stacked with a ``method`` column (tidy); pass the
    results keyed by display name (:func:`fedcore.ui.state.named`)."""
    from fedcore.figure_sources import stacked_rounds
    return stacked_rounds(results)


def learning_curves(results: dict):
    """Mean client accuracy per round, one line per method; returns ``(figure, data)``.

    Stale results (computed on another dataset) are left out: their curves are not
    comparable with the others.
    """
    from fedcore.plots import learning_curves as _curves
    data = rounds_frame(state.named({k: r for k, r in results.items() if not state.is_stale(r)}))
    if data.empty:
        return None, data
    return _curves(data, metric="mean_accuracy"), data


def delete_controls(results: dict) -> None:
    """Remove chosen results (or all) from the session and from the auto-saved runs."""
    from .persist import delete_saved

    label = state.names(results)
    with st.popover("Delete results", icon=":material/delete:"):
        keys = st.multiselect("Results to delete", list(results), format_func=label.get,
                              key="sim.delete.pick")
        also_disk = st.checkbox("Also delete their saved copies in the runs folder",
                                value=True, key="sim.delete.disk")
        c1, c2 = st.columns(2)
        if c1.button("Delete chosen", key="sim.delete.some", disabled=not keys):
            _delete(keys, also_disk, delete_saved)
        if c2.button("Clear all", key="sim.delete.all", type="primary"):
            _delete(list(results), also_disk, delete_saved)


def _delete(keys: list[str], also_disk: bool, delete_saved) -> None:
    state.delete_results(keys)
    if also_disk:
        delete_saved(keys)
    st.rerun()
