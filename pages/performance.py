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

with guard("Summary"):
    summary = performance_view.summary_table(results)
    st.dataframe(summary, hide_index=True, column_config=performance_view.column_config(summary))
    best = summary.sort_values("mean_accuracy", ascending=False).iloc[0]
    fair = summary.sort_values("worst_accuracy", ascending=False).iloc[0]
    c1, c2, c3 = st.columns(3)
    c1.metric("Best mean accuracy", f"{best['mean_accuracy']:.3f}")
    c1.caption(best["method"])
    c2.metric("Best worst-client accuracy", f"{fair['worst_accuracy']:.3f}")
    c2.caption(fair["method"])
    c3.metric("Runs compared", len(summary))

tab_clients, tab_gains, tab_rounds, tab_clusters = st.tabs(
    ["Per client", "Gains over baselines", "Over rounds", "Per cluster"])
with tab_clients, guard("Client accuracy"):
    performance_view.show_accuracy(results)
    performance_view.show_worst(summary)
with tab_gains, guard("Gains"):
    performance_view.show_gains(results)
with tab_rounds, guard("Rounds"):
    performance_view.show_rounds(results)
with tab_clusters, guard("Clusters"):
    st.dataframe(performance_view.per_cluster_table(results), hide_index=True)
