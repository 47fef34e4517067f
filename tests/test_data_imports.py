"""The data package has no import cycles, and none hidden in function-level imports."""

from __future__ import annotations

import ast
from pathlib import Path

FEDCORE = Path(__file__).resolve().parents[1] / "fedcore"


def _imports(path: Path, top_level: bool) -> list[str]:
    """Relative/fedcore imports of a module: only module-level ones, or only nested ones."""
    tree = ast.parse(path.read_text())
    found = []
    nodes = tree.body if top_level else [n for f in ast.walk(tree)
                                         if isinstance(f, ast.FunctionDef | ast.AsyncFunctionDef)
                                         for n in ast.walk(f)]
    for node in nodes:
        if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "")
                                                 .startswith("fedcore")):
            found.append("." * node.level + (node.module or ""))
    return found


def test_no_function_level_imports_of_fedcore_in_data_and_partition():
    for folder in ("data", "partition"):
        for path in (FEDCORE / folder).glob("*.py"):
            assert _imports(path, top_level=False) == [], path.name


def test_partition_never_imports_data():
    for path in (FEDCORE / "partition").glob("*.py"):
        assert not any("data" in m.split(".") for m in _imports(path, True)), path.name


def test_limits_and_source_import_no_reader():
    assert not any(m.startswith(".readers") or m == ".source"
                   for m in _imports(FEDCORE / "data" / "limits.py", True))
    assert not any(m.startswith(".readers") for m in _imports(FEDCORE / "data" / "source.py",
                                                              True))
