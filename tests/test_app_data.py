"""AppTest of the frame and the Data page: default dataset, uploads, bundled scenarios."""

from __future__ import annotations

import pytest
from app_support import APP, chart_specs, plotly_array, two_group_table
from streamlit.testing.v1 import AppTest

pytestmark = pytest.mark.slow


def _fresh() -> AppTest:
    return AppTest.from_file(APP, default_timeout=60).run()


def _no_exception(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def _figure(at: AppTest, name: str) -> dict:
    for spec in chart_specs(at):
        if spec.get("layout", {}).get("meta", {}).get("name") == name:
            return spec
    raise AssertionError(f"no {name} figure; have "
                         f"{[s.get('layout', {}).get('meta') for s in chart_specs(at)]}")


def test_first_visit_loads_heart_with_natural_clients():
    at = _fresh()
    _no_exception(at)
    assert not at.error, [e.value for e in at.error]
    ds = at.session_state["fl.dataset"]
    assert ds.client_ids == ["Cleveland", "Hungary", "Switzerland", "VA Long Beach"]
    assert {m.label: m.value for m in at.metric}["Clients"] == "4"
    heat = _figure(at, "label_distribution_heatmap")
    z = plotly_array(heat["data"][0]["z"])
    assert z.size == 4 * ds.n_classes  # clients x labels


def test_bad_upload_shows_error_and_keeps_the_loaded_dataset():
    at = _fresh()
    before = at.session_state["fl.dataset_fingerprint"]
    at.file_uploader[0].set_value(("bad.csv", b"a,b\n1,2\n3,oops\n", "text/csv")).run()
    at.button(key="data.upload.load").click().run()
    _no_exception(at)
    assert any("bad.csv" in e.value for e in at.error), [e.value for e in at.error]
    assert at.session_state["fl.dataset_fingerprint"] == before
    assert at.session_state["fl.dataset"].n_clients == 4


def test_unreadable_binary_upload_is_an_error_not_a_traceback():
    at = _fresh()
    before = at.session_state["fl.dataset_fingerprint"]
    at.file_uploader[0].set_value(("broken.parquet", b"\x00\x01not parquet", "application/x"))
    at.run()
    _no_exception(at)
    assert any("broken.parquet" in e.value for e in at.error), [e.value for e in at.error]
    assert at.session_state["fl.dataset_fingerprint"] == before


def test_good_upload_replaces_the_dataset_and_picks_columns():
    at = _fresh()
    before = at.session_state["fl.dataset_fingerprint"]
    csv = two_group_table().to_csv(index=False).encode()
    at.file_uploader[0].set_value(("groups.csv", csv, "text/csv")).run()
    assert at.selectbox(key="data.upload.client").value == "client"
    assert at.selectbox(key="data.upload.label").value == "label"
    at.button(key="data.upload.load").click().run()
    _no_exception(at)
    ds = at.session_state["fl.dataset"]
    assert ds.n_clients == 6 and ds.n_features == 3
    assert at.session_state["fl.dataset_fingerprint"] != before
    assert {m.label: m.value for m in at.metric}["Clients"] == "6"


def test_bundled_dataset_with_a_scenario():
    at = _fresh()
    at.selectbox(key="w.data.name").set_value("digits")
    at.selectbox(key="w.data.scenario").set_value("label-swap")
    at.number_input(key="w.data.clients").set_value(6)
    at.number_input(key="w.data.groups").set_value(2)
    at.number_input(key="w.data.samples").set_value(30)
    at.form_submit_button[0].click().run()
    _no_exception(at)
    ds = at.session_state["fl.dataset"]
    assert ds.n_clients == 6
    assert sorted(set(ds.true_groups.tolist())) == [0, 1]
    assert at.session_state["fl.dataset_source"]["scenario"] == "label-swap"


def test_invalid_scenario_settings_keep_the_dataset():
    at = _fresh()
    before = at.session_state["fl.dataset_fingerprint"]
    at.selectbox(key="w.data.scenario").set_value("iid")
    at.number_input(key="w.data.clients").set_value(3)
    at.number_input(key="w.data.groups").set_value(5)  # more groups than clients
    at.form_submit_button[0].click().run()
    _no_exception(at)
    assert at.error, "expected an error banner"
    assert at.session_state["fl.dataset_fingerprint"] == before
