"""Cluster quality and per-client performance tables.

Agreement with known groups: adjusted Rand index (Hubert & Arabie 1985), adjusted
mutual information (Vinh, Epps & Bailey 2010), normalised mutual information.
Internal quality: silhouette (Rousseeuw 1987) and Davies-Bouldin (1979).
Client-level fairness summaries (worst client, 10th percentile) follow the CFL
evaluation practice of e.g. Ghosh et al. 2020 (IFCA) and Sattler et al. 2020 (CFL).

Noise (label -1 from DBSCAN/HDBSCAN) counts as one extra group in ARI/AMI/NMI and is
left out of silhouette and Davies-Bouldin.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn import metrics as skm

from fedcore.clustering.linalg import limited_threads
from fedcore.errors import ConfigError
from fedcore.regression_metrics import REGRESSION_COLUMNS, common_task, primary_metric, task_of
from fedcore.results import SimulationResult


def _looks_like_distance(M: np.ndarray) -> bool:
    return (M.ndim == 2 and M.shape[0] == M.shape[1] and np.allclose(np.diag(M), 0)
            and np.allclose(M, M.T) and bool(np.all(M >= 0)))


def cluster_quality(labels: np.ndarray, X_or_distance: np.ndarray | None = None,
                    true_groups: np.ndarray | None = None, metric: str = "auto") -> dict:
    """Quality of a clustering, against the truth when known.

    Parameters
    ----------
    labels : ndarray of int, shape (N,)
    X_or_distance : ndarray, (N, D) vectors or (N, N) distances, optional
    true_groups : ndarray of int, shape (N,), optional
    metric : {"auto", "precomputed", "euclidean"}
        ``auto`` treats a square, symmetric, non-negative matrix with a zero diagonal as
        distances.

    Returns
    -------
    dict with ``n_clusters, n_noise, ari, ami, nmi, silhouette, davies_bouldin``; entries
    that cannot be computed (no truth, fewer than 2 clusters, distances only for
    Davies-Bouldin) are None.
    """
    labels = np.asarray(labels).astype(np.int64)
    clustered = labels >= 0
    n_clusters = int(np.unique(labels[clustered]).size)
    out = {"n_clusters": n_clusters, "n_noise": int((~clustered).sum()), "ari": None,
           "ami": None, "nmi": None, "silhouette": None, "davies_bouldin": None}
    if true_groups is not None:
        truth = np.asarray(true_groups)
        if truth.shape != labels.shape:
            raise ConfigError(f"true_groups has {truth.shape[0]} entries, labels {labels.size}")
        out["ari"] = float(skm.adjusted_rand_score(truth, labels))
        out["ami"] = float(skm.adjusted_mutual_info_score(truth, labels))
        out["nmi"] = float(skm.normalized_mutual_info_score(truth, labels))
    if X_or_distance is None:
        return out
    M = np.asarray(X_or_distance, dtype=np.float64)
    precomputed = metric == "precomputed" or (metric == "auto" and _looks_like_distance(M))
    n_kept = int(clustered.sum())
    if 2 <= n_clusters <= n_kept - 1:
        with limited_threads():
            _internal_scores(out, M, labels, clustered, precomputed)
    return out


def _internal_scores(out: dict, M: np.ndarray, labels: np.ndarray, clustered: np.ndarray,
                     precomputed: bool) -> None:
    """Silhouette (and Davies-Bouldin when vectors are given) over non-noise clients."""
    kept = labels[clustered]
    if precomputed:
        sub = M[np.ix_(clustered, clustered)]
        out["silhouette"] = float(skm.silhouette_score(sub, kept, metric="precomputed"))
    else:
        sub = M[clustered]
        out["silhouette"] = float(skm.silhouette_score(sub, kept))
        out["davies_bouldin"] = float(skm.davies_bouldin_score(sub, kept))


def cluster_sizes(labels: np.ndarray) -> pd.DataFrame:
    """One row per cluster (noise -1 included when present): ``cluster, n_clients, fraction``."""
    labels = np.asarray(labels).astype(np.int64)
    ids, counts = np.unique(labels, return_counts=True)
    total = max(1, labels.size)
    return pd.DataFrame({"cluster": ids, "n_clients": counts, "fraction": counts / total})


def results_task(results: dict[str, SimulationResult]) -> str:
    """The one task of ``results`` (ConfigError when runs of both tasks are mixed)."""
    return common_task(task_of(r) for r in results.values())


def score_columns(task: str) -> list[str]:
    """Per-client score columns of a task, the primary metric first."""
    return ["accuracy"] if task == "classification" else [
        primary_metric(task).name, *(c for c in REGRESSION_COLUMNS
                                     if c != primary_metric(task).name)]


def client_accuracy_table(results: dict[str, SimulationResult]) -> pd.DataFrame:
    """Tidy per-client table of every run: ``method, client, cluster, accuracy, loss,
    true_group`` (``true_group`` is NaN when unknown). ``method`` is the dict key.

    Regression runs give ``rmse, mae, r2`` in place of ``accuracy``.
    """
    scores = score_columns(results_task(results))
    frames = []
    for name, res in results.items():
        cm = res.client_metrics
        tg = cm["true_group"].to_numpy() if "true_group" in cm.columns else (
            np.asarray(res.true_groups) if res.true_groups is not None
            else np.full(len(cm), np.nan))
        frames.append(pd.DataFrame({
            "method": name, "client": cm["client"].astype(str).to_numpy(),
            "cluster": cm["cluster"].to_numpy(),
            **{c: cm[c].to_numpy(float) for c in scores},
            "loss": cm["loss"].to_numpy(float), "true_group": tg}))
    if not frames:
        return pd.DataFrame(columns=["method", "client", "cluster", *scores, "loss",
                                     "true_group"])
    return pd.concat(frames, ignore_index=True)


def gains_over(results: dict[str, SimulationResult], baseline: str = "fedavg") -> pd.DataFrame:
    """Per-client gain of every other run over ``baseline`` (e.g. fedavg, local).

    Returns
    -------
    DataFrame ``method, client, accuracy, baseline_accuracy, gain, baseline``
    with ``gain = accuracy - baseline_accuracy``. Regression runs: ``rmse, baseline_rmse``
    and ``gain = baseline_rmse - rmse``, so a positive gain is always an improvement.
    """
    if baseline not in results:
        raise ConfigError(f"baseline {baseline!r} was not run; available: {sorted(results)}")
    metric = primary_metric(results_task(results))
    col = metric.name
    table = client_accuracy_table(results)
    base = table[table["method"] == baseline][["client", col]]
    base = base.rename(columns={col: f"baseline_{col}"})
    others = table[table["method"] != baseline][["method", "client", col]]
    merged = others.merge(base, on="client", how="inner")
    diff = merged[col] - merged[f"baseline_{col}"]
    merged["gain"] = diff if metric.higher_is_better else -diff
    merged["baseline"] = baseline
    return merged.reset_index(drop=True)


def run_summary(result: SimulationResult) -> dict:
    """The headline numbers of one run, defined once for the CLI, the grid, the bundle and
    the dashboard's summary tables.

    Returns
    -------
    dict
        ``mean_client_accuracy``, ``std_client_accuracy``, ``worst_client_accuracy``,
        ``p10_client_accuracy`` over clients with a finite test accuracy (NaN when none),
        ``ari`` of the final assignments vs the true groups (None when unknown) and
        ``n_clusters`` in use (noise label -1 not counted), ``estimated_k``: the K the
        method estimated itself (``estimate_k=True``; None when K was given or not needed).
        A regression run has ``mean_client_rmse, std_client_rmse, worst_client_rmse``
        (the largest), ``p90_client_rmse``, ``mean_client_mae`` and ``mean_client_r2``
        instead of the accuracy keys. Both carry ``task`` and ``primary_metric``.
    """
    task = task_of(result)
    metric = primary_metric(task)
    assignments = np.asarray(result.assignments)
    truth = result.true_groups
    ari = None
    if truth is not None and len(truth) == len(assignments):
        ari = float(skm.adjusted_rand_score(truth, assignments))

    def finite(col):
        values = result.client_metrics[col].to_numpy(float)
        return values[np.isfinite(values)]

    def stat(fn, values):
        return float(fn(values)) if values.size else float("nan")

    name, values = metric.name, finite(metric.name)
    tail = 10 if metric.higher_is_better else 90  # the worst-off tenth of the clients
    out = {f"mean_client_{name}": stat(np.mean, values),
           f"std_client_{name}": stat(np.std, values),
           f"worst_client_{name}": stat(metric.worst, values),
           f"p{tail}_client_{name}": stat(lambda a: np.percentile(a, tail), values)}
    for extra in score_columns(task)[1:]:
        out[f"mean_client_{extra}"] = stat(np.mean, finite(extra))
    return {**out, "ari": ari, "n_clusters": int(np.unique(assignments[assignments >= 0]).size),
            "estimated_k": estimated_k(result.diagnostics), "task": task,
            "primary_metric": name}


def estimated_k(diagnostics: list[dict]) -> int | None:
    """The K a method estimated itself (``estimated_k`` in its diagnostics), None if it was
    given or the method finds clusters otherwise (the last estimate if there were several)."""
    found = [d["estimated_k"] for d in diagnostics if d.get("estimated_k") is not None]
    return int(found[-1]) if found else None


def method_summary(results: dict[str, SimulationResult]) -> pd.DataFrame:
    """One row per run: ``method, mean_accuracy, std, worst_accuracy, p10_accuracy, ari,
    n_clusters, wall_seconds`` (:func:`run_summary`; ``ari`` NaN if unknown).

    Regression runs: ``method, mean_rmse, std, worst_rmse, p90_rmse, mean_mae, mean_r2, ari,
    n_clusters, wall_seconds`` (worst = largest RMSE).
    """
    task = results_task(results)
    name = primary_metric(task).name
    tail = "p10" if primary_metric(task).higher_is_better else "p90"
    extras = score_columns(task)[1:]
    columns = ["method", f"mean_{name}", "std", f"worst_{name}", f"{tail}_{name}",
               *(f"mean_{e}" for e in extras), "ari", "n_clusters", "wall_seconds"]
    rows = []
    for method, res in results.items():
        s = run_summary(res)
        rows.append({
            "method": method, f"mean_{name}": s[f"mean_client_{name}"],
            "std": s[f"std_client_{name}"], f"worst_{name}": s[f"worst_client_{name}"],
            f"{tail}_{name}": s[f"{tail}_client_{name}"],
            **{f"mean_{e}": s[f"mean_client_{e}"] for e in extras},
            "ari": np.nan if s["ari"] is None else s["ari"], "n_clusters": s["n_clusters"],
            "wall_seconds": float(res.wall_seconds)})
    return pd.DataFrame(rows, columns=columns)


def assignment_flows(assignment_history: np.ndarray,
                     rounds: list[int] | None = None) -> pd.DataFrame:
    """How many clients moved between clusters from one round to the next (Sankey input).

    Parameters
    ----------
    assignment_history : ndarray of int, shape (R, N)
    rounds : list of int, optional
        Row indices to compare consecutively (default: every round).

    Returns
    -------
    DataFrame ``round_from, round_to, cluster_from, cluster_to, n_clients``.
    """
    hist = np.asarray(assignment_history)
    cols = ["round_from", "round_to", "cluster_from", "cluster_to", "n_clients"]
    if hist.ndim != 2 or hist.shape[0] < 2:
        return pd.DataFrame(columns=cols)
    rows = list(range(hist.shape[0])) if rounds is None else [int(r) for r in rounds]
    frames = []
    for a, b in zip(rows[:-1], rows[1:]):
        pairs = pd.DataFrame({"cluster_from": hist[a], "cluster_to": hist[b]})
        counts = pairs.value_counts().rename("n_clients").reset_index()
        counts.insert(0, "round_to", b)
        counts.insert(0, "round_from", a)
        frames.append(counts)
    out = pd.concat(frames, ignore_index=True)[cols]
    return out.sort_values(cols[:4]).reset_index(drop=True)


def canonical_labels(labels) -> np.ndarray:
    """Clusters renumbered by first appearance (noise ``-1`` kept): a partition's normal form.

    Two labelings describe the same partition exactly when their canonical forms are equal.
    """
    labels = np.asarray(labels).astype(np.int64)
    out = np.full(labels.shape, -1, dtype=np.int64)
    mapping: dict[int, int] = {}
    for i, lab in enumerate(labels.tolist()):
        if lab >= 0:
            out[i] = mapping.setdefault(lab, len(mapping))
    return out


def same_partition(a, b) -> bool:
    """Whether ``a`` and ``b`` group the clients identically, whatever the cluster numbers."""
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and np.array_equal(canonical_labels(a), canonical_labels(b))


def relabel_like(labels, reference) -> np.ndarray:
    """``reference`` when ``labels`` is the same partition numbered differently, else
    ``labels``: a re-clustering identical to a run's own clusters gets the run's numbering
    (so its cluster models, trained for those numbers, apply)."""
    return (np.asarray(reference).astype(np.int64) if same_partition(labels, reference)
            else np.asarray(labels).astype(np.int64))
