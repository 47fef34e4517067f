"""FedLens: the Streamlit frame. Pages place widgets; logic lives in fedcore.ui and fedcore.

Run ``streamlit run app.py`` (binds 127.0.0.1, see .streamlit/config.toml); on a lab server
add ``--server.address 0.0.0.0`` to serve other machines on a trusted network.
"""

from pathlib import Path

import streamlit as st

from fedcore.ui import cached, state

# A local file, not ":material/...": Streamlit fetches material favicons from a font CDN.
ICON = Path(__file__).parent / "fedcore" / "ui" / "assets" / "fedlens_icon.png"
st.set_page_config(page_title="FedLens", page_icon=str(ICON), layout="wide")

PAGES = [
    st.Page("pages/data.py", title="Data", icon=":material/database:", default=True),
    st.Page("pages/simulate.py", title="Simulate", icon=":material/play_circle:"),
    st.Page("pages/clusters.py", title="Clusters", icon=":material/bubble_chart:"),
    st.Page("pages/performance.py", title="Performance", icon=":material/leaderboard:"),
    st.Page("pages/explain.py", title="Explain", icon=":material/psychology:"),
    st.Page("pages/export.py", title="Export", icon=":material/download:"),
    st.Page("pages/runs.py", title="Runs", icon=":material/history:"),
    st.Page("pages/grids.py", title="Grids", icon=":material/grid_on:"),
]

page = st.navigation(PAGES)
state.ensure_dataset()
cached.umap_warmup()  # once per process: UMAP's ~13 s JIT runs in the background
state.sidebar_status()
page.run()
