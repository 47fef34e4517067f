"""Clusters page: re-cluster a finished run from its cached client representations, live."""

import streamlit as st

from fedcore.ui import cluster_view, state
from fedcore.ui.errors import guard
from fedcore.ui.figures import show_figure

state.page_setup()
st.title("Clusters")
results = state.results()
if not results:
    st.info("No results yet: run a simulation on the Simulate page.")
    st.stop()

labels = None
left, right = st.columns([1, 3], gap="large")
with left:
    key = cluster_view.choose_result(results)
    result = results[key]
    if state.is_stale(result):
        st.warning(state.stale_note(result), icon=":material/history:")
    rep_name = cluster_view.choose_representation(key, result)
    rep = result.representations[rep_name]
    if rep.description:
        st.caption(rep.description)
    with guard("Clustering"):
        cache = cluster_view.representation_cache(key, result, rep_name)
        clusterer, params = cluster_view.clustering_controls(
            cache, f"w.cl.{key}.{rep_name}", cluster_view.default_n_clusters(result))
        labels = cluster_view.recluster(rep, cache, clusterer, params)
        state.set_selection({"result": key, "representation": rep_name, "clusterer": clusterer,
                             "params": params, "labels": labels})

if labels is None:
    st.stop()

with right, guard("Cluster views"):
    q = cluster_view.quality(cache, labels, result.true_groups)
    cluster_view.show_quality(q, cluster_view.method_agreement(result, labels))
    coords, note = cluster_view.embedding(cache)
    st.caption(note)
    frame = cluster_view.client_frame(result, labels, coords, state.dataset())
    show_figure(cluster_view.embedding_figure(frame), "client embedding", frame,
                key="embedding")
    tab_tree, tab_sim, tab_flow = st.tabs(["Dendrogram", "Similarity", "Assignments over rounds"])
    with tab_tree:
        fig = cluster_view.dendrogram_figure(cache, clusterer, params, labels, result.client_ids)
        show_figure(fig, "dendrogram", key="dendrogram")
    with tab_sim:
        fig, data = cluster_view.similarity_figure(cache, labels, result.client_ids)
        show_figure(fig, "similarity matrix", data, key="similarity")
    with tab_flow:
        fig = cluster_view.sankey_figure(result)
        if fig is None:
            st.info(f"{key} assigns clients once (not iterative): no flow to show.")
        else:
            show_figure(fig, "assignment flow", key="sankey")
