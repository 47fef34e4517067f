import os

# Quiet TensorFlow in every test process (fedcore itself is importable through pytest's
# `pythonpath = ["."]` setting in pyproject.toml, not a sys.path edit here).
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Before any test imports TensorFlow directly (see fedcore/__init__.py for why).
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
