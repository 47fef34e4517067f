"""Runs page: save this session's results, list past runs on disk, reload one instantly."""

import streamlit as st

from fedcore.ui import import_view, runs_view, state
from fedcore.ui.errors import guard

state.page_setup()
st.title("Runs")
st.caption("Every finished simulation is saved here automatically (folder `ui/`), as are runs "
           "of `python -m fedcore run/grid`. Reloading reads the saved result (assignments, "
           "metrics, representations, models): nothing is retrained.")

root = runs_view.confined_folder(st.text_input("Runs folder", runs_view.default_root(),
                                               key="w.runs.root"))
if root is None:
    st.stop()
import_view.import_controls(root)

results = state.results()
if results:
    state.keep_valid("w.runs.save", list(results), multi=True)
    current = [k for k, r in results.items() if not state.is_stale(r)]
    with st.form("save_runs"):
        keys = st.multiselect("Save results of this session", list(results),
                              default=current, key="w.runs.save",
                              format_func=state.names().get,
                              help="Stale results (computed on another dataset) cannot be "
                                   "saved: their dataset is no longer loaded.")
        if st.form_submit_button("Save to runs folder", icon=":material/save:"):
            with guard("Saving"):
                for path in runs_view.save_results(root, keys):
                    st.success(f"Saved {path}")

runs = None
with guard("Listing runs"):
    runs = runs_view.list_runs(root)
if runs is None or runs.empty:
    st.info(f"No complete runs under {root}.")
    st.stop()

st.dataframe(runs.drop(columns=["path"]), hide_index=True)
run_id = st.selectbox("Run", runs["run_id"].tolist(), key="runs.pick")
row = runs.set_index("run_id").loc[run_id]
with_ds = st.checkbox("Also load the dataset it was run on (bundled data only)", value=False,
                      key="runs.with_ds")
if st.button("Load run", type="primary", key="runs.load"):
    if import_view.is_imported_run(str(row["path"])):  # its data comes from its record
        key = import_view.load_imported(str(row["path"]), run_id)
    else:
        key = runs_view.load_into_session(str(row["path"]), run_id, with_ds)
    if key is not None:
        st.success(f"Loaded {state.names()[key]}; open the Clusters or Performance page.")
        if state.is_stale(state.results()[key]):
            st.warning(state.stale_note(state.results()[key]))
