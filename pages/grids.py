"""Grids page: launch a benchmark grid (scenarios x methods x seeds), resume it, compare the
methods with mean ± std tables, figures and LaTeX, and download everything."""

import streamlit as st

from fedcore.ui import grid_view, state
from fedcore.ui.errors import guard

state.page_setup()
st.title("Grids")
st.caption("A benchmark grid runs every method on every scenario with every seed, as "
           "`python -m fedcore grid` does. Each finished cell is saved on disk at once: "
           "re-launching the same grid skips them, so an interrupted grid resumes.")

root = st.text_input("Runs folder", grid_view.default_root(), key="w.grid.root")

st.subheader("Launch a grid")
st.caption("Using the dashboard while a grid runs stops it (finished cells stay saved): "
           "press Run grid again to resume. Long grids: `python -m fedcore grid`.")
st.button("Use the loaded dataset's settings", key="grid.use_loaded",
          on_click=grid_view.use_loaded_settings, icon=":material/sync:")
submitted = None  # stays None when the form itself fails (banner shown)
with guard("Grid settings"):
    submitted = grid_view.launch_form(root)
if submitted is not None:
    grid, out_dir, workers, formats = submitted
    with guard("Grid"):
        grid_view.run(grid, out_dir, workers, formats)
report = grid_view.last_report()
if report:
    st.caption(f"Last launch: {report['computed']} computed, {report['skipped']} skipped "
               f"(already done), {len(report['failed'])} failed · `{report['path']}`")

st.subheader("Grid results")
grids = None
with guard("Listing grids"):
    grids = grid_view.grids_table(root)
if grids is None or grids.empty:
    st.info(f"No grids under {root} yet: launch one above or with `python -m fedcore grid`.")
    st.stop()
st.dataframe(grids.drop(columns=["path"]), hide_index=True)
path = grid_view.pick_grid(grids)
grid_view.status(path)

tidy = None
with guard("Reading the grid"):
    tidy = grid_view.tidy(path)
if tidy is None or tidy.empty:
    st.info("No finished cells in this grid yet.")
    st.stop()

with st.expander(f"Tidy results ({len(tidy)} cells)", expanded=True):
    st.dataframe(tidy, hide_index=True)

st.markdown("**Mean ± std over seeds** (methods x scenarios; bold in LaTeX = best)")
tables = {}
with guard("Tables"):
    tables = grid_view.metric_tabs(tidy, path)

st.markdown("**Downloads**")
with guard("Downloads"):
    grid_view.downloads(tidy, tables, path)
