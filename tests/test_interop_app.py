"""AppTest: "Import results" on the Runs page, then Clusters, Performance, Explain, Export."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from app_support import APP, two_group_table
from streamlit.testing.v1 import AppTest

from fedcore.interop import Exchange, read_exchange
from fedcore.store import default_runs_root

pytestmark = pytest.mark.slow
IDS = [f"site{i}" for i in range(6)]
GROUPS = np.array([0, 0, 0, 1, 1, 1])


def record(with_data: bool) -> bytes:
    """Three rounds of a two-cluster run: updates separate the groups, accuracy known."""
    rng = np.random.default_rng(3)
    updates = np.where(GROUPS[:, None] == 1, 4.0, -4.0) + rng.normal(size=(6, 10))
    acc = np.array([[.5, .55, .6, .5, .45, .4], [.7, .7, .75, .6, .65, .7],
                    [.8, .85, .9, .75, .8, .95]])
    data = ("clients.csv", two_group_table().to_csv(index=False).encode()) if with_data \
        else None
    return Exchange(client_ids=IDS, assignments=np.stack([np.zeros(6, int), GROUPS, GROUPS]),
                    accuracy=acc, loss=1 - acc, representations={"updates": updates},
                    method="torch-ifca", params={"k": 2}, framework="pytorch",
                    true_groups=GROUPS, client_data=data,
                    data_options={"client_column": "client", "label_column": "label"}
                    if with_data else {}).to_npz_bytes()


def _ok(at):
    assert not at.exception, [e.value for e in at.exception]
    return at


def _import(at, tmp_path, name: str, content: bytes):
    # The Runs page only accepts folders inside the runs root (FEDLENS_RUNS, set by app_support).
    assert tmp_path.resolve().is_relative_to(default_runs_root().resolve())
    at.switch_page("pages/runs.py").run()
    at.text_input(key="w.runs.root").set_value(str(tmp_path)).run()
    at.file_uploader(key="runs.import.files").set_value((name, content, "application/x")).run()
    at.button(key="runs.import.go").click().run()
    return _ok(at)


def _under_runs_root(path: Path) -> Path:
    folder = default_runs_root() / path.name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    tmp = _under_runs_root(tmp_path_factory.mktemp("runs"))
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    _import(at, tmp, "torch_ifca.npz", record(with_data=True))
    return at, tmp


def test_import_saves_a_run_and_loads_it_with_its_data(imported):
    at, tmp = imported
    assert any("Imported torch-ifca" in s.value for s in at.success), [e.value for e in at.error]
    results = at.session_state["fl.results"]
    key = next(k for k in results if k.startswith("torch-ifca @ import-"))
    result = results[key]
    np.testing.assert_array_equal(result.assignments, GROUPS)
    ds = at.session_state["fl.dataset"]
    assert list(ds.client_ids) == IDS and result.dataset_fingerprint == ds.fingerprint()
    assert (tmp / key.split(" @ ")[1] / "exchange.npz").is_file()
    assert "torch-ifca" in set(at.dataframe[0].value["method"])  # listed among the runs


def test_clusters_page_shows_the_imported_run(imported):
    at, _ = imported
    at.switch_page("pages/clusters.py").run()
    _ok(at)
    assert {m.label: m.value for m in at.metric}["ARI"] == "1.000"  # its own clusters
    key = at.selectbox(key="cl.result").value
    at.radio(key=f"w.cl.{key}.view").set_value("what-if").run()
    _ok(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["ARI"] == "1.000"  # re-clustering its updates finds the two groups
    assert "Agreement with the method's own clusters: ARI 1.000." in " ".join(
        c.value for c in at.caption)


def test_performance_page_shows_the_imported_numbers(imported):
    at, _ = imported
    at.switch_page("pages/performance.py").run()
    _ok(at)
    summary = at.dataframe[0].value.set_index("method")
    row = summary.loc[next(k for k in summary.index if k.startswith("torch-ifca"))]
    assert row["mean_accuracy"] == pytest.approx(np.mean([.8, .85, .9, .75, .8, .95]), abs=1e-4)
    assert row["worst_accuracy"] == pytest.approx(0.75) and row["ari"] == pytest.approx(1.0)


def test_explain_uses_the_data_and_names_what_needs_a_model(imported):
    at, _ = imported
    at.switch_page("pages/explain.py").run()
    _ok(at)
    infos = " ".join(i.value for i in at.info)
    assert "no cluster models" in infos and "cluster-model SHAP" in infos
    assert any("fidelity" in m.label.lower() for m in at.metric)  # data-based ones ran


def test_export_bundle_marks_the_imported_run(imported, tmp_path):
    import zipfile

    from fedcore.ui.export_view import bundle_zip
    at, _ = imported
    results = {k: r for k, r in at.session_state["fl.results"].items() if "@ import-" in k}
    data = bundle_zip(results, at.session_state["fl.dataset"], {}, None)
    (tmp_path / "b.zip").write_bytes(data)
    with zipfile.ZipFile(tmp_path / "b.zip") as zf:
        script = zf.read("reproduce.sh").decode()
        assert "imported from torch_ifca.npz (pytorch)" in script
        assert " run " not in script.split("HERE=")[1]


def test_bad_record_is_one_error_and_nothing_changes(tmp_path, monkeypatch):
    monkeypatch.setenv("FEDLENS_RUNS", str(tmp_path))
    tmp_path = _under_runs_root(tmp_path / "imports")
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    before = at.session_state["fl.dataset"].fingerprint()
    bad = bytearray(record(with_data=False))
    ex = read_exchange(bytes(bad), "x.npz")
    broken = Exchange.__new__(Exchange)
    broken.__dict__.update(ex.__dict__)
    broken.accuracy = np.full((3, 6), 7.0)  # not fractions
    _import(at, tmp_path, "bad.npz", broken.to_npz_bytes())
    assert len(at.error) == 1 and "fractions in [0, 1]" in at.error[0].value
    assert not at.session_state["fl.results"]
    assert at.session_state["fl.dataset"].fingerprint() == before
    assert not any(p.name.startswith("import-") for p in tmp_path.iterdir())


def test_import_without_data_explains_what_is_missing(tmp_path, monkeypatch):
    # A fresh runs root: a new session restores the dataset saved by the tests above.
    monkeypatch.setenv("FEDLENS_RUNS", str(tmp_path))
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    _import(at, _under_runs_root(tmp_path / "imports"), "nodata.npz", record(with_data=False))
    at.switch_page("pages/explain.py").run()
    _ok(at)
    assert any("has no client data" in i.value for i in at.info)
    at.switch_page("pages/performance.py").run()
    _ok(at)
    assert any(k.startswith("torch-ifca") for k in at.dataframe[0].value["method"])


def test_imported_run_can_be_saved_again_from_the_runs_page(imported):
    at, tmp = imported
    at.switch_page("pages/runs.py").run()
    at.text_input(key="w.runs.root").set_value(str(tmp / "again")).run()
    at.form_submit_button[0].click().run()
    _ok(at)
    assert not at.error, [e.value for e in at.error]
    assert any("Saved" in s.value for s in at.success)
    saved = [p for p in (tmp / "again").iterdir() if (p / "summary.json").exists()]
    assert saved and all("imported" in (p / "spec.json").read_text() for p in saved)
