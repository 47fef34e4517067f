"""AppTest of the workflow pages on a tiny two-group dataset.

One AppTest session runs a 2-round simulation (fedavg + flhc, logistic regression) once; the
tests then visit Clusters, Performance, Explain, Export and Runs in that same session, in
file order, as a user would.
"""

from __future__ import annotations

import numpy as np
import pytest
from app_support import (
    chart_specs,
    embedding_spec,
    plotly_array,
    simulated_session,
    trace_clusters,
    two_group_dataset,
    two_group_table,
)
from streamlit.testing.v1 import AppTest

from fedcore.strategies.base import Strategy

pytestmark = pytest.mark.slow


def _key(at: AppTest, method: str) -> str:
    """The run id of ``method``'s result in the session."""
    return next(k for k, r in at.session_state["fl.results"].items() if r.method == method)


def _slider(at: AppTest) -> str:
    return f"w.cl.{_key(at, 'flhc')}.updates.agglomerative.n_clusters"


def _ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    return at


def _figure_names(at: AppTest) -> list[str]:
    return [s.get("layout", {}).get("meta", {}).get("name") for s in chart_specs(at)]


@pytest.fixture(scope="module")
def at():
    return _ok(simulated_session(two_group_dataset(), ["fedavg", "flhc"],
                                 numbers={"w.sim.p.flhc.warmup_rounds": 1}))


def test_simulation_stores_results_and_draws_learning_curves(at):
    assert not at.error, [e.value for e in at.error]
    results = at.session_state["fl.results"]
    assert [r.method for r in results.values()] == ["fedavg", "flhc"]
    assert all(k.startswith(r.method + "-") for k, r in results.items())  # run ids
    for r in results.values():
        assert len(r.rounds) == 2
        assert 0.0 <= r.mean_client_accuracy <= 1.0
    curves = [s for s in chart_specs(at)
              if s["layout"]["meta"]["name"].startswith("learning_curves")]
    assert [t["name"] for t in curves[0]["data"]] == ["fedavg", "flhc"]
    table = at.dataframe[0].value
    assert table["run"].tolist() == ["fedavg", "flhc"]
    assert (table["status"] == "current").all()
    assert (table["K chosen"] == "user").all()


def test_every_finished_run_is_saved_automatically(at):
    from fedcore.ui import persist
    saved = {p.name for p in persist.saved_runs()}
    assert set(at.session_state["fl.results"]) <= saved


def test_enter_in_a_number_field_does_not_submit_the_run_form(at):
    forms = [f for f in at.get("form") if f.proto.form.form_id == "simulate_form"]
    assert forms and forms[0].proto.form.enter_to_submit is False


def test_a_failing_method_shows_its_error_and_keeps_other_results(at, monkeypatch):
    from fedcore import strategies

    class Broken(Strategy):
        name = "broken"

        def initialize(self, ctx):
            raise RuntimeError("boom in initialize")

    monkeypatch.setitem(strategies.STRATEGIES, "broken", Broken)
    at.run()  # the form now lists the extra method
    at.multiselect(key="w.sim.methods").set_value(["broken"])
    at.form_submit_button[0].click().run()
    _ok(at)
    assert any("broken failed" in e.value and "boom" in e.value for e in at.error)
    assert [r.method for r in at.session_state["fl.results"].values()] == ["fedavg", "flhc"]
    at.multiselect(key="w.sim.methods").set_value(["fedavg", "flhc"])


def test_invalid_parameters_stop_the_launch_with_one_message(at, monkeypatch):
    from fedcore.ui import simulate_view

    before = dict(at.session_state["fl.results"])
    monkeypatch.setattr(simulate_view, "validate_methods",
                        lambda methods: "ifca: unknown parameter(s) k")
    at.form_submit_button[0].click().run()
    _ok(at)
    assert [e.value for e in at.error if "Nothing was started" in e.value] == [
        "Nothing was started — ifca: unknown parameter(s) k"]
    assert at.session_state["fl.results"] == before
    at.session_state["fl.run_errors"].clear()


