"""The session's simulation results on the Simulate page: summary table, learning curves,
deletion (from the session and from the auto-saved runs)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from . import state


def results_table(results: dict) -> pd.DataFrame:
    """One row per result: accuracy, worst client, clusters, ARI vs true groups, staleness.

    Regression results show ``mean RMSE``, ``worst client RMSE`` (the largest), ``mean
    MAE`` and ``mean R²`` instead; pass results of one task (:func:`results_tables`).
    ``Run`` is the readable run name (oracle-K runs say so); ``K`` how the number of
    clusters was chosen."""
    rows = []
    label = state.names(results)
    for key, r in results.items():
        rows.append({"run": label[key], "method": r.method,
                     "K chosen": "oracle (true groups)" if state.is_oracle(key) else "user",
                     **_scores(r),
                     "clusters": int(len(set(r.assignments.tolist()))),
                     "ARI": _ari(r), "rounds": int(len(r.rounds)),
                     "seconds": round(float(r.wall_seconds), 1),
                     "status": "stale — re-run" if state.is_stale(r) else "current",
                     "run id": key})
    return pd.DataFrame(rows)


def _scores(result) -> dict:
    """The headline score columns of one result, by its task."""
    from .task_metrics import task_of

    cm = result.client_metrics

    def col(name):
        return pd.Series(cm[name].to_numpy(dtype=float))

    if task_of(result) == "regression":
        rmse = col("rmse")
        return {"mean RMSE": round(float(rmse.mean()), 4),
                "worst client RMSE": round(float(rmse.max()), 4),
                "mean MAE": round(float(col("mae").mean()), 4),
                "mean R²": round(float(col("r2").mean()), 4)}
    acc = col("accuracy")
    return {"mean accuracy": round(float(acc.mean()), 4),
            "worst client": round(float(acc.min()), 4)}


def results_tables(results: dict) -> list[tuple[str, pd.DataFrame]]:
    """``(task, table)`` per task among ``results``: classification and regression runs
    have no score in common, so each task gets its own table."""
    from .task_metrics import by_task
    return [(task, results_table(part)) for task, part in by_task(results).items()]


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
    """Mean client accuracy (RMSE for regression) per round, one line per method; returns
    ``(figure, data)``.

    Stale results (computed on another dataset) are left out: their curves are not
    comparable with the others.
    """
    from fedcore.plots import learning_curves as _curves

    from .task_metrics import by_task, direction, metric_for
    fresh = {k: r for k, r in results.items() if not state.is_stale(r)}
    if not fresh:
        return None, rounds_frame({})
    fresh = next(iter(by_task(fresh).values()))  # the loaded dataset's task (one task)
    metric = metric_for(fresh)
    data = rounds_frame(state.named(fresh))
    if data.empty:
        return None, data
    title = None if metric.higher_is_better else (
        f"Mean client {metric.label} per round ({direction(metric)})")
    return _curves(data, metric=f"mean_{metric.name}", title=title), data


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
