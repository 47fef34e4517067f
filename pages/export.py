"""Export page: figure pack, LaTeX table, projector files and the reproducibility bundle."""

import streamlit as st

from fedcore.ui import export_shown, export_view, performance_view, state
from fedcore.ui.errors import guard
from fedcore.ui.figures import csv_text, export_available, export_settings_controls

state.page_setup()
st.title("Export")
st.caption("Every figure in the dashboard has its own PNG / SVG / PDF / CSV buttons underneath. "
           "This page exports several things at once.")
if not export_available():
    st.warning("fedcore.export is not available: figure files cannot be rendered.")
results, _stale = performance_view.current_results(state.results())
state.stale_notice(what=" (not exported)")
if not results:
    st.info("No results on the loaded dataset: run a simulation on the Simulate page.")
    st.stop()

st.subheader("Figure size and style")
st.caption("Used by every figure's Export button, the figure pack and the bundle.")
settings = export_settings_controls()

st.subheader("Reproducibility bundle")
st.markdown("One ZIP with each run's spec, seeds, package versions, metrics, assignments, "
            "the main figures and a `reproduce.sh` that re-creates every number.")
formats = st.multiselect("Figure formats", list(export_view.FIGURE_FORMATS), default=["svg"],
                         key="w.export.formats")
with_figs = st.checkbox("Include the figures (a few seconds per format)", value=True,
                        key="w.export.with_figs")
# Downloads are built on click, outside this script run: capture the inputs now.
ds, source, shown = state.dataset(), state.dataset_source(), export_shown.capture()
if shown is not None:
    st.caption(f"Clusters and Explain figures show **{shown['description']}** (as on the "
               "Clusters page); the choice is recorded in `clusters_shown.json`.")
with guard("Bundle"):
    export_view.download(
        "Download bundle ZIP",
        lambda: export_view.bundle_zip(
            results, ds, source,
            export_view.session_figures(results, ds, shown) if with_figs else None,
            tuple(formats), settings, shown),
        "fedlens_bundle.zip", "application/zip", "dl.bundle")

st.subheader("Figures")
st.caption("ZIPs are built after the click (about 10–30 s here); the download starts when "
           "they are ready.")
with guard("Figure pack"):
    export_view.download("Download all figures (ZIP)",
                         lambda: export_view.figure_pack(results, tuple(formats), ds, settings,
                                                         shown),
                         "fedlens_figures.zip", "application/zip", "dl.figpack")

st.subheader("Tables")
with guard("LaTeX table"):
    latex = export_view.latex_summary(results)
    st.code(latex, language="latex")
    c1, c2 = st.columns(2)
    c1.download_button("LaTeX (.tex)", latex, "fedlens_methods.tex", "text/x-tex",
                       key="dl.tex", on_click="ignore")
    c2.download_button("Summary (.csv)", csv_text(export_view.summary_frame(results)),
                       "fedlens_methods.csv", "text/csv", key="dl.summary_csv", on_click="ignore")

st.subheader("Embedding projector")
with guard("Projector"):
    state.keep_valid("w.export.proj_result", list(results))
    key = st.selectbox("Result", list(results), key="w.export.proj_result")
    reps = [n for n, r in results[key].representations.items() if r.X is not None]
    rep = st.selectbox("Representation", reps, key=f"w.export.proj_rep.{key}")
    if rep:
        export_view.download("Projector files (ZIP)",
                             lambda: export_view.projector_zip(results[key], rep),
                             f"fedlens_projector_{key}_{rep}.zip", "application/zip",
                             "dl.projector")