def test_known_number_of_groups_is_an_opt_in_oracle_choice_marked_everywhere(at):
    at.switch_page("pages/simulate.py").run()
    box = at.checkbox(key="w.sim.oracle_k")
    assert box.value is False and "K = 2" in box.label
    before = set(at.session_state["fl.results"])
    box.check()
    at.multiselect(key="w.sim.methods").set_value(["ifca"])
    at.number_input(key="w.sim.rounds").set_value(1)
    at.form_submit_button[0].click().run()
    _ok(at)
    [key] = set(at.session_state["fl.results"]) - before
    assert at.session_state["fl.results"][key].params["n_clusters"] == 2
    table = at.dataframe[0].value.set_index("run id")
    assert table.loc[key, "K chosen"] == "oracle (true groups)"
    assert table.loc[key, "run"].endswith("oracle K")
    at.switch_page("pages/performance.py").run()
    assert any(m.endswith("oracle K") for m in at.dataframe[0].value["method"])
    # Clear it again (session and saved copy) so the pages below compare fedavg and flhc.
    from fedcore.ui import persist
    at.switch_page("pages/simulate.py").run()
    at.multiselect(key="sim.delete.pick").set_value([key]).run()
    at.button(key="sim.delete.some").click().run()
    _ok(at)
    assert set(at.session_state["fl.results"]) == before
    assert key not in {p.name for p in persist.saved_runs()}
    at.checkbox(key="w.sim.oracle_k").uncheck()
    at.multiselect(key="w.sim.methods").set_value(["fedavg", "flhc"])
    at.number_input(key="w.sim.rounds").set_value(2)
    at.run()


def test_clusters_slider_reclusters_without_moving_the_layout(at):
    at.switch_page("pages/clusters.py").run()
    _ok(at)
    key = _key(at, "flhc")
    assert at.selectbox(key="cl.result").value == key
    assert at.radio(key=f"w.cl.{key}.view").value == "own"
    own = {m.label: m.value for m in at.metric}["Clusters found"]
    at.radio(key=f"w.cl.{key}.view").set_value("what-if").run()
    SLIDER = _slider(at)
    assert at.slider(key=SLIDER).value == 3 == int(own)
    before = embedding_spec(at)
    assert sum(trace_clusters(before).values()) == 6
    assert len(trace_clusters(before)) == 3
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Clusters found"] == "3"

    at.slider(key=SLIDER).set_value(2).run()
    _ok(at)
    after = embedding_spec(at)
    assert trace_clusters(after) != trace_clusters(before)
    assert len(trace_clusters(after)) == 2
    assert {m.label: m.value for m in at.metric}["Clusters found"] == "2"
    # The embedding is cached apart from the clustering: same points, new colours.
    xs = lambda spec: np.sort(np.concatenate([plotly_array(t["x"]) for t in spec["data"]  # noqa: E731
                                              if t.get("legendgroup") != "truth"]))
    np.testing.assert_allclose(xs(before), xs(after))
    labels = at.session_state["fl.cluster_selection"]["labels"]
    assert len(set(labels.tolist())) == 2
    assert {"embedding_scatter", "dendrogram", "similarity_heatmap"} <= set(_figure_names(at))


def test_clusters_other_clusterer_and_representation(at):
    # Also on its own (pytest -k): open the Clusters page's what-if view first.
    at.switch_page("pages/clusters.py").run()
    key = _key(at, "flhc")
    at.radio(key=f"w.cl.{key}.view").set_value("what-if").run()
    at.selectbox(key=f"cl.rep.{key}").set_value("data_summary").run()
    _ok(at)
    prefix = f"w.cl.{key}.data_summary"
    at.selectbox(key=f"{prefix}.clusterer").set_value("kmeans").run()
    _ok(at)
    at.slider(key=f"{prefix}.kmeans.n_clusters").set_value(2).run()
    _ok(at)
    assert not at.error, [e.value for e in at.error]
    assert {m.label: m.value for m in at.metric}["Clusters found"] == "2"
    # Back to the representation used above for the next pages.
    at.selectbox(key=f"cl.rep.{key}").set_value("updates").run()


def test_performance_page(at):
    at.switch_page("pages/performance.py").run()
    _ok(at)
    summary = at.dataframe[0].value
    assert summary["method"].tolist() == ["fedavg", "flhc"]
    members = at.dataframe[1].value
    assert "Members" in members.columns
    assert ", ".join(f"site{i}" for i in range(6)) in members["Members"].tolist()
    assert not any(r.key == "w.perf.color" and len(r.options) < 2 for r in at.radio)
    names = set(_figure_names(at))
    assert {"accuracy_box_strip", "learning_curves_mean_accuracy"} <= names, names
    assert any(n.startswith("gain") for n in names), names


