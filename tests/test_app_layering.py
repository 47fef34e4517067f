"""The UI's layering rules: streamlit only in app.py, pages/ and fedcore/ui/; small pages."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_streamlit_is_imported_only_by_the_ui_layer():
    offenders = [str(p.relative_to(ROOT)) for p in (ROOT / "fedcore").rglob("*.py")
                 if "ui" not in p.relative_to(ROOT / "fedcore").parts[:1]
                 and any(n == "streamlit" or n.startswith("streamlit.") for n in _imports(p))]
    assert offenders == []


def test_pages_are_small_and_use_only_the_ui_layer():
    pages = sorted((ROOT / "pages").glob("*.py"))
    assert len(pages) == 8
    for page in pages:
        assert len(page.read_text().splitlines()) <= 150, page.name
        fedcore = {n for n in _imports(page) if n.startswith("fedcore")}
        assert all(n.startswith("fedcore.ui") for n in fedcore), (page.name, fedcore)


def test_every_page_file_is_registered_in_the_frame():
    frame = (ROOT / "app.py").read_text()
    for page in (ROOT / "pages").glob("*.py"):
        assert f'"pages/{page.name}"' in frame, page.name


def test_upload_limit_and_loopback_binding_in_streamlit_config():
    import tomllib

    from fedcore.data import DEFAULT_MAX_BYTES
    from fedcore.ui.cached import MAX_UPLOAD_BYTES

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["address"] == "127.0.0.1"
    assert config["server"]["headless"] is True
    assert config["browser"]["gatherUsageStats"] is False
    assert config["runner"]["fastReruns"] is False  # one script thread per session
    assert config["server"]["maxUploadSize"] * 2**20 == MAX_UPLOAD_BYTES == DEFAULT_MAX_BYTES


# -- layers inside fedcore -----------------------------------------------------------------
#: Cycles tolerated for now (none: data <-> partition was broken by fedcore/data/limits.py).
KNOWN_CYCLES: set[frozenset] = set()


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _absolute_imports(path: Path) -> list[tuple[str, list[str]]]:
    """``(module, imported names)`` of every import in ``path``, module-level AND inside
    functions, with relative imports resolved."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            out += [(a.name, []) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            names = [a.name for a in node.names]
            if node.module is None:  # ``from . import x``: x is a module
                out += [(f"{base}.{n}", []) for n in names]
            else:
                out.append((base, names))
    return out


def _unit(module: str) -> str | None:
    """The fedcore subpackage or top-level module a module belongs to."""
    parts = module.split(".")
    return parts[1] if parts[0] == "fedcore" and len(parts) > 1 else None


def _fedcore_files():
    return sorted((ROOT / "fedcore").rglob("*.py"))


def test_core_never_imports_cli_or_ui_and_plots_never_import_strategies():
    offenders = []
    for path in _fedcore_files():
        unit = _unit(_module_name(path))
        for module, _ in _absolute_imports(path):
            target = _unit(module)
            if unit not in ("cli", "ui", "__main__") and target in ("cli", "ui"):
                offenders.append((str(path.relative_to(ROOT)), module))
            if unit == "plots" and target == "strategies":
                offenders.append((str(path.relative_to(ROOT)), module))
    assert offenders == []


def test_no_private_names_imported_across_modules():
    offenders = []
    for path in _fedcore_files():
        for module, names in _absolute_imports(path):
            if module != "__future__" and module.startswith("fedcore"):
                offenders += [(str(path.relative_to(ROOT)), module, n) for n in names
                              if n.startswith("_") and not n.startswith("__")]
    assert offenders == []


def _cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """Strongly connected components with more than one node (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = set()
            while True:
                w = stack.pop()
                on.discard(w)
                comp.add(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(comp)

    for v in list(graph):
        if v not in index:
            visit(v)
    return out


def test_no_import_cycles_between_fedcore_subpackages():
    graph: dict[str, set[str]] = {}
    for path in _fedcore_files():
        unit = _unit(_module_name(path))
        if unit is None:
            continue
        for module, _ in _absolute_imports(path):
            target = _unit(module)
            if target and target != unit:
                graph.setdefault(unit, set()).add(target)
    cycles = [c for c in _cycles(graph) if frozenset(c) not in KNOWN_CYCLES]
    assert cycles == [], cycles


def test_cycle_finder_finds_cycles():
    assert _cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [{"a", "b"}]
    assert _cycles({"a": {"b"}, "b": set()}) == []
