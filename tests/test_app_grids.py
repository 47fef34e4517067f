"""AppTest of the Grids page: launch a tiny real grid, see its tables and figures, resume it;
and the ZIP of grid figures holds valid PDF / SVG / PNG files."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pandas as pd
import pytest
from app_support import APP, chart_specs
from streamlit.testing.v1 import AppTest

from fedcore.errors import ConfigError
from fedcore.grid import dashboard
from fedcore.grid.aggregate import latex_tables

pytestmark = pytest.mark.slow
CELLS = 2 * 2 * 2  # scenarios x methods x seeds


def _ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at


def _fill_form(at: AppTest) -> None:
    at.selectbox(key="w.grid.data").set_value("digits")
    at.multiselect(key="w.grid.scenarios").set_value(["rotation", "label-swap"])
    at.multiselect(key="w.grid.methods").set_value(["fedavg", "ifca"])
    at.text_input(key="w.grid.seeds").set_value("0,1")
    at.number_input(key="w.grid.clients").set_value(4)
    at.number_input(key="w.grid.groups").set_value(2)
    at.number_input(key="w.grid.samples").set_value(30)
    at.number_input(key="w.grid.rounds").set_value(2)
    at.selectbox(key="w.grid.model").set_value("logreg")
    at.text_area(key="w.grid.params").set_value("")
    at.text_input(key="w.grid.name").set_value("tiny")
    at.number_input(key="w.grid.workers").set_value(0)  # in-process: no spawn start-up
    at.multiselect(key="w.grid.formats").set_value([])  # figure files: tested below


def _submit(at: AppTest) -> AppTest:
    [button] = [b for b in at.button if b.label == "Run grid"]
    button.click().run()
    return _ok(at)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    return tmp_path_factory.mktemp("runs")


@pytest.fixture(scope="module")
def at(runs):
    mp = pytest.MonkeyPatch()
    mp.setenv("FEDLENS_RUNS", str(runs))
    app = AppTest.from_file(APP, default_timeout=180)
    app.run()
    app.switch_page("pages/grids.py").run()
    _ok(app)
    assert any("No grids under" in i.value for i in app.info)
    _fill_form(app)
    _submit(app)
    yield app
    mp.undo()


def test_launching_a_grid_shows_results_tables_latex_and_figures(at, runs):
    grid_dir = runs / "grids" / "tiny"
    assert (grid_dir / "grid.json").is_file()
    assert at.session_state["fl.grid_report"]["computed"] == CELLS
    assert at.session_state["fl.grid_report"]["skipped"] == 0
    assert len(list((grid_dir / "cells").glob("*/summary.json"))) == CELLS
    assert (grid_dir / "results.csv").is_file() and (grid_dir / "table.tex").is_file()

    frames = [d.value for d in at.dataframe]
    [tidy] = [f for f in frames if "cell_id" in f.columns]
    assert len(tidy) == CELLS
    assert set(tidy["method"]) == {"fedavg", "ifca"}
    assert set(tidy["scenario"]) == {"rotation", "label-swap"}
    assert tidy["mean_client_accuracy"].between(0, 1).all()
    # mean ± std comparison: methods x scenarios
    comparisons = [f for f in frames if list(f.columns) == ["rotation", "label-swap"]]
    assert comparisons and list(comparisons[0].index) == ["fedavg", "ifca"]
    assert all("±" in v for v in comparisons[0].to_numpy().ravel())

    latex = [c.value for c in at.code if c.language == "latex"]
    assert latex and all(r"\toprule" in t and r"\pm" in t for t in latex)
    assert "Mean client accuracy on digits" in latex[0]
    assert latex[0].strip() == (grid_dir / "table.tex").read_text().strip()  # = the CLI's

    names = [s["layout"]["meta"]["name"] for s in chart_specs(at)]
    assert "grid_mean_client_accuracy" in names and "grid_worst_accuracy" in names
    assert any(b.label.startswith("Figures ZIP") for b in at.get("download_button"))


def test_relaunching_the_same_grid_skips_finished_cells(at, runs):
    before = {p: p.stat().st_mtime_ns
              for p in (runs / "grids" / "tiny" / "cells").glob("*/summary.json")}
    _submit(at)
    report = at.session_state["fl.grid_report"]
    assert report["skipped"] == CELLS and report["computed"] == 0 and report["failed"] == []
    after = {p: p.stat().st_mtime_ns
             for p in (runs / "grids" / "tiny" / "cells").glob("*/summary.json")}
    assert after == before
    listing = [d.value for d in at.dataframe if "complete" in d.value.columns][0]
    assert listing[["grid", "total", "complete", "failed"]].values.tolist() == [
        ["grids/tiny", CELLS, CELLS, 0]]


def test_invalid_settings_are_reported_without_running(at):
    at.text_input(key="w.grid.seeds").set_value("0,x")
    [button] = [b for b in at.button if b.label == "Run grid"]
    button.click().run()
    assert not at.exception
    assert any("seeds" in e.value for e in at.error)
    at.text_input(key="w.grid.seeds").set_value("0,1").run()


def _tidy_frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = [{"cell_id": f"{s}__{m}__seed{k}", "data": "digits", "scenario": s, "method": m,
             "seed": k, "data_seed": k, "mean_client_accuracy": rng.uniform(0.5, 0.9),
             "worst_accuracy": rng.uniform(0.2, 0.5), "ari": rng.uniform(0, 1),
             "n_clusters": 2, "wall_seconds": 1.0}
            for s in ("rotation", "label-swap") for m in ("fedavg", "ifca") for k in (0, 1)]
    return pd.DataFrame(rows)


def test_figures_zip_holds_valid_pdf_svg_png():
    tidy = _tidy_frame().assign(ari=np.nan)  # no true groups: no ARI figure (fewer renders)
    payload = dashboard.figures_zip(tidy)
    with zipfile.ZipFile(io.BytesIO(payload)) as zf:
        names = set(zf.namelist())
        assert not any("grid_ari" in n for n in names)
        for metric in ("mean_client_accuracy", "worst_accuracy"):
            base = f"figures/grid_{metric}"
            assert {f"{base}.pdf", f"{base}.svg", f"{base}.png", f"{base}.csv"} <= names
            assert zf.read(f"{base}.pdf").startswith(b"%PDF")
            assert zf.read(f"{base}.png").startswith(b"\x89PNG\r\n\x1a\n")
            svg = zf.read(f"{base}.svg").lstrip()
            assert svg.startswith(b"<svg") or svg.startswith(b"<?xml"), svg[:40]
            assert b"<svg" in svg
            data = pd.read_csv(io.BytesIO(zf.read(f"{base}.csv")))
            assert len(data) == 8 and metric in data.columns


def test_dashboard_helpers():
    tidy = _tidy_frame()
    table = dashboard.comparison_frame(tidy, "worst_accuracy")
    assert list(table.index) == ["fedavg", "ifca"]
    assert list(table.columns) == ["rotation", "label-swap"]
    tex = latex_tables(tidy)
    assert set(tex) == {"table.tex", "table_worst.tex", "table_ari.tex"}
    grid = dashboard.build_grid("digits", ["dirichlet"], ["ifca"], [0, 1], 4, 2, 30, 2,
                                model="logreg", params=["ifca.n_clusters=3", "dirichlet.alpha=0.1"])
    assert grid.method_params == {"ifca": {"n_clusters": 3}}
    with pytest.raises(ConfigError, match="method 'ifca': unknown parameter 'k'"):
        dashboard.build_grid("digits", ["dirichlet"], ["ifca"], [0], 4, 2, 30, 2,
                             params=["ifca.k=3"])
    assert grid.scenario_params == {"dirichlet": {"alpha": 0.1}}
    assert grid.config["model"] == {"kind": "logreg", "hidden": []}
    with pytest.raises(Exception, match="grid name"):
        dashboard.grid_dir("/tmp", "../escape")
    assert dashboard.source_param_lines(
        {"scenario": "natural", "params": {"true_groups": ""}}) == ""
    assert dashboard.parse_param_lines("a.b=1\n\n# c\nifca.k=2 # four") == ["a.b=1", "ifca.k=2"]


def test_invalid_method_parameter_starts_nothing(tmp_path, monkeypatch):
    """The form's own old example, ``ifca.k=4``, used to fail every IFCA cell at run time."""
    monkeypatch.setenv("FEDLENS_RUNS", str(tmp_path))
    app = AppTest.from_file(APP, default_timeout=120)
    app.run()
    app.switch_page("pages/grids.py").run()
    _fill_form(app)
    app.text_area(key="w.grid.params").set_value("ifca.k=4")
    [button] = [b for b in app.button if b.label == "Run grid"]
    button.click().run()
    assert not app.exception, [e.value for e in app.exception]
    errors = [e.value for e in app.error]
    assert len(errors) == 1 and "ifca" in errors[0] and "'k'" in errors[0], errors
    assert not (tmp_path / "grids" / "tiny").exists()
    assert "ifca.n_clusters=4" in app.text_area(key="w.grid.params").help
