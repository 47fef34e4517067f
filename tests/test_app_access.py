"""Serving beyond loopback: a token is required and asked for before anything is shown."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from app_support import APP
from streamlit.testing.v1 import AppTest

from fedcore.ui import access

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("address, loopback", [
    ("127.0.0.1", True), ("localhost", True), ("::1", True), ("127.0.1.1", True),
    ("0.0.0.0", False), ("", False), (None, False), ("10.1.2.3", False), ("lab.example", False),
])
def test_loopback_detection(address, loopback):
    assert access.is_loopback(address) is loopback


def _served_on(monkeypatch, address):
    monkeypatch.setattr(access, "serving_address", lambda: address)


def test_no_token_configured_refuses_to_show_anything(monkeypatch):
    _served_on(monkeypatch, "0.0.0.0")
    monkeypatch.delenv("FEDLENS_TOKEN", raising=False)
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert any("without an access token" in e.value for e in at.error)
    assert "fl.dataset" not in at.session_state and not at.metric


def test_token_is_asked_before_the_dashboard(monkeypatch):
    _served_on(monkeypatch, "0.0.0.0")
    monkeypatch.setenv("FEDLENS_TOKEN", "s3cret-token")
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert "fl.dataset" not in at.session_state
    at.text_input(key="fl.access_token").set_value("wrong").run()
    assert any("Wrong access token" in e.value for e in at.error)
    assert "fl.dataset" not in at.session_state
    at.text_input(key="fl.access_token").set_value("s3cret-token").run()
    assert not at.exception
    assert "fl.dataset" in at.session_state


@pytest.mark.parametrize("args", [["--server.address", "0.0.0.0"],
                                  ["--server.address=192.168.1.5"]])
def test_launcher_refuses_non_loopback_without_token(args):
    env = {k: v for k, v in os.environ.items() if k != "FEDLENS_TOKEN"}
    proc = subprocess.run([str(ROOT / "fedlens"), "run", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "without an access token" in proc.stderr and len(proc.stderr.splitlines()) == 1


def test_config_pins_xsrf_and_cors():
    import tomllib

    server = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())["server"]
    assert server["enableXsrfProtection"] is True and server["enableCORS"] is True
    assert server["address"] == "127.0.0.1"
