"""FedLens computation core: data, scenarios, vectorised FL engine, CFL strategies,
clustering, embeddings, metrics, explanations, plots and export.

Nothing in this package imports streamlit except :mod:`fedcore.ui`.
"""

__version__ = "0.1.0"
