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
    assert config["server"]["maxUploadSize"] * 2**20 == MAX_UPLOAD_BYTES == DEFAULT_MAX_BYTES
