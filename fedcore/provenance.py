"""Which software produced a result: recorded with every run, grid and bundle.

One definition, so ``summary.json``, ``grid.json`` and a bundle's ``versions.json`` can be
compared key by key.
"""

from __future__ import annotations

import functools
import importlib.metadata as im
import platform
import re
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
REQUIREMENT_FILES = ("requirements.txt", "requirements-dev.txt")
#: Recorded when the requirement files are not next to the package (an installed copy).
CORE_PACKAGES = ("numpy", "tensorflow-cpu", "keras", "scikit-learn", "scipy", "pandas",
                 "umap-learn", "shap", "plotly", "streamlit")
_NAME = re.compile(r"^\s*([A-Za-z0-9_.\-]+)\s*(==|>=|<=|~=|\[|;|$)")


def requirement_names(root: Path = PROJECT_ROOT) -> list[str]:
    """Package names listed in ``requirements*.txt`` (comments and options skipped)."""
    names = []
    for req in REQUIREMENT_FILES:
        path = root / req
        if path.is_file():
            for line in path.read_text().splitlines():
                m = _NAME.match(line)
                if m and not line.lstrip().startswith(("#", "-")):
                    names.append(m.group(1))
    return list(dict.fromkeys(names)) or list(CORE_PACKAGES)


@functools.cache
def _versions() -> tuple:
    packages = {}
    for name in requirement_names():
        try:
            packages[name] = im.version(name)
        except im.PackageNotFoundError:
            packages[name] = None
    return platform.python_version(), platform.platform(), tuple(packages.items())


def package_versions() -> dict:
    """``{"python", "platform", "packages": {name: version or None}}`` of this process."""
    python, plat, packages = _versions()
    return {"python": python, "platform": plat, "packages": dict(packages)}