def test_switching_pages_keeps_the_clustering_choice(at):
    at.switch_page("pages/clusters.py").run()
    _ok(at)
    assert at.slider(key=_slider(at)).value == 2
    assert {m.label: m.value for m in at.metric}["Clusters found"] == "2"


def test_explain_page_explains_the_chosen_clustering(at):
    at.switch_page("pages/explain.py").run()
    _ok(at)
    assert "flhc" in at.markdown[0].value and "updates" in at.markdown[0].value
    labels = {m.label: m.value for m in at.metric}
    assert "Surrogate fidelity" in labels
    assert "divergence_heatmap" in set(_figure_names(at))


def test_export_page_latex_table(at):
    at.switch_page("pages/export.py").run()
    _ok(at)
    latex = at.code[0].value
    assert latex.startswith("\\begin{table}") and "fedavg" in latex and "flhc" in latex
    assert "Mean accuracy" in latex and "mean_accuracy" not in latex


def test_export_settings_size_every_exported_figure(at):
    import io
    import struct
    import zipfile

    from fedcore.ui import export_view

    at.switch_page("pages/export.py").run()
    at.radio(key="w.export.units").set_value("px").run()
    at.number_input(key="w.export.width.px").set_value(400.0).run()
    at.number_input(key="w.export.height.px").set_value(300.0).run()
    _ok(at)
    settings = at.session_state["fl.export_settings"]
    assert settings["units"] == "px" and (settings["width"], settings["height"]) == (400, 300)
    results = dict(at.session_state["fl.results"])
    pack = export_view.figure_pack(results, ("png",), at.session_state["fl.dataset"], settings)
    with zipfile.ZipFile(io.BytesIO(pack)) as zf:
        assert "figures/clusters_client_map.png" not in zf.namelist()  # no choice passed
    with zipfile.ZipFile(io.BytesIO(pack)) as zf:
        png = zf.read("figures/learning_curves.png")
    assert struct.unpack(">II", png[16:24]) == (400, 300)  # IHDR width, height


def test_bundle_and_figure_pack_are_real_zips(at):
    import io
    import zipfile

    from fedcore.ui import export_view

    results = dict(at.session_state["fl.results"])
    ds = at.session_state["fl.dataset"]
    data = export_view.bundle_zip(results, ds, {"kind": "test"})
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert "manifest.json" in names and "reproduce.sh" in names
    assert sum(n.endswith("summary.json") for n in names) == 2
    pack = export_view.figure_pack(results, ("svg",), ds)
    names = zipfile.ZipFile(io.BytesIO(pack)).namelist()
    assert "figures/learning_curves.svg" in names and "figures/client_accuracy.csv" in names


def test_exports_include_the_clusters_and_explain_figures_shown(at):
    import io
    import json
    import zipfile

    from fedcore.ui import export_view

    # The choice shown on the Clusters page: a what-if cut of the updates into 2 clusters.
    at.switch_page("pages/clusters.py").run()
    key = _key(at, "flhc")
    at.radio(key=f"w.cl.{key}.view").set_value("what-if").run()
    at.selectbox(key=f"cl.rep.{key}").set_value("updates").run()
    at.selectbox(key=f"w.cl.{key}.updates.clusterer").set_value("agglomerative").run()
    at.slider(key=_slider(at)).set_value(2).run()
    at.switch_page("pages/export.py").run()
    _ok(at)
    assert any("what-if re-clustering" in c.value for c in at.caption)
    shown = at.session_state["fl.cluster_selection"]
    results = dict(at.session_state["fl.results"])
    ds = at.session_state["fl.dataset"]
    capture = _capture(at)
    pack = export_view.figure_pack(results, ("svg",), ds, None, capture)
    with zipfile.ZipFile(io.BytesIO(pack)) as zf:
        names = zf.namelist()
        record = json.loads(zf.read("clusters_shown.json"))
    for name in ("clusters_client_map", "clusters_dendrogram", "clusters_distance_matrix",
                 "explain_divergence_heatmap", "explain_membership_shap_bar"):
        assert f"figures/{name}.svg" in names, name
    assert record["view"] == "what-if" and record["clusterer"] == shown["clusterer"]
    assert record["params"]["n_clusters"] == 2
    assert record["clusters"] == dict(zip([f"site{i}" for i in range(6)],
                                          map(int, shown["labels"]), strict=True))
    bundle = export_view.bundle_zip(results, ds, {"kind": "test"}, None, ("svg",), None, capture)
    with zipfile.ZipFile(io.BytesIO(bundle)) as zf:
        assert json.loads(zf.read("clusters_shown.json")) == record
        assert "Mean client accuracy" in zf.read("tables/runs.tex").decode()


