"""FedLens computation core: data, scenarios, vectorised FL engine, CFL strategies,
clustering, embeddings, metrics, explanations, plots and export.

Nothing in this package imports streamlit except :mod:`fedcore.ui`.
"""

import os

# The engine trains every client's CNN as one grouped convolution. TensorFlow has a CPU
# gradient for grouped convolutions only through oneDNN, which it turns on by default only on
# CPUs with AVX-512 (on an AVX2-only EPYC the CNN failed with "Gradients for grouped
# convolutions are not supported on CPU"). Set before TensorFlow is first imported.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

__version__ = "0.1.0"
