"""Clusters page controller: the method's own clusters first, then what-if re-clustering.

The page opens on the clusters the method itself used (its final assignment). A "what-if
re-clustering" re-clusters the *cached* representation (:class:`RepresentationCache`:
distances and linkage trees computed once) and never retrains. Every widget key contains
the run id, so a k or threshold chosen for one result never carries over to another result
or dataset; each result's controls start from its own number of clusters.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from . import state
from .forms import schema_widgets

OWN, WHAT_IF = "own", "what-if"
VIEWS = {OWN: "Method's own assignment", WHAT_IF: "What-if re-clustering"}


def choose_result(results: dict) -> str:
    """Select box over results (by readable run name); defaults to the last selection or
    the last run."""
    keys = list(results)
    label = state.names(results)
    prev = state.selection().get("result")
    index = keys.index(prev) if prev in keys else len(keys) - 1
    state.keep_valid("cl.result", keys)
    return st.selectbox("Result", keys, index=index, key="cl.result", format_func=label.get,
                        help="Any finished simulation; re-clustering never retrains it.")


def choose_view(key: str) -> str:
    """The method's own clusters (default) or a what-if re-clustering of this result."""
    return st.radio("Clusters shown", list(VIEWS), format_func=VIEWS.get,
                    key=f"w.cl.{key}.view",
                    help="Own assignment: the clusters the method trained its models for. "
                         "What-if: re-cluster the cached client representation without "
                         "retraining (to compare clusterers and cuts).")


def choose_representation(key: str, result) -> str:
    names = [n for n, r in result.representations.items()
             if r.X is not None or r.distance is not None]
    prev = state.selection().get("representation")
    index = names.index(prev) if prev in names else (names.index("updates")
                                                      if "updates" in names else 0)
    return st.selectbox("Representation", names, index=index, key=f"cl.rep.{key}",
                        format_func=lambda n: n.replace("_", " "),
                        help="What describes a client: its weights, its last update, its "
                             "loss profile, its data summary, ...")


def representation_cache(key: str, result, rep_name: str):
    """The memoised distances/trees of one representation of one result (built once)."""
    from fedcore.clustering import RepresentationCache
    rep = result.representations[rep_name]
    art = (key, "cache", rep_name)
    cache = state.artefact(art, lambda: RepresentationCache(rep))
    if not isinstance(cache, RepresentationCache):
        # Built by an older import of fedcore.clustering (Streamlit re-imports edited
        # modules): the new code would not recognise it, so build it again.
        state.forget_artefact(art)
        cache = state.artefact(art, lambda: RepresentationCache(rep))
    return cache


def default_n_clusters(result) -> int | None:
    """The starting number of clusters of the sliders: the method's own count when it
    clustered at all (2..N-1), else the number of true groups when known."""
    n = len(result.client_ids)
    own = len(set(np.asarray(result.assignments).tolist()))
    if 2 <= own < n:
        return own
    if result.true_groups is not None:
        return len(set(np.asarray(result.true_groups).tolist()))
    return None


def clustering_controls(cache, prefix: str, n_clusters: int | None = None) -> tuple[str, dict]:
    """Clusterer select box + its parameters as live sliders (adapted to ``cache``).

    ``n_clusters`` (e.g. :func:`default_n_clusters`) replaces the schema's default number
    of clusters, so the first view is comparable with the method's own clustering. When the
    cut switches from a number of clusters to a distance threshold, the threshold starts at
    the height giving the partition shown just before.
    """
    from fedcore.clustering import CLUSTERERS, schema_for

    names = list(CLUSTERERS)
    # A fixed default: a default that varies between runs would change the widget's
    # identity and reset the user's choice.
    name = st.selectbox("Clustering", names, index=0, format_func=lambda n: CLUSTERERS[n].label,
                        key=f"{prefix}.clusterer",
                        help="Re-clusters the cached representation; no retraining.")
    st.caption(CLUSTERERS[name].description)
    schema = _fit_to_clients(schema_for(name, cache), cache.n_clients, n_clusters)
    choices = {k: v for k, v in schema.items() if v.kind == "choice"}
    params = schema_widgets(choices, f"{prefix}.{name}")
    skip = set(choices)
    if "cut" in params:
        skip.add("distance_threshold" if params["cut"] == "n_clusters" else "n_clusters")
        schema = _threshold_follows_cut(cache, f"{prefix}.{name}", params, schema)
    for hidden in ("n_init", "seed"):
        skip.add(hidden)
    numeric = {k: v for k, v in schema.items() if k not in skip}
    params.update(schema_widgets(numeric, f"{prefix}.{name}", sliders=True))
    return name, params


def _threshold_follows_cut(cache, prefix: str, params: dict, schema: dict) -> dict:
    """On a switch n_clusters -> distance_threshold, start the threshold at the cut height
    giving the number of clusters shown before (not at an unrelated remembered value).
    Returns ``schema`` with that default."""
    from fedcore.clustering import cut_height_for

    last_key = f"fl.cut_seen.{prefix}"
    last = st.session_state.get(last_key)
    st.session_state[last_key] = params["cut"]
    if params["cut"] != "distance_threshold" or last == "distance_threshold":
        return schema
    k = st.session_state.get(f"{prefix}.n_clusters", schema["n_clusters"].default)
    Z = cache.linkage(params["linkage"], params["metric"])
    spec = schema["distance_threshold"]
    height = cut_height_for(Z, int(k))
    step = float(spec.step or 0) or 1e-6
    lo, hi = float(spec.min or 0.0), float(spec.max)
    # On the slider's grid, as close as it gets to the midpoint between the two merges.
    value = min(max(lo + round((height - lo) / step) * step, lo), hi)
    st.session_state[f"{prefix}.distance_threshold"] = value
    return {**schema, "distance_threshold": spec.with_(default=value)}


