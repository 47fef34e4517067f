"""Explain page: why were these clients grouped? (surrogate SHAP, divergence, model SHAP)."""

import streamlit as st

from fedcore.ui import explain_view, state
from fedcore.ui.errors import guard

state.page_setup()
st.title("Explain")
results = state.results()
chosen = explain_view.target(results)
if chosen is None:
    st.info("No results yet: run a simulation on the Simulate page.")
    st.stop()
key, result, labels, description = chosen
st.markdown(f"Explaining **{description}**.")
if state.is_stale(result):
    state.stale_notice({key: result}, " — explanations need the dataset it was run on")
    st.stop()
if explain_view.data_note(result, state.dataset()):
    st.info(explain_view.data_note(result, state.dataset()), icon=":material/info:")
    st.stop()

attributions = st.checkbox("Also explain each cluster model (SHAP on its clients' test data; "
                           "slower)", value=False, key="w.explain.models")
tabs = dict(zip(explain_view.TABS, st.tabs(list(explain_view.TABS.values()))))
bundle = None
with tabs["summary"], guard("Explaining"):
    # Drawn first, in the default tab, with a spinner while the explanation is computed.
    bundle = explain_view.explain(key, result, labels, state.dataset(), attributions)
    if bundle is not None:
        explain_view.fidelity_warning(bundle)
        for message in bundle.errors:
            st.info(message)
        explain_view.show_stories(bundle)
if bundle is None:
    st.stop()
with tabs["membership"], guard("Membership"):
    explain_view.show_membership(bundle)
with tabs["divergence"], guard("Divergence"):
    explain_view.show_divergence(bundle)
with tabs["disagreement"], guard("Prediction disagreement"):
    explain_view.show_disagreement(bundle)
with tabs["models"], guard("Cluster models"):
    explain_view.show_models(bundle, attributions)
