"""AppTest of the Grids page on a regression grid (bundled OPT birthweights, natural
clinics): tables, figures and LaTeX rank methods by RMSE, lowest in bold."""

from __future__ import annotations

import pytest
from app_support import APP, chart_specs
from streamlit.testing.v1 import AppTest

pytestmark = pytest.mark.slow


def _ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at


def _form(tmp_path, monkeypatch, data: str, scenario: str) -> AppTest:
    monkeypatch.setenv("FEDLENS_RUNS", str(tmp_path))
    at = AppTest.from_file(APP, default_timeout=180).run()
    at.switch_page("pages/grids.py").run()
    at.selectbox(key="w.grid.data").set_value(data)
    at.multiselect(key="w.grid.scenarios").set_value([scenario])
    at.multiselect(key="w.grid.methods").set_value(["fedavg", "local"])
    at.text_input(key="w.grid.seeds").set_value("0")
    at.number_input(key="w.grid.rounds").set_value(2)
    at.selectbox(key="w.grid.model").set_value("logreg")
    at.text_area(key="w.grid.params").set_value("")
    at.text_input(key="w.grid.name").set_value("reg")
    at.number_input(key="w.grid.workers").set_value(0)
    at.multiselect(key="w.grid.formats").set_value([])
    return at


def _launch(at: AppTest) -> AppTest:
    [button] = [b for b in at.button if b.label == "Run grid"]
    return button.click().run()


def test_the_grid_form_trains_with_the_chosen_loss(tmp_path, monkeypatch):
    import json

    at = _form(tmp_path, monkeypatch, "opt", "natural")
    at.selectbox(key="w.grid.loss").set_value("huber")
    at.number_input(key="w.grid.huber_delta").set_value(0.5)
    _ok(_launch(at))
    [spec] = [json.loads(p.read_text())
              for p in tmp_path.glob("grids/reg/cells/*fedavg*/spec.json")]
    assert spec["config"]["fit"]["loss"] == "huber"
    assert spec["config"]["fit"]["huber_delta"] == 0.5


def test_a_regression_loss_on_class_data_is_refused_before_any_cell(tmp_path, monkeypatch):
    at = _form(tmp_path, monkeypatch, "heart", "natural")
    at.selectbox(key="w.grid.loss").set_value("huber")
    _launch(at)
    assert not at.exception
    assert any("does not fit a classification task" in e.value for e in at.error)
    assert not list(tmp_path.glob("grids/reg/cells/*"))


def test_regression_grid_tables_and_figures_use_rmse(tmp_path, monkeypatch):
    at = _launch(_form(tmp_path, monkeypatch, "opt", "natural"))
    _ok(at)
    [tidy] = [d.value for d in at.dataframe if "cell_id" in d.value.columns]
    assert (tidy["task"] == "regression").all() and tidy["mean_client_rmse"].gt(0).all()
    latex = [c.value for c in at.code if c.language == "latex"]
    assert latex and "RMSE" in latex[0] and "accuracy" not in latex[0].lower()
    names = [s["layout"]["meta"]["name"] for s in chart_specs(at)]
    assert "grid_mean_client_rmse" in names and "grid_mean_client_accuracy" not in names
