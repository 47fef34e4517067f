"""Streamlit glue: the only package (besides app.py and pages/) that imports streamlit.

Shared modules: :mod:`state` (session state, widget persistence, staleness), :mod:`cached`
(cached wrappers of pure fedcore functions, UMAP warm-up), :mod:`forms` (widgets from
parameter schemas), :mod:`progress` (simulation progress bars), :mod:`errors` (errors as
banners, never tracebacks), :mod:`figures` (a figure plus its export buttons).

One controller per page keeps the pages to widget placement: :mod:`data_view`,
:mod:`simulate_view`, :mod:`cluster_view`, :mod:`performance_view`, :mod:`explain_view`,
:mod:`export_view`, :mod:`runs_view`.
"""
