"""The Clusters and Explain figures of what the dashboard SHOWS, for the figure pack and the
bundle, plus a record of that choice (own clusters or which what-if re-clustering).

Downloads are built after the click, outside the script run: :func:`capture` collects
everything at script time (session objects, widget choices); :func:`figures` and
:func:`record` are then pure.
"""

from __future__ import annotations

import hashlib

import numpy as np
import streamlit as st

from . import state

CAPTURED = "fl.export_shown"


def capture() -> dict | None:
    """The Clusters page's current choice with what its figures need, or None when nothing
    (current) was chosen there."""
    from .cluster_figures import AUTO, default_layout
    from .cluster_view import describe_selection, representation_cache

    sel = dict(state.selection())
    key = sel.get("result")
    result = state.results().get(key)
    if result is None or sel.get("labels") is None or state.is_stale(result):
        return None
    rep = sel.get("representation")
    cache = (representation_cache(key, result, rep) if rep in result.representations
             else None)
    layout = st.session_state.get(f"w.cl.{key}.{rep}.layout", AUTO)
    if cache is not None and layout == AUTO:
        layout = default_layout(cache)
    labels = np.asarray(sel["labels"])
    digest = hashlib.sha1(np.asarray(labels, dtype=np.int64).tobytes()).hexdigest()[:12]
    arts = st.session_state.get(state.ARTEFACTS, {})
    explanation = arts.get((key, "explain", digest, True)) or arts.get(
        (key, "explain", digest, False))
    name = state.names()[key]
    shown = {"key": key, "name": name, "result": result, "selection": sel, "cache": cache,
            "layout": layout, "labels": labels, "explanation": explanation,
            "description": describe_selection(sel, name)}
    st.session_state[CAPTURED] = shown  # what the page's download buttons will export
    return shown


def record(shown: dict | None) -> dict | None:
    """JSON-ready description of the clustering shown (written as clusters_shown.json)."""
    if shown is None:
        return None
    sel, result = shown["selection"], shown["result"]
    return {"result": shown["name"], "run_id": shown["key"], "shown": shown["description"],
            "view": sel.get("view"), "representation": sel.get("representation"),
            "clusterer": sel.get("clusterer"), "params": sel.get("params") or {},
            "layout": shown["layout"],
            "clusters": {str(c): int(lab) for c, lab in zip(result.client_ids, shown["labels"])}}


def figures(shown: dict | None, dataset) -> dict:
    """``name -> (figure, data)``: client map, dendrogram, distance matrix, assignment flow
    and every explanation figure of the clustering shown."""
    if shown is None:
        return {}
    from .cluster_figures import (
        client_frame,
        dendrogram_figure,
        distance_figure,
        embedding_figure,
        layout_coords,
        sankey_figure,
    )

    result, labels, cache, sel = shown["result"], shown["labels"], shown["cache"], \
        shown["selection"]
    out = {}
    if cache is not None:
        coords, info = layout_coords(cache, shown["layout"])
        from .cluster_figures import LAYOUTS
        used = str(info.get("used", shown["layout"]))
        frame = client_frame(result, labels, coords, dataset)
        fig = embedding_figure(frame, LAYOUTS.get(used, used.upper()))
        fig.update_layout(title={"text": f"Client map — {shown['description']}"})
        out["clusters_client_map"] = (fig, frame)
        out["clusters_dendrogram"] = (dendrogram_figure(
            cache, sel.get("clusterer"), sel.get("params") or {}, labels, result.client_ids),
            None)
        out["clusters_distance_matrix"] = distance_figure(cache, labels, result.client_ids)
    sankey = sankey_figure(result)
    if sankey is not None:
        out["clusters_assignment_flow"] = (sankey, None)
    if dataset is not None:
        from fedcore.plots.explain_plots import explanation_figures
        bundle = shown["explanation"]
        if bundle is None:
            from fedcore.explain import explain_all
            bundle = explain_all(dataset, result, labels=labels, seed=0)
        for name, fig in explanation_figures(bundle).items():
            out[f"explain_{name}"] = (fig, None)
    return out
