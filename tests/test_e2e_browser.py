"""Real-browser end-to-end test of the dashboard (Debian chromium driven by Playwright).

Starts ``streamlit run app.py`` on a free loopback port, uploads a small partitioned CSV,
runs a short simulation, moves a clustering slider with the keyboard and checks that the
cluster figure and metrics change. Never downloads a browser: it uses /usr/bin/chromium.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from app_support import two_group_table

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _two_group_csv(path: Path) -> Path:
    two_group_table().to_csv(path, index=False)
    return path


def _wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited early with code {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"streamlit did not become healthy at {url}")


def _embedding_traces(page) -> str:
    """JSON of the first plotly figure's traces (names, colours, symbols)."""
    return page.evaluate("""() => {
        const el = document.querySelector('.js-plotly-plot');
        if (!el || !el.data) return '';
        return JSON.stringify(el.data.map(t => [t.name, t.marker && t.marker.color,
                                                t.marker && t.marker.symbol, t.x && t.x.length]));
    }""")


def _metric(page, label: str) -> str:
    box = page.locator('[data-testid="stMetric"]', has_text=label).first
    return box.locator('[data-testid="stMetricValue"]').inner_text()


def test_upload_simulate_recluster_in_browser(tmp_path):
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is missing (Debian package 'chromium'); not downloading one")
    from playwright.sync_api import sync_playwright

    csv = _two_group_csv(tmp_path / "two_groups.csv")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", FEDLENS_UMAP_WARMUP="0",
               FEDLENS_RUNS=str(tmp_path / "runs"))
    log = open(tmp_path / "streamlit.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true",
         "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_healthy(url, proc)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(60_000)
            try:
                before_k, after_k, before_traces, after_traces = _drive(page, url, csv)
            except Exception:
                page.screenshot(path=str(tmp_path / "failure.png"), full_page=True)
                print(f"failure screenshot: {tmp_path / 'failure.png'}")
                raise
            shot = tmp_path / "fedlens_clusters.png"
            page.screenshot(path=str(shot), full_page=True)
            print(f"screenshot: {shot}")
            browser.close()
        assert before_k != after_k, (before_k, after_k)
        assert int(after_k) == int(before_k) - 1
        assert before_traces and after_traces and before_traces != after_traces
        assert json.loads(after_traces)
    finally:
        proc.send_signal(signal.SIGTERM)  # our own server, by its PID
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def _drive(page, url: str, csv: Path) -> tuple[str, str, str, str]:
    """Upload, simulate, move the slider; returns the metric and traces before/after."""
    from playwright.sync_api import expect

    expect.set_options(timeout=60_000)  # first page load imports TensorFlow
    page.goto(url)
    expect(page.get_by_text("Preview — ", exact=False)).to_be_visible()

    # -- Data: upload the two-group CSV
    page.get_by_role("tab", name="Upload").click()
    page.locator('input[type="file"]').set_input_files(str(csv))
    expect(page.get_by_text("Client column")).to_be_visible()
    page.get_by_role("button", name="Load upload").click()
    expect(page.get_by_text("two_groups.csv: 6 clients")).to_be_visible()

    # -- Simulate: 2 rounds of the default methods
    page.get_by_test_id("stSidebarNav").get_by_text("Simulate").click()
    rounds = page.get_by_label("Rounds", exact=True)
    rounds.fill("2")
    rounds.press("Tab")
    page.get_by_role("button", name="Run").click()
    expect(page.get_by_text("flhc: done", exact=False)).to_be_visible(timeout=90_000)

    # -- Clusters: move the number-of-clusters slider with the keyboard
    page.get_by_test_id("stSidebarNav").get_by_text("Clusters").click()
    expect(page.get_by_text("Clusters found")).to_be_visible()
    page.wait_for_function("() => document.querySelector('.js-plotly-plot')?.data")
    before_traces, before_k = _embedding_traces(page), _metric(page, "Clusters found")
    slider = page.locator('[data-testid="stSlider"]', has_text="n clusters")
    thumb = slider.get_by_role("slider")
    thumb.focus()
    thumb.press("ArrowLeft")
    page.wait_for_function(
        """k => { const m = [...document.querySelectorAll('[data-testid=stMetric]')]
              .find(e => e.innerText.includes('Clusters found'));
              const v = m && m.querySelector('[data-testid=stMetricValue]');
              return v && v.innerText.trim() !== k; }""", arg=before_k.strip())
    after_traces, after_k = _embedding_traces(page), _metric(page, "Clusters found")

    # -- Switching pages keeps the slider's value (and so the clustering).
    page.get_by_test_id("stSidebarNav").get_by_text("Performance").click()
    expect(page.get_by_text("Best mean accuracy")).to_be_visible()
    page.get_by_test_id("stSidebarNav").get_by_text("Clusters").click()
    expect(page.get_by_text("Clusters found")).to_be_visible()
    assert _metric(page, "Clusters found") == after_k
    return before_k, after_k, before_traces, after_traces
