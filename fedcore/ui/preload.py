"""Import every light FedLens module once, in one fixed order, before any page runs.

Why: Streamlit starts a NEW script thread for a rerun (a page switch, a widget change)
while the previous run may still be executing (``runner.fastReruns``). Pages import
fedcore modules lazily, so two threads could import overlapping module chains in opposite
orders, and Python's import machinery then raises ``_DeadlockError`` in one of them
(seen in a browser test: "deadlock detected by _ModuleLock('fedcore.clustering.linalg')",
the Simulate form replaced by an error). ``app.py`` imports this module first on every
run: the first thread imports everything below while any other waits on this module's
lock, so fedcore's own imports never interleave.

Heavy third-party libraries (TensorFlow, SHAP, UMAP, Ray, Flower) stay lazy: the modules
that load them at import time are listed in :data:`HEAVY` and skipped here, which keeps
the first page fast (about 2 s for everything else).
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import fedcore

#: Module prefixes not preloaded: they import TensorFlow (Keras) or Flower at module level.
HEAVY = ("fedcore.engine.", "fedcore.models", "fedcore.interop.flower")


def light_modules() -> list[str]:
    """Names of the fedcore modules to preload, sorted (one fixed import order).

    Walks the package folders without importing them (``pkgutil.walk_packages`` would
    import every package, the heavy ones included)."""
    names, todo = [], [(fedcore.__path__, "fedcore.")]
    while todo:
        path, prefix = todo.pop()
        for info in pkgutil.iter_modules(path, prefix):
            if info.name.startswith(HEAVY) or info.name.endswith(".__main__"):
                continue
            names.append(info.name)
            if info.ispkg:
                todo.append(([str(Path(p) / info.name.rsplit(".", 1)[1]) for p in path],
                             info.name + "."))
    return sorted(names)


def preload() -> list[str]:
    """Import :func:`light_modules`; returns their names."""
    names = light_modules()
    for name in names:
        importlib.import_module(name)
    return names


LOADED = preload()
