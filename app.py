"""FedLens: the Streamlit frame. Pages place widgets; logic lives in fedcore.ui and fedcore.

Run ``streamlit run app.py`` (binds 127.0.0.1, see .streamlit/config.toml). Served on any
other address (``--server.address 0.0.0.0``) it asks for the access token from
``$FEDLENS_TOKEN`` before showing anything, and refuses to run without one
(:mod:`fedcore.ui.access`).
"""

from pathlib import Path

import streamlit as st

import fedcore.ui.preload  # noqa: F401 - first: one import order for every script thread
from fedcore.ui import access, cached, state

# A local file, not ":material/...": Streamlit fetches material favicons from a font CDN.
ICON = Path(__file__).parent / "fedcore" / "ui" / "assets" / "fedlens_icon.png"
st.set_page_config(page_title="FedLens", page_icon=str(ICON), layout="wide")
access.require_access()  # before anything is shown or loaded

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
