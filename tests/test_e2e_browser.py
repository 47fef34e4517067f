"""Real-browser end-to-end tests of the dashboard (Debian chromium driven by Playwright).

One ``streamlit run app.py`` on a free loopback port serves the module (started as
``./fedlens run`` would, settings from .streamlit/config.toml). The browser context routes
EVERY request: loopback ones go through, any other is blocked and recorded, so the offline
test can assert that no page tried to reach the internet (CDN fonts, icons, MathJax).
Then: upload a small partitioned CSV, run a short simulation, move a what-if clustering
slider, visit every page; finally the idle server's CPU time is measured from /proc.

Never downloads a browser: it uses /usr/bin/chromium. Timings are printed, not asserted.
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
from urllib.parse import urlparse

import pytest
from app_support import two_group_table

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PAGES = ["Data", "Simulate", "Clusters", "Performance", "Explain", "Export", "Runs", "Grids"]
#: CPU seconds the idle server (with an open browser session) may use over IDLE_SECONDS.
IDLE_SECONDS = 10.0
IDLE_CPU_BOUND = 1.0

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 90.0) -> None:
    """Barrier: poll /_stcore/health until the server answers 200 (or dies)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited early with code {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"streamlit did not become healthy at {url}")


def cpu_seconds(pid: int) -> float:
    """utime + stime of ``pid`` and of all its live descendants (+ reaped children), in s."""
    tick = os.sysconf("SC_CLK_TCK")
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents.setdefault(int(fields[1]), []).append(int(entry.name))
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # fields[0] is state (stat field 3): utime/stime/cutime/cstime are fields 14-17.
        total += sum(int(v) for v in fields[11:15]) / tick
        todo.extend(parents.get(p, []))
    return total


def _is_loopback(url: str) -> bool:
    host = urlparse(url).hostname or ""
    return host in ("127.0.0.1", "localhost", "::1") or url.startswith(("data:", "blob:",
                                                                          "about:"))


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is missing (Debian package 'chromium'); not downloading one")
    tmp = tmp_path_factory.mktemp("e2e")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", FEDLENS_UMAP_WARMUP="0",
               FEDLENS_RUNS=str(tmp / "runs"))
    log = open(tmp / "streamlit.log", "w")
    started = time.monotonic()
    # As ./fedlens run starts it: no watcher flag here, .streamlit/config.toml must set it.
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
         "--server.headless", "true"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_healthy(url, proc)
        yield {"url": url, "proc": proc, "tmp": tmp, "started": started,
               "timings": {}, "blocked": []}
    finally:
        proc.send_signal(signal.SIGTERM)  # our own server, by its PID
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="module")
def page(server):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})

        def route(r):
            if _is_loopback(r.request.url):
                r.continue_()
            else:
                server["blocked"].append(r.request.url)
                r.abort()

        context.route("**/*", route)
        pg = context.new_page()
        pg.set_default_timeout(90_000)
        expect.set_options(timeout=90_000)  # first page load imports TensorFlow
        pg.goto(server["url"])
        expect(pg.get_by_text("Preview — ", exact=False)).to_be_visible()
        server["timings"]["first page (s, from server start)"] = round(
            time.monotonic() - server["started"], 2)
        try:
            yield pg
        finally:
            print("\nFedLens browser timings:", json.dumps(server["timings"], indent=1))
            browser.close()


@pytest.fixture(autouse=True)
def _explain_failure(request, page, server):
    """On a failed test, print what the browser showed and the server's log tail (CI keeps
    only the output), and save a screenshot next to the server log."""
    yield
    report = getattr(request.node, "rep_call", None)
    if report is None or not report.failed:
        return
    try:
        shot = server["tmp"] / f"failure_{request.node.name}.png"
        page.screenshot(path=str(shot), full_page=True)
        body = page.inner_text("body", timeout=5_000)
    except Exception as exc:  # noqa: BLE001 - diagnostics must not mask the failure
        body = f"(page text unavailable: {exc})"
    log = (server["tmp"] / "streamlit.log").read_text(errors="replace")
    print(f"\n--- page text at failure ({page.url}) ---\n{body[:4000]}"
          f"\n--- streamlit log (last 4000 chars) ---\n{log[-4000:]}")


def _nav(page, name: str):
    page.get_by_test_id("stSidebarNav").get_by_text(name, exact=True).click()


def _metric(page, label: str) -> str:
    box = page.locator('[data-testid="stMetric"]', has_text=label).first
    return box.locator('[data-testid="stMetricValue"]').inner_text()


_TRACES_JS = """() => {
    const el = [...document.querySelectorAll('.js-plotly-plot')]
        .find(e => e.layout && e.layout.meta && e.layout.meta.name === 'embedding_scatter');
    if (!el || !el.data) return '';
    return JSON.stringify(el.data.filter(t => t.legendgroup !== 'truth').map(
        t => [t.name, t.marker && t.marker.color, t.marker && t.marker.symbol,
              t.x && t.x.length]));
}"""


def _embedding_traces(page) -> str:
    """JSON of the client map's cluster traces (names, colours, symbols, sizes)."""
    return page.evaluate(_TRACES_JS)