def _fit_to_clients(schema: dict, n_clients: int, n_clusters: int | None) -> dict:
    """Counts of clients never exceed N; the number of clusters starts at ``n_clusters``."""
    out = dict(schema)
    for name, spec in schema.items():
        if name in ("min_samples", "min_cluster_size") and spec.max is not None:
            top = max(int(spec.min or 1), min(int(spec.max), n_clients))
            out[name] = spec.with_(max=top, default=min(int(spec.default), top))
        if name == "n_clusters" and n_clusters is not None and spec.max is not None:
            out[name] = spec.with_(default=int(min(max(n_clusters, spec.min or 1), spec.max)))
    return out


def recluster(representation, cache, clusterer: str, params: dict) -> np.ndarray:
    """Labels of ``clusterer`` on the cached representation (no retraining)."""
    from fedcore.clustering import recluster as _recluster
    return _recluster(representation, clusterer, params, cache=cache)


def quality(cache, labels: np.ndarray, true_groups) -> dict:
    """ARI/AMI/NMI vs true groups (when known), silhouette, Davies-Bouldin, clusters found."""
    from fedcore.metrics import cluster_quality
    if cache.has_vectors:
        return cluster_quality(labels, cache.features, true_groups=true_groups,
                               metric="euclidean")
    return cluster_quality(labels, cache.distance("precomputed"), true_groups=true_groups,
                           metric="precomputed")


QUALITY_LABELS = {"n_clusters": "Clusters found", "ari": "ARI", "ami": "AMI", "nmi": "NMI",
                  "silhouette": "Silhouette", "davies_bouldin": "DB index",
                  "n_noise": "Noise"}


def show_quality(q: dict, method_agreement: float | None = None) -> None:
    """The quality numbers as ``st.metric`` tiles, at most four to a row so no label is
    truncated (None shown as "—")."""
    keys = [k for k in QUALITY_LABELS if k in q and not (k == "n_noise" and not q[k])]
    cols = [c for _ in range(0, len(keys), 4) for c in st.columns(4)]
    for col, k in zip(cols, keys):
        v = q[k]
        text = "—" if v is None else (str(int(v)) if k in ("n_clusters", "n_noise")
                                      else f"{float(v):.3f}")
        col.metric(QUALITY_LABELS[k], text, help=_QUALITY_HELP.get(k))
    notes = []
    if all(q.get(k) is None for k in ("ari", "ami", "nmi")):
        notes.append("ARI/AMI/NMI need known true groups (a synthetic scenario, or "
                     "`true groups` in the natural scenario's parameters).")
    if method_agreement is not None:
        notes.append(f"Agreement with the method's own clusters: ARI {method_agreement:.3f}.")
    if notes:
        st.caption(" ".join(notes))


def method_agreement(result, labels: np.ndarray) -> float | None:
    """ARI between this re-clustering and the clusters the method itself used."""
    from sklearn.metrics import adjusted_rand_score
    own = np.asarray(result.assignments)
    if own.shape != np.asarray(labels).shape:
        return None
    return float(adjusted_rand_score(own, labels))


def remember(key: str, rep_name: str | None, view: str, clusterer: str | None, params: dict,
             labels: np.ndarray) -> None:
    """Record what the page shows (the Explain page, the figure pack and the bundle use it)."""
    from fedcore.metrics import relabel_like

    result = state.results()[key]
    # A re-clustering identical to the run's own clusters takes the run's numbering.
    labels = relabel_like(labels, result.assignments)
    state.set_selection({"result": key, "representation": rep_name, "view": view,
                         "clusterer": clusterer, "params": dict(params), "labels": labels})


def describe_selection(sel: dict, name: str) -> str:
    """One line saying which clustering is shown (used by Explain and the exports)."""
    if sel.get("view", WHAT_IF) == OWN or not sel.get("clusterer"):
        return f"{name}: the method's own clusters"
    shown = {k: v for k, v in (sel.get("params") or {}).items()
             if k not in ("n_init", "seed")}
    args = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                     for k, v in shown.items())
    rep_name = str(sel.get("representation")).replace("_", " ")
    return f"{name}: what-if re-clustering of {rep_name} with {sel['clusterer']}({args})"


_QUALITY_HELP = {
    "ari": "Adjusted Rand index vs the true groups (1 = identical, 0 = chance).",
    "ami": "Adjusted mutual information vs the true groups.",
    "nmi": "Normalised mutual information vs the true groups.",
    "silhouette": "Mean silhouette on the representation (higher = better separated).",
    "davies_bouldin": "Davies-Bouldin index (lower = better separated).",
    "n_clusters": "Clusters shown (noise excluded).",
    "n_noise": "Clients a density clusterer (DBSCAN/HDBSCAN) left unassigned (-1, grey).",
}
