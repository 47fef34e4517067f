"""Data page: choose a bundled dataset + heterogeneity scenario, or upload one; preview it."""

import streamlit as st

from fedcore.ui import data_view, state
from fedcore.ui.errors import guard

state.page_setup()
st.title("Data")
st.caption("Load the federated dataset every other page works on. A bundled dataset "
           "(UCI Heart Disease, 4 hospitals) is loaded on the first visit.")

if st.session_state.get(state.DATASET_ERROR):
    st.error(st.session_state[state.DATASET_ERROR])

tab_bundled, tab_upload = st.tabs(["Bundled dataset", "Upload"])
with tab_bundled, guard("Bundled datasets"):
    source = data_view.bundled_controls()
    if source is not None and data_view.load_bundled_source(source):
        st.success(f"Loaded {state.dataset().name}.")
with tab_upload, guard("Upload"):
    data_view.upload_controls()

ds = state.dataset()
if ds is None:
    st.warning("No dataset is loaded yet.")
    st.stop()

st.subheader(f"Preview — {ds.name}")
with guard("Preview"):
    data_view.preview(ds)
