"""Clusters page: the method's own clusters first (members by name), then what-if
re-clustering of its cached client representations, live."""

import streamlit as st

from fedcore.ui import cluster_figures as figs
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
    result, name = results[key], state.names()[key]
    state.stale_notice({key: result})
    view = cluster_view.choose_view(key)
    rep_name = cluster_view.choose_representation(key, result)
    rep = result.representations[rep_name]
    if rep.description:
        st.caption(rep.description)
    with guard("Clustering"):
        cache = cluster_view.representation_cache(key, result, rep_name)
        clusterer, params = None, {}
        if view == cluster_view.OWN:
            labels = result.assignments
            st.caption("The clusters the method trained its models for (final round). "
                       "Switch to *What-if re-clustering* to try other clusterers or cuts.")
        else:
            st.markdown("**What-if re-clustering** (no retraining)")
            clusterer, params = cluster_view.clustering_controls(
                cache, f"w.cl.{key}.{rep_name}", cluster_view.default_n_clusters(result))
            labels = cluster_view.recluster(rep, cache, clusterer, params)
        cluster_view.remember(key, rep_name, view, clusterer, params, labels)
        layout = figs.layout_choice(cache, f"w.cl.{key}.{rep_name}")

if labels is None:
    st.stop()

with right, guard("Cluster views"):
    labels = state.selection()["labels"]
    st.markdown(f"**{cluster_view.describe_selection(state.selection(), name)}**")
    q = cluster_view.quality(cache, labels, result.true_groups)
    cluster_view.show_quality(q, None if view == cluster_view.OWN
                              else cluster_view.method_agreement(result, labels))
    st.dataframe(figs.members_table(result, labels), hide_index=True)
    coords, note, axis = figs.embedding(cache, layout)
    st.caption(note)
    frame = figs.client_frame(result, labels, coords, state.dataset())
    show_figure(figs.embedding_figure(frame, axis), "client map", frame, key="embedding")
    tab_tree, tab_dist, tab_flow = st.tabs(["Dendrogram", "Distance matrix",
                                            "Assignments over rounds"])
    with tab_tree:
        fig = figs.dendrogram_figure(cache, clusterer, params, labels, result.client_ids)
        show_figure(fig, "dendrogram", key="dendrogram")
    with tab_dist:
        fig, data = figs.distance_figure(cache, labels, result.client_ids)
        show_figure(fig, "client distance matrix", data, key="distance")
    with tab_flow:
        fig = figs.sankey_figure(result)
        if fig is None:
            st.info(figs.no_flow_note(name, result))
        else:
            show_figure(fig, "assignment flow", key="sankey")
