"""Performance page: client and cluster accuracy, gains over baselines, methods side by side."""

import streamlit as st

from fedcore.ui import performance_view, state
from fedcore.ui.errors import guard

state.page_setup()
st.title("Performance")
results, _stale = performance_view.current_results(state.results())
state.stale_notice(what=" (left out below)")
if not results:
    st.info("No results on the loaded dataset: run a simulation on the Simulate page.")
    st.stop()

persistence = None  # stays None when the baseline cannot be scored (banner shown)
with guard("Persistence baseline"):
    persistence = performance_view.persistence_of(state.dataset())
with guard("Summary"):
    summary = performance_view.summary_table(results)
    shown = performance_view.with_persistence(summary, persistence)
    st.dataframe(shown, hide_index=True, column_config=performance_view.column_config(shown))
    if len(shown) > len(summary):
        st.caption(f"**{performance_view.PERSISTENCE_LABEL}**: the forecast that tomorrow "
                   "equals the last observed value, scored on the same test windows; a "
                   "method whose RMSE is not below it has learned nothing useful.")
    cols = st.columns(3)
    for col, (label, value, run) in zip(cols, performance_view.headline(summary, results)):
        col.metric(label, value)
        col.caption(run)
    cols[2].metric("Runs compared", len(summary))

tab_clients, tab_gains, tab_rounds, tab_clusters = st.tabs(
    ["Per client", "Gains over baselines", "Over rounds", "Per cluster"])
with tab_clients, guard("Client scores"):
    performance_view.show_accuracy(results, persistence)
    performance_view.show_worst(shown)
with tab_gains, guard("Gains"):
    performance_view.show_gains(results)
with tab_rounds, guard("Rounds"):
    performance_view.show_rounds(results, persistence)
with tab_clusters, guard("Clusters"):
    st.dataframe(performance_view.per_cluster_table(results), hide_index=True)
