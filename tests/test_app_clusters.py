"""AppTest of the Clusters page on synthetic results (no training): fast and exact."""

from __future__ import annotations

import numpy as np
import pytest
from app_support import APP, chart_specs, embedding_spec, fake_result, trace_clusters
from streamlit.testing.v1 import AppTest

from fedcore.ui.run_keys import run_id

pytestmark = pytest.mark.slow


def _session(results: list, monkeypatch) -> tuple[AppTest, list[str]]:
    from fedcore.ui import cached

    # Deterministic layout whatever warmed UMAP earlier in this process (other test files).
    monkeypatch.setattr(cached, "umap_ready", lambda: False)
    app = AppTest.from_file(APP, default_timeout=60)
    keys = [run_id(r) for r in results]
    app.session_state["fl.results"] = dict(zip(keys, results, strict=True))
    app.run()
    # Same fingerprint as the results, so they are not stale.
    app.session_state["fl.dataset_fingerprint"] = "fake"
    app.switch_page("pages/clusters.py").run()
    assert not app.exception, [e.value for e in app.exception]
    return app, keys


@pytest.fixture()
def at(monkeypatch):
    app, keys = _session([fake_result()], monkeypatch)
    app.key = keys[0]
    return app


def _metrics(at) -> dict:
    return {m.label: m.value for m in at.metric}


def _what_if(at, key):
    at.radio(key=f"w.cl.{key}.view").set_value("what-if").run()
    assert not at.exception, [e.value for e in at.exception]


def test_opens_on_the_methods_own_clusters_with_members_by_name(monkeypatch):
    # The method's own partition is {c00, c02, ...} vs {c01, c03, ...}; a 3-cluster
    # re-clustering must not be what the page opens on.
    result = fake_result()
    result.assignments = np.array([0, 1] * 6)
    app, (key,) = _session([result], monkeypatch)
    assert app.radio(key=f"w.cl.{key}.view").value == "own"
    assert _metrics(app)["Clusters found"] == "2"
    assert trace_clusters(embedding_spec(app)) == {"cluster 0": 6, "cluster 1": 6}
    members = app.dataframe[0].value
    assert members["Members"].tolist() == [", ".join(f"c{i:02d}" for i in range(0, 12, 2)),
                                           ", ".join(f"c{i:02d}" for i in range(1, 12, 2))]
    assert "Agreement with the method's own clusters" not in " ".join(c.value for c in app.caption)
    assert app.session_state["fl.cluster_selection"]["view"] == "own"
    np.testing.assert_array_equal(app.session_state["fl.cluster_selection"]["labels"],
                                  result.assignments)


def test_what_if_starts_at_the_results_own_number_of_clusters(at):
    _what_if(at, at.key)
    slider = at.slider(key=f"w.cl.{at.key}.updates.agglomerative.n_clusters")
    assert slider.value == 2
    assert _metrics(at)["ARI"] == "1.000"
    assert any("what-if" in m.value.lower() for m in at.markdown)
    assert any("Agreement with the method's own clusters: ARI 1.000" in c.value
               for c in at.caption)
    assert any("UMAP is still warming up" in c.value for c in at.caption)


def test_controls_belong_to_their_result(monkeypatch):
    """IFCA with K=2 and K=4 side by side; a k chosen for one never reaches the other."""
    two = fake_result()
    two.params = {"n_clusters": 2}
    four = fake_result(seed=1)
    four.params = {"n_clusters": 4}
    four.assignments = np.arange(12) % 4
    app, (k2, k4) = _session([two, four], monkeypatch)
    assert k2 != k4
    labels = app.selectbox(key="cl.result").options
    assert labels == ["ifca (n_clusters=2)", "ifca (n_clusters=4)"]
    assert app.selectbox(key="cl.result").value == k4
    _what_if(app, k4)
    assert app.slider(key=f"w.cl.{k4}.updates.agglomerative.n_clusters").value == 4
    app.slider(key=f"w.cl.{k4}.updates.agglomerative.n_clusters").set_value(3).run()
    app.selectbox(key="cl.result").set_value(k2).run()
    assert app.radio(key=f"w.cl.{k2}.view").value == "own"
    _what_if(app, k2)
    assert app.slider(key=f"w.cl.{k2}.updates.agglomerative.n_clusters").value == 2
    assert _metrics(app)["Clusters found"] == "2"


def test_threshold_cut_starts_at_the_partition_shown_and_shows_its_steps(at):
    _what_if(at, at.key)
    prefix = f"w.cl.{at.key}.principal_angles.agglomerative"
    at.selectbox(key=f"cl.rep.{at.key}").set_value("principal_angles").run()
    assert at.selectbox(key=f"{prefix}.metric").options == ["precomputed"]
    assert _metrics(at)["Clusters found"] == "2"
    at.selectbox(key=f"{prefix}.cut").set_value("distance_threshold").run()
    assert not at.exception, [e.value for e in at.exception]
    assert _metrics(at)["Clusters found"] == "2"  # same partition as before the switch
    threshold = at.slider(key=f"{prefix}.distance_threshold")
    decimals = int(threshold.proto.format.strip("%f.") or 0)
    assert 10 ** -decimals <= threshold.step, (threshold.proto.format, threshold.step)
    threshold.set_value(threshold.max).run()
    assert _metrics(at)["Clusters found"] == "1"
    threshold.set_value(threshold.min).run()
    assert int(_metrics(at)["Clusters found"]) >= 2


def test_layouts_offered_and_axes_named(at):
    layout = at.selectbox(key=f"w.cl.{at.key}.updates.layout")
    assert {"UMAP", "t-SNE", "PCA", "MDS"} <= set(layout.options)
    layout.set_value("mds").run()
    assert not at.exception, [e.value for e in at.exception]
    spec = embedding_spec(at)
    assert spec["layout"]["xaxis"]["title"]["text"] == "MDS 1"
    assert spec["layout"]["yaxis"]["title"]["text"] == "MDS 2"


def test_iterative_method_gets_a_sankey_numbered_from_round_one(at):
    sankeys = [s for s in chart_specs(at) if s["layout"]["meta"]["name"] == "assignment_sankey"]
    assert len(sankeys) == 1
    assert sankeys[0]["data"][0]["type"] == "sankey"
    notes = [a["text"] for a in sankeys[0]["layout"].get("annotations", [])]
    assert notes == ["Round 1", "Round 2", "Round 3"]


def test_distance_matrix_is_named_for_what_it_plots(at):
    heat = [s for s in chart_specs(at) if s["layout"]["meta"]["name"] == "similarity_heatmap"]
    title = heat[0]["layout"]["title"]["text"]
    bar = heat[0]["data"][0]["colorbar"]["title"]["text"]
    assert "distance" in title.lower() and "similarity" not in title.lower()
    assert "distance" in bar


def test_dbscan_noise_and_one_stale_notice(at):
    _what_if(at, at.key)
    at.selectbox(key=f"w.cl.{at.key}.updates.clusterer").set_value("dbscan").run()
    assert not at.exception, [e.value for e in at.exception]
    assert "Clusters found" in _metrics(at)
    at.session_state["fl.dataset_fingerprint"] = "other"
    at.run()
    assert len([w for w in at.warning if "Stale" in w.value]) == 1
