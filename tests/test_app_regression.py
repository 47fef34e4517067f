"""AppTest of every workflow page on a regression federation (RMSE, never accuracy).

One AppTest session loads the two-slope regression data (``y = +-2 x0``), runs fedavg and
ifca for 2 rounds on the Simulate page, and every page is then visited on those results.
"""

from __future__ import annotations

import pytest
from app_support import APP, install_dataset
from regression_data import slope_groups
from streamlit.testing.v1 import AppTest

pytestmark = pytest.mark.slow


def _ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at


def _texts(at: AppTest) -> str:
    parts = [m.label for m in at.metric]
    for kind in ("markdown", "caption", "info", "subheader", "success", "warning"):
        parts += [str(e.value) for e in at.get(kind)]
    for frame in at.dataframe:
        parts += [str(c) for c in frame.value.columns]
    return "\n".join(parts)


@pytest.fixture(scope="module")
def at():
    app = AppTest.from_file(APP, default_timeout=180)
    install_dataset(app, slope_groups())
    app.run()
    app.switch_page("pages/simulate.py").run()
    app.number_input(key="w.sim.rounds").set_value(2)
    app.selectbox(key="w.sim.kind").set_value("logreg")
    app.multiselect(key="w.sim.methods").set_value(["fedavg", "ifca"])
    app.form_submit_button[0].click().run()
    return _ok(app)


def test_simulate_shows_rmse(at):
    results = at.session_state["fl.results"]
    assert [r.method for r in results.values()] == ["fedavg", "ifca"]
    assert all(r.task == "regression" for r in results.values())
    table = at.dataframe[0].value
    assert "mean RMSE" in table.columns and "mean accuracy" not in table.columns


@pytest.mark.parametrize("page", ["performance", "clusters", "explain", "export", "data"])
def test_page_runs_on_regression_results(at, page):
    at.switch_page(f"pages/{page}.py").run()
    _ok(at)
    text = _texts(at)
    assert "accuracy" not in text.lower() or page == "data", text
    if page in ("performance", "clusters"):
        assert "RMSE" in text
