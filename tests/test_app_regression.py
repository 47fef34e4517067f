"""AppTest of every workflow page on a regression federation (RMSE, never accuracy).

One AppTest session loads the two-slope regression data (``y = +-2 x0``), runs fedavg and
ifca for 2 rounds on the Simulate page, and every page is then visited on those results.
"""

from __future__ import annotations

import pytest
from app_support import APP, chart_specs, simulated_session
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
    return _ok(simulated_session(slope_groups(), ["fedavg", "ifca"], timeout=180))


def test_simulate_shows_rmse(at):
    results = at.session_state["fl.results"]
    assert [r.method for r in results.values()] == ["fedavg", "ifca"]
    assert all(r.task == "regression" for r in results.values())
    table = at.dataframe[0].value
    assert "mean RMSE" in table.columns and "mean accuracy" not in table.columns
    assert table["mean RMSE"].tolist() == pytest.approx(
        [r.client_metrics["rmse"].mean() for r in results.values()], abs=1e-4)
    [curves] = [s for s in chart_specs(at) if s["layout"]["meta"]["name"].startswith("learning")]
    assert curves["layout"]["meta"]["name"] == "learning_curves_mean_rmse"
    assert "lower is better" in curves["layout"]["title"]["text"]
    assert {s.label for s in at.selectbox} >= {"Training loss"}


@pytest.mark.parametrize("page", ["performance", "clusters", "explain", "export", "data"])
def test_page_runs_on_regression_results(at, page):
    at.switch_page(f"pages/{page}.py").run()
    _ok(at)
    text = _texts(at)
    assert "accuracy" not in text.lower() or page == "data", text
    if page in ("performance", "clusters"):
        assert "RMSE" in text


def _regression_csv(bad: bool = False) -> bytes:
    """Long table ``client, x0, x1, y`` with a continuous target (``y = +-2 x0``)."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    frames = []
    for c in range(4):
        x = rng.normal(size=(30, 2))
        y = (1 if c % 2 else -1) * 2.0 * x[:, 0] + 0.1 * rng.normal(size=30)
        frames.append(pd.DataFrame({"client": f"site{c}", "x0": x[:, 0], "x1": x[:, 1],
                                    "y": y}))
    df = pd.concat(frames, ignore_index=True)
    if bad:
        df["y"] = df["y"].astype(object)
        df.loc[5, "y"] = "high"
    return df.to_csv(index=False).encode()


def _upload(csv: bytes, regression: bool) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=120).run()
    app.file_uploader[0].set_value(("slopes.csv", csv, "text/csv")).run()
    app.selectbox(key="data.upload.label").set_value("y").run()
    if regression:
        app.checkbox(key="data.upload.regression").check().run()
    app.button(key="data.upload.load").click().run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def test_upload_suggests_regression_and_loads_it_when_chosen(tmp_path, monkeypatch):
    monkeypatch.setenv("FEDLENS_RUNS", str(tmp_path / "runs"))
    app = _upload(_regression_csv(), regression=True)
    captions = " ".join(str(c.value) for c in app.caption)
    assert "looks like **regression**" in captions
    ds = app.session_state["fl.dataset"]
    assert ds.is_regression and ds.n_clients == 4
    assert app.session_state["fl.dataset_source"]["task"] == "regression"
    assert {m.label: m.value for m in app.metric}["Task"] == "regression"
    names = [s["layout"]["meta"]["name"] for s in chart_specs(app)]
    assert "target_distribution_box" in names and "label_distribution_heatmap" not in names
    options = app.selectbox(key="w.data.name").options
    assert any(o.startswith("nox [regression]") for o in options)
    assert any(o.startswith("heart —") for o in options)


def test_bad_regression_label_is_an_error_and_keeps_the_dataset(tmp_path, monkeypatch):
    monkeypatch.setenv("FEDLENS_RUNS", str(tmp_path / "runs"))
    app = _upload(_regression_csv(bad=True), regression=True)
    assert app.error and "Could not load slopes.csv" in app.error[0].value
    assert app.session_state["fl.dataset"].name != "slopes"
    assert not app.session_state["fl.dataset"].is_regression


def test_explain_says_why_class_only_explainers_do_not_apply(at):
    at.switch_page("pages/explain.py").run()
    _ok(at)
    notes = " ".join(str(i.value) for i in at.info) + " ".join(str(c.value) for c in at.caption)
    assert "continuous target" in notes
    assert "membership_shap_bar" in [s["layout"]["meta"]["name"] for s in chart_specs(at)]


def test_export_latex_and_figure_pack_rank_by_rmse(at):
    from fedcore.ui.export_view import session_figures

    at.switch_page("pages/export.py").run()
    _ok(at)
    [latex] = [c.value for c in at.code if c.language == "latex"]
    assert "Mean RMSE" in latex and "accuracy" not in latex.lower()
    results = at.session_state["fl.results"]
    best = min(results.values(), key=lambda r: r.client_metrics["rmse"].mean())
    row = next(line for line in latex.splitlines() if line.startswith(best.method))
    assert row.split("&")[1].strip().startswith(r"$\mathbf{")  # lowest mean RMSE in bold
    figures = session_figures(results, at.session_state["fl.dataset"])
    assert {"learning_curves", "client_rmse", "worst_client_rmse",
            "target_distribution"} <= set(figures)  # file names say what is plotted
    assert "label_distribution" not in figures and not [f for f in figures if "accuracy" in f]
    for name in ("learning_curves", "client_rmse", "worst_client_rmse"):
        assert "RMSE" in figures[name][0].layout.yaxis.title.text, name


def test_clusters_hover_and_members_show_rmse(at):
    at.switch_page("pages/clusters.py").run()
    _ok(at)
    members = [d.value for d in at.dataframe if "Members" in d.value.columns]
    assert members and "Mean RMSE" in members[0].columns
    hover = " ".join(str(t.get("hovertemplate", "")) for s in chart_specs(at)
                     if s["layout"]["meta"]["name"] == "embedding_scatter" for t in s["data"])
    assert "RMSE" in hover and "accuracy" not in hover


def test_a_stale_classification_result_gets_its_own_table(at):
    """Results of both tasks in one session never share a table (nor crash a page)."""
    from app_support import fake_result

    at.session_state["fl.results"]["ifca-stale"] = fake_result()  # another dataset's run
    at.switch_page("pages/simulate.py").run()
    _ok(at)
    tables = [d.value for d in at.dataframe if "run id" in d.value.columns]
    assert len(tables) == 2
    assert "mean RMSE" in tables[0].columns and "mean accuracy" in tables[1].columns
    for page in ("performance", "clusters", "export"):
        at.switch_page(f"pages/{page}.py").run()
        assert not at.exception, (page, [e.value for e in at.exception])
    del at.session_state["fl.results"]["ifca-stale"]


def test_progress_text_names_rmse():
    from fedcore.ui.progress import method_progress

    class Bar:
        def progress(self, value, text):
            self.text = text

    class Target:
        def progress(self, value, text):
            self.bar = Bar()
            return self.bar

    target = Target()
    callback = method_progress("fedavg", container=target)
    callback(1, 2, {"mean_rmse": 0.25, "mean_accuracy": float("nan"), "n_clusters": 1})
    assert "mean RMSE (lower is better) 0.250" in target.bar.text
    assert "accuracy" not in target.bar.text
