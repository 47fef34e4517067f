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
st.markdown(f"Explaining {description}.")
if state.is_stale(result):
    st.warning(state.stale_note(result) + " — explanations need the dataset it was run on.",
               icon=":material/history:")
    st.stop()
if explain_view.data_note(result, state.dataset()):
    st.info(explain_view.data_note(result, state.dataset()), icon=":material/info:")
    st.stop()

attributions = st.checkbox("Also explain each cluster model (SHAP on its clients' test data; "
                           "slower)", value=False, key="w.explain.models")
bundle = None
with guard("Explaining"):
    bundle = explain_view.explain(key, result, labels, state.dataset(), attributions)
if bundle is None:
    st.stop()
for message in bundle.errors:
    st.info(message)

tab_text, tab_why, tab_div, tab_pred, tab_models = st.tabs(
    ["Summary", "Membership (SHAP)", "Divergence", "Prediction disagreement", "Cluster models"])
with tab_why, guard("Membership"):
    explain_view.show_membership(bundle)
with tab_div, guard("Divergence"):
    explain_view.show_divergence(bundle)
with tab_pred, guard("Prediction disagreement"):
    explain_view.show_disagreement(bundle)
with tab_models, guard("Cluster models"):
    explain_view.show_models(bundle)
with tab_text:
    explain_view.show_stories(bundle)
