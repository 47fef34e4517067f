"""AppTest of the frame and the Data page: default dataset, uploads, bundled scenarios."""

from __future__ import annotations

import numpy as np
import pytest
from app_support import APP, chart_specs, plotly_array, two_group_table
from streamlit.testing.v1 import AppTest

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def _own_runs_root(tmp_path, monkeypatch):
    """Each test its own runs root: the dataset choice saved by one test is not restored
    by the next one's fresh session."""
    monkeypatch.setenv("FEDLENS_RUNS", str(tmp_path / "runs"))


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


def _load_digits(scenario: str, clients: int, groups: int, samples: int):
    """A fresh session that loads bundled digits under ``scenario`` from the Data form."""
    at = _fresh()
    at.selectbox(key="w.data.name").set_value("digits")
    at.selectbox(key="w.data.scenario").set_value(scenario).run()
    at.number_input(key="w.data.clients").set_value(clients)
    at.number_input(key="w.data.groups").set_value(groups)
    at.number_input(key="w.data.samples").set_value(samples)
    at.form_submit_button[0].click().run()
    _no_exception(at)
    return at


def test_bundled_dataset_with_a_scenario():
    at = _load_digits("label-swap", clients=6, groups=2, samples=30)
    ds = at.session_state["fl.dataset"]
    assert ds.n_clients == 6
    assert sorted(set(ds.true_groups.tolist())) == [0, 1]
    assert at.session_state["fl.dataset_source"]["scenario"] == "label-swap"


def test_invalid_scenario_settings_keep_the_dataset():
    at = _fresh()
    before = at.session_state["fl.dataset_fingerprint"]
    at.selectbox(key="w.data.scenario").set_value("iid").run()
    at.number_input(key="w.data.clients").set_value(3)
    at.number_input(key="w.data.groups").set_value(5)  # more groups than clients
    at.form_submit_button[0].click().run()
    _no_exception(at)
    assert at.error, "expected an error banner"
    assert at.session_state["fl.dataset_fingerprint"] == before


def test_natural_scenario_shows_only_what_it_uses():
    at = _fresh()
    assert at.selectbox(key="w.data.scenario").value == "natural"
    keys = {w.key for w in at.number_input}
    assert "w.data.seed" in keys
    assert not keys & {"w.data.clients", "w.data.groups", "w.data.samples"}
    assert not [k for k in keys if k and k.startswith("w.data.sc.") and ".natural." not in k]
    at.selectbox(key="w.data.scenario").set_value("dirichlet").run()
    keys = {w.key for w in at.number_input}
    assert {"w.data.clients", "w.data.groups", "w.data.samples"} <= keys
    assert all(".dirichlet." in k for k in keys if k and k.startswith("w.data.sc."))


def test_feature_summary_is_in_original_units_with_missing_values():
    at = _fresh()
    table = next(d.value for d in at.dataframe if "Missing values" in d.value.columns)
    row = table.set_index("Client").loc["Cleveland"]
    assert 40 < row["age mean"] < 70  # years, not a z-score
    missing = table.set_index("Client")["Missing values"]
    assert missing.loc["Switzerland"] > 0  # Switzerland reports no cholesterol
    assert not any(c.endswith("_missing mean") for c in table.columns)


def test_image_data_shows_example_images_per_group():
    at = _load_digits("rotation", clients=4, groups=2, samples=20)
    captions = [c.value for c in at.caption]
    assert "True group 0" in captions and "True group 1" in captions
    kinds = {type(e).__name__ for e in at.main} | {e.type for e in at.main if hasattr(e, "type")}
    assert {"imgs", "image"} & kinds or any("img" in str(k).lower() for k in kinds), kinds


def test_dataset_choice_and_finished_runs_survive_a_reload(monkeypatch):
    """A new session (browser reload, server restart) restores the dataset and the runs."""
    from app_support import fake_result

    at = _fresh()
    at.selectbox(key="w.data.name").set_value("digits")
    at.selectbox(key="w.data.scenario").set_value("label-swap").run()
    at.number_input(key="w.data.clients").set_value(6)
    at.number_input(key="w.data.groups").set_value(2)
    at.number_input(key="w.data.samples").set_value(30)
    at.form_submit_button[0].click().run()
    fp = at.session_state["fl.dataset_fingerprint"]
    # A finished run on that dataset, saved as the Simulate page saves it.
    result = fake_result(n_clients=6)
    result.client_ids = list(at.session_state["fl.dataset"].client_ids)
    result.client_metrics["client"] = result.client_ids
    result.dataset_fingerprint = fp
    from fedcore.ui.run_keys import run_id
    key = run_id(result)
    _save(result, key, at)

    again = _fresh()
    _no_exception(again)
    assert again.session_state["fl.dataset_fingerprint"] == fp
    assert again.selectbox(key="w.data.name").value == "digits"
    assert again.selectbox(key="w.data.scenario").value == "label-swap"
    assert list(again.session_state["fl.results"]) == [key]
    np.testing.assert_array_equal(again.session_state["fl.results"][key].assignments,
                                  result.assignments)


def _save(result, key, at):
    """persist.autosave's writing, with the session's dataset source."""
    from fedcore.runner import ExperimentSpec, summary_dict
    from fedcore.store import save_run
    from fedcore.ui import persist

    src = at.session_state["fl.dataset_source"]
    spec = ExperimentSpec(method="fedavg", data=src["name"], scenario=src["scenario"],
                          n_clients=src["n_clients"], n_groups=src["n_groups"],
                          samples_per_client=src["samples_per_client"], data_seed=src["seed"])
    summary = summary_dict(spec, at.session_state["fl.dataset"], result)
    summary["ui"] = {"run_key": key, "oracle_k": False}
    save_run(persist.root() / persist.UI_RUNS / key, spec.to_dict(), summary, result)
