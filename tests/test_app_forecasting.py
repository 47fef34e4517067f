"""AppTest of a bundled forecasting dataset: loaded from the Data page's registry, trained
with the Huber loss on the Simulate page, compared with the persistence forecast on the
Performance page."""

from __future__ import annotations

import numpy as np
import pytest
from app_support import APP, chart_specs
from streamlit.testing.v1 import AppTest

pytestmark = pytest.mark.slow


def _ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at


@pytest.fixture(scope="module")
def at(tmp_path_factory):
    import os
    os.environ["FEDLENS_RUNS"] = str(tmp_path_factory.mktemp("runs"))
    app = AppTest.from_file(APP, default_timeout=180).run()
    app.selectbox(key="w.data.name").set_value("nox")
    app.selectbox(key="w.data.scenario").set_value("forecasting").run()
    app.form_submit_button[0].click().run()
    _ok(app)
    assert app.session_state["fl.dataset"].is_regression
    app.switch_page("pages/simulate.py").run()
    app.number_input(key="w.sim.rounds").set_value(2)
    app.selectbox(key="w.sim.kind").set_value("logreg")
    app.selectbox(key="w.sim.loss").set_value("huber")
    app.number_input(key="w.sim.huber_delta").set_value(5.0)
    app.multiselect(key="w.sim.methods").set_value(["fedavg", "local"])
    app.form_submit_button[0].click().run()
    return _ok(app)


def test_bundled_forecasting_dataset_runs_with_the_chosen_loss(at):
    results = list(at.session_state["fl.results"].values())
    assert [r.method for r in results] == ["fedavg", "local"]
    assert all(r.config["fit"]["loss"] == "huber" for r in results)
    assert all(r.config["fit"]["huber_delta"] == 5.0 for r in results)
    assert all(np.isfinite(r.mean_client_score) for r in results)


def test_performance_shows_the_persistence_baseline_next_to_the_methods(at):
    from fedcore.forecast_baseline import persistence_baseline

    at.switch_page("pages/performance.py").run()
    _ok(at)
    summary = at.dataframe[0].value
    row = summary[summary["method"] == "persistence (last value)"]
    expected = persistence_baseline(at.session_state["fl.dataset"])["rmse"].mean()
    assert len(row) == 1 and row["mean_rmse"].iloc[0] == pytest.approx(expected, abs=1e-3)
    labels = [m.label for m in at.metric]
    assert "Best mean RMSE (lowest)" in labels
    assert not any("accuracy" in label.lower() for label in labels)
    box = next(s for s in chart_specs(at) if s["layout"]["meta"]["name"] == "accuracy_box_strip")
    assert "RMSE" in box["layout"]["yaxis"]["title"]["text"]
    assert any("persistence" in a.get("text", "") for a in box["layout"].get("annotations", []))


def test_gains_and_per_cluster_table_use_rmse(at):
    from fedcore.metrics import gains_over

    at.switch_page("pages/performance.py").run()
    _ok(at)
    gain = next(s for s in chart_specs(at) if s["layout"]["meta"]["name"].startswith("gain_"))
    assert "RMSE gain" in gain["layout"]["yaxis"]["title"]["text"]
    results = {r.method: r for r in at.session_state["fl.results"].values()}
    table = gains_over(results, baseline="fedavg")
    local = results["local"].client_metrics.set_index("client")["rmse"]
    fed = results["fedavg"].client_metrics.set_index("client")["rmse"]
    expected = (fed - local).reindex(table["client"]).to_numpy()
    np.testing.assert_allclose(table["gain"].to_numpy(), expected)  # positive = lower RMSE
    clusters = [d.value for d in at.dataframe if "Members" in d.value.columns]
    assert clusters and {"Mean RMSE", "Worst RMSE (largest)", "Mean MAE", "Mean R²"} <= set(
        clusters[0].columns)


def test_rounds_curves_carry_the_persistence_level(at):
    from fedcore.forecast_baseline import persistence_baseline

    at.switch_page("pages/performance.py").run()
    _ok(at)
    rmse = persistence_baseline(at.session_state["fl.dataset"])["rmse"]
    for metric, level, word in (("mean_rmse", rmse.mean(), "mean"),
                                ("worst_rmse", rmse.max(), "worst")):
        at.radio(key="w.perf.metric").set_value(metric).run()
        _ok(at)
        spec = next(s for s in chart_specs(at)
                    if s["layout"]["meta"]["name"].startswith("learning_curves"))
        lines = [s for s in spec["layout"].get("shapes", []) if s.get("y0") == s.get("y1")]
        assert [round(s["y0"], 6) for s in lines] == [round(float(level), 6)]
        notes = [a.get("text", "") for a in spec["layout"].get("annotations", [])]
        assert f"persistence (last value): {word} client RMSE" in notes
    at.radio(key="w.perf.metric").set_value("mean_loss").run()  # no RMSE: no level line
    spec = next(s for s in chart_specs(at)
                if s["layout"]["meta"]["name"].startswith("learning_curves"))
    assert not [s for s in spec["layout"].get("shapes", []) if s.get("y0") == s.get("y1")]