def test_upload_simulate_recluster_in_browser(page, server, tmp_path):
    from playwright.sync_api import expect

    csv = tmp_path / "two_groups.csv"
    two_group_table().to_csv(csv, index=False)
    page.get_by_role("tab", name="Upload").click()
    page.locator('input[type="file"]').set_input_files(str(csv))
    expect(page.get_by_text("Client column")).to_be_visible()
    page.get_by_role("button", name="Load upload").click()
    expect(page.get_by_text("two_groups.csv: 6 clients")).to_be_visible()

    _nav(page, "Simulate")
    rounds = page.get_by_label("Rounds", exact=True)
    rounds.fill("2")
    rounds.press("Tab")
    page.get_by_role("button", name="Run").click()
    expect(page.get_by_text("flhc: done", exact=False)).to_be_visible(timeout=120_000)

    _nav(page, "Clusters")
    expect(page.get_by_text("the method's own clusters", exact=False).first).to_be_visible()
    page.locator('[data-testid="stRadio"] label', has_text="What-if re-clustering").click()
    slider = page.locator('[data-testid="stSlider"]', has_text="n clusters")
    expect(slider).to_be_visible()
    page.wait_for_function("() => document.querySelector('.js-plotly-plot')?.data")
    before_traces, before_k = _embedding_traces(page), _metric(page, "Clusters found")
    thumb = slider.get_by_role("slider")
    thumb.focus()
    t0 = time.monotonic()
    thumb.press("ArrowLeft")
    page.wait_for_function(
        """k => { const m = [...document.querySelectorAll('[data-testid=stMetric]')]
              .find(e => e.innerText.includes('Clusters found'));
              const v = m && m.querySelector('[data-testid=stMetricValue]');
              return v && v.innerText.trim() !== k; }""", arg=before_k.strip())
    # The metric and the figure are separate elements: wait for the figure's redraw too (on a
    # loaded machine the metric can arrive first).
    page.wait_for_function(f"before => ({_TRACES_JS})() !== before", arg=before_traces)
    server["timings"]["slider to redraw (s)"] = round(time.monotonic() - t0, 2)
    after_traces, after_k = _embedding_traces(page), _metric(page, "Clusters found")
    assert int(after_k) == int(before_k) - 1
    assert before_traces and after_traces and before_traces != after_traces

    # Switching pages keeps the slider's value (and so the clustering).
    _nav(page, "Performance")
    expect(page.get_by_text("Best mean accuracy")).to_be_visible()
    _nav(page, "Clusters")
    expect(page.get_by_text("Clusters found")).to_be_visible()
    assert _metric(page, "Clusters found") == after_k
    shot = server["tmp"] / "fedlens_clusters.png"
    page.screenshot(path=str(shot), full_page=True)
    print(f"screenshot: {shot}")


#: A page is usable when this text is on it.
READY = {"Data": "Preview — ", "Simulate": "Methods to run", "Clusters": "Clusters found",
         "Performance": "Best mean accuracy", "Explain": "Explaining",
         "Export": "Reproducibility bundle",
         "Runs": "Runs folder", "Grids": "Launch a grid"}


_BEFOREUNLOAD_PREVENTED = """() => {
    const e = new Event('beforeunload', {cancelable: true});
    window.dispatchEvent(e);
    return e.defaultPrevented;
}"""


def test_leaving_during_a_run_asks_first(page, server):
    from playwright.sync_api import expect

    asked = []

    def answer(dialog):
        asked.append(dialog.message)
        dialog.dismiss()  # "stay on this page"

    page.on("dialog", answer)
    _nav(page, "Simulate")
    rounds = page.get_by_label("Rounds", exact=True)
    rounds.fill("400")  # long enough to still be running while we try to leave
    rounds.press("Tab")
    page.get_by_role("button", name="Run").click()
    page.wait_for_selector("#fedlens-run-guard", state="attached", timeout=120_000)
    _nav(page, "Data")
    assert asked and "simulation is running" in asked[0], asked
    assert page.locator("#fedlens-run-guard").count() == 1  # still here, still running
    assert page.evaluate(_BEFOREUNLOAD_PREVENTED)  # closing/reloading the tab asks too
    # Once the run is over nothing asks any more.
    page.wait_for_selector("#fedlens-run-guard", state="detached", timeout=300_000)
    assert not page.evaluate(_BEFOREUNLOAD_PREVENTED)
    page.remove_listener("dialog", answer)
    _nav(page, "Data")
    expect(page.get_by_text("Preview — ", exact=False)).to_be_visible()
    assert len(asked) == 1


def test_every_page_works_offline(page, server):
    """No page asks for anything outside this machine (fonts, icons, MathJax, telemetry)."""
    from playwright.sync_api import expect

    for name in PAGES + ["Data"]:
        t0 = time.monotonic()
        _nav(page, name)
        expect(page.get_by_text(READY[name], exact=False).first).to_be_visible()
        server["timings"][f"page {name} (s)"] = round(time.monotonic() - t0, 2)
        assert not page.locator('[data-testid="stException"]').count(), name
    page.reload()
    expect(page.get_by_text("Preview — ", exact=False)).to_be_visible()
    assert server["blocked"] == [], server["blocked"]


def test_idle_server_uses_no_cpu(page, server):
    """With a browser session open, an idle server costs (almost) no CPU: no file watcher
    scanning the virtual environment. A resource bound, not a timing of our code."""
    from playwright.sync_api import expect

    _nav(page, "Data")
    expect(page.get_by_text("Preview — ", exact=False)).to_be_visible()
    page.wait_for_load_state("networkidle")
    pid = server["proc"].pid
    # Work the earlier tests started (auto-saves, cached figures) may still be finishing:
    # idle means a whole window without it, so up to three consecutive windows are measured.
    for _ in range(3):
        start, t0 = cpu_seconds(pid), time.monotonic()
        time.sleep(IDLE_SECONDS)  # the measured interval itself, not a synchronisation
        used, elapsed = cpu_seconds(pid) - start, time.monotonic() - t0
        if used < IDLE_CPU_BOUND * elapsed / IDLE_SECONDS:
            break
    server["timings"]["idle CPU (s per 10 s)"] = round(used * 10 / elapsed, 3)
    assert used < IDLE_CPU_BOUND * elapsed / IDLE_SECONDS, (used, elapsed)
