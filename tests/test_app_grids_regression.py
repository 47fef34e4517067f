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


def test_regression_grid_tables_and_figures_use_rmse(tmp_path, monkeypatch):
    monkeypatch.setenv("FEDLENS_RUNS", str(tmp_path))
    at = AppTest.from_file(APP, default_timeout=180).run()
    at.switch_page("pages/grids.py").run()
    at.selectbox(key="w.grid.data").set_value("opt")
    at.multiselect(key="w.grid.scenarios").set_value(["natural"])
    at.multiselect(key="w.grid.methods").set_value(["fedavg", "local"])
    at.text_input(key="w.grid.seeds").set_value("0")
    at.number_input(key="w.grid.rounds").set_value(2)
    at.selectbox(key="w.grid.model").set_value("logreg")
    at.text_area(key="w.grid.params").set_value("")
    at.text_input(key="w.grid.name").set_value("reg")
    at.number_input(key="w.grid.workers").set_value(0)
    at.multiselect(key="w.grid.formats").set_value([])
    [button] = [b for b in at.button if b.label == "Run grid"]
    button.click().run()
    _ok(at)
    [tidy] = [d.value for d in at.dataframe if "cell_id" in d.value.columns]
    assert (tidy["task"] == "regression").all() and tidy["mean_client_rmse"].gt(0).all()
    latex = [c.value for c in at.code if c.language == "latex"]
    assert latex and "RMSE" in latex[0] and "accuracy" not in latex[0].lower()
    names = [s["layout"]["meta"]["name"] for s in chart_specs(at)]
    assert "grid_mean_client_rmse" in names and "grid_mean_client_accuracy" not in names
