"""AppTest of the Clusters page on a synthetic result (no training): fast and exact."""

from __future__ import annotations

import pytest
from app_support import APP, chart_specs, embedding_spec, fake_result, trace_clusters
from streamlit.testing.v1 import AppTest

pytestmark = pytest.mark.slow


@pytest.fixture()
def at(monkeypatch):
    from fedcore.ui import cached

    # Deterministic layout whatever warmed UMAP earlier in this process (other test files).
    monkeypatch.setattr(cached, "umap_ready", lambda: False)
    app = AppTest.from_file(APP, default_timeout=60)
    app.session_state["fl.results"] = {"ifca": fake_result()}
    app.run()
    # Same fingerprint as the result, so it is not stale.
    app.session_state["fl.dataset_fingerprint"] = "fake"
    app.switch_page("pages/clusters.py").run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def _metrics(at) -> dict:
    return {m.label: m.value for m in at.metric}


def test_two_groups_found_exactly_and_pca_until_umap_is_warm(at):
    slider = "w.cl.ifca.updates.agglomerative.n_clusters"
    at.slider(key=slider).set_value(2).run()
    assert _metrics(at)["ARI"] == "1.000"
    assert _metrics(at)["Clusters found"] == "2"
    assert trace_clusters(embedding_spec(at)) == {"cluster 0": 6, "cluster 1": 6}
    assert any("UMAP is still warming up" in c.value for c in at.caption)
    assert not any("stale" in w.value for w in at.warning)


def test_iterative_method_gets_a_sankey_of_assignments(at):
    sankeys = [s for s in chart_specs(at) if s["layout"]["meta"]["name"] == "assignment_sankey"]
    assert len(sankeys) == 1
    assert sankeys[0]["data"][0]["type"] == "sankey"


def test_distance_only_representation_and_threshold_cut(at):
    at.selectbox(key="cl.rep.ifca").set_value("principal_angles").run()
    prefix = "w.cl.ifca.principal_angles.agglomerative"
    assert at.selectbox(key=f"{prefix}.metric").options == ["precomputed"]
    at.selectbox(key=f"{prefix}.cut").set_value("distance_threshold").run()
    threshold = at.slider(key=f"{prefix}.distance_threshold")
    threshold.set_value(threshold.max).run()
    assert not at.exception, [e.value for e in at.exception]
    assert _metrics(at)["Clusters found"] == "1"
    threshold.set_value(threshold.min).run()
    assert int(_metrics(at)["Clusters found"]) >= 2


def test_dbscan_noise_and_stale_warning(at):
    at.selectbox(key="w.cl.ifca.updates.clusterer").set_value("dbscan").run()
    assert not at.exception, [e.value for e in at.exception]
    assert "Clusters found" in _metrics(at)
    at.session_state["fl.dataset_fingerprint"] = "other"
    at.run()
    assert any("stale — re-run" in w.value for w in at.warning)