def _capture(at):
    """export_shown.capture() as the Export page ran it."""
    return at.session_state["fl.export_shown"]


def test_runs_page_refuses_folders_outside_the_runs_root(at, tmp_path, monkeypatch):
    monkeypatch.setenv("FEDLENS_RUNS", str(tmp_path / "runs"))
    at.switch_page("pages/runs.py").run()
    for escape in ("../outside", "/etc", str(tmp_path)):
        at.text_input(key="w.runs.root").set_value(escape).run()
        assert not at.exception
        assert any("must be inside the runs root" in e.value for e in at.error), escape
        assert not at.dataframe and not at.form_submit_button
    assert not (tmp_path / "outside").exists()


def test_runs_page_saves_and_reloads_without_recomputing(at, tmp_path, monkeypatch):
    monkeypatch.setenv("FEDLENS_RUNS", str(tmp_path))
    at.switch_page("pages/runs.py").run()
    at.text_input(key="w.runs.root").set_value(str(tmp_path / "mine")).run()
    at.form_submit_button[0].click().run()
    _ok(at)
    assert len([s for s in at.success if "Saved" in s.value]) == 2
    assert len(at.dataframe[0].value) == 2
    before = dict(at.session_state["fl.results"])
    at.button(key="runs.load").click().run()
    _ok(at)
    results = at.session_state["fl.results"]
    # The same run (method, params, data, seed) replaces itself instead of duplicating.
    assert set(results) == set(before)
    for key, r in results.items():
        np.testing.assert_array_equal(r.assignments, before[key].assignments)


def test_explain_treats_a_renumbered_copy_of_the_own_clusters_as_own(at):
    """The same partition numbered differently IS the run's own clustering: cluster models
    apply, nothing is "skipped"."""
    from fedcore.explain import explain_all

    result = at.session_state["fl.results"][_key(at, "flhc")]
    own = np.asarray(result.assignments)
    renumbered = (own + 1) % (own.max() + 1)
    assert not np.array_equal(renumbered, own)
    bundle = explain_all(at.session_state["fl.dataset"], result, labels=renumbered, seed=0)
    assert not any("skipped" in e for e in bundle.errors), bundle.errors
    np.testing.assert_array_equal(bundle.labels, own)


def test_cluster_models_tab_never_asks_to_tick_a_ticked_box(at):
    at.switch_page("pages/clusters.py").run()
    key = _key(at, "flhc")
    at.radio(key=f"w.cl.{key}.view").set_value("own").run()
    at.switch_page("pages/explain.py").run()
    at.checkbox(key="w.explain.models").check().run()
    _ok(at)
    assert not any("tick" in i.value.lower() for i in at.info), [i.value for i in at.info]
    # One fidelity caveat per page at most, and each story starts with its "why".
    assert len([w for w in at.warning if "surrogate" in w.value.lower()]) <= 1
    assert any(m.value.startswith("*Why:*") for m in at.markdown)


def test_new_dataset_marks_results_stale(at):
    at.switch_page("pages/data.py").run()
    csv = two_group_table(seed=1).to_csv(index=False).encode()
    at.file_uploader[0].set_value(("other.csv", csv, "text/csv")).run()
    at.button(key="data.upload.load").click().run()
    at.switch_page("pages/simulate.py").run()
    _ok(at)
    # ONE notice naming every stale result, not a banner per result.
    assert len([w for w in at.warning if "Stale" in w.value]) == 1
    assert "fedavg" in at.warning[0].value and "flhc" in at.warning[0].value
    assert set(at.dataframe[0].value["status"]) == {"stale — re-run"}
    at.switch_page("pages/clusters.py").run()
    _ok(at)
    assert len([w for w in at.warning if "Stale" in w.value]) == 1

