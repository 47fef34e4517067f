"""Concurrent script threads must not deadlock on imports; a failing form is a banner.

Streamlit runs a rerun in a new thread while the previous run may still be executing, so
lazily imported fedcore modules could be imported by two threads in opposite orders
(``_DeadlockError`` seen in the browser test). ``app.py`` preloads them in one order.
"""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest
from app_support import APP, ROOT, install_dataset, two_group_dataset
from streamlit.testing.v1 import AppTest

HEAVY_LIBRARIES = ("tensorflow", "keras", "shap", "umap", "numba", "ray", "flwr", "kaleido")


def test_preload_imports_every_light_module_and_no_heavy_library():
    code = ("import sys, fedcore.ui.preload as p; "
            f"print(len(p.LOADED), [m for m in {HEAVY_LIBRARIES!r} if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout.split(maxsplit=1)
    from fedcore.ui.preload import light_modules
    names = light_modules()
    assert int(out[0]) == len(names) > 100
    assert out[1].strip() == "[]"
    for needed in ("fedcore.strategies", "fedcore.clustering.linalg", "fedcore.metrics",
                   "fedcore.embeddings", "fedcore.ui.simulate_view", "fedcore.plots"):
        assert needed in names
    assert not [n for n in names if n.startswith(("fedcore.engine.", "fedcore.models"))]


def test_app_preloads_before_anything_else_of_fedcore():
    tree = ast.parse((ROOT / "app.py").read_text())
    imports = [node for node in tree.body if isinstance(node, ast.Import | ast.ImportFrom)]
    fedcore_imports = [n for n in imports
                       if (n.module if isinstance(n, ast.ImportFrom) else n.names[0].name)
                       .startswith("fedcore")]
    first = fedcore_imports[0]
    assert isinstance(first, ast.Import) and first.names[0].name == "fedcore.ui.preload"


@pytest.mark.parametrize("page, form", [("pages/simulate.py", "run_form"),
                                        ("pages/grids.py", "launch_form")])
def test_a_failing_form_is_a_banner_not_a_traceback(monkeypatch, page, form):
    from fedcore.ui import grid_view, simulate_view

    module = simulate_view if form == "run_form" else grid_view

    def broken(*args, **kwargs):
        raise RuntimeError("form could not be built")

    monkeypatch.setattr(module, form, broken)
    at = AppTest.from_file(APP, default_timeout=60)
    install_dataset(at, two_group_dataset())
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("form could not be built" in e.value for e in at.error)
