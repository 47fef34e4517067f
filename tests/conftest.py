import os

# Quiet TensorFlow in every test process (fedcore itself is importable through pytest's
# `pythonpath = ["."]` setting in pyproject.toml, not a sys.path edit here).
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Before any test imports TensorFlow directly (see fedcore/__init__.py for why).
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

import pytest  # noqa: E402


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the item (``item.rep_call``): fixtures that collect
    diagnostics on failure (the browser tests' page text and server log) read it."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
