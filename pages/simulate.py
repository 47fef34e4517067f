"""Simulate page: model, FL hyper-parameters and methods; run with live progress."""

import streamlit as st

from fedcore.ui import simulate_view, state
from fedcore.ui.errors import guard
from fedcore.ui.figures import show_figure

state.page_setup()
st.title("Simulate")
ds = state.dataset()
if ds is None:
    st.warning("Load a dataset on the Data page first.")
    st.stop()
st.caption(simulate_view.dataset_caption(ds))

submitted = None  # stays None when the form itself fails (banner shown)
with guard("Simulation settings"):
    submitted = simulate_view.run_form(ds.n_clients, is_image=len(ds.input_shape) == 3,
                                       n_true_groups=simulate_view.n_true_groups(ds),
                                       task=ds.task)
if submitted is not None:
    config, methods, oracle = submitted
    with guard("Simulation"):
        simulate_view.run_methods(ds, config, methods, oracle)

results = state.results()
for method, message in state.run_errors().items():
    st.error(f"{method} failed: {message}")
if not results:
    st.info("No results yet: choose methods and press Run.")
    st.stop()

st.subheader("Results")
state.stale_notice(results)
tables = simulate_view.results_tables(results)
for task, table in tables:
    if len(tables) > 1:
        st.markdown(f"**{task.capitalize()} runs**")
    st.dataframe(table, hide_index=True)
with guard("Removing results"):
    simulate_view.delete_controls(results)
with guard("Learning curves"):
    fig, data = simulate_view.learning_curves(results)
    if fig is not None:
        show_figure(fig, "learning curves", data)
