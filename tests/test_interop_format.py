"""Exchange format: writing, reading both layouts, validation (one line, nothing written)."""

import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fedcore.errors import DataError
from fedcore.interop import (
    Exchange,
    ExchangeRecorder,
    import_exchange,
    is_imported,
    load_imported_run,
    read_exchange,
)

ROOT = Path(__file__).resolve().parents[1]
IDS = ["a", "b", "c", "d"]


def make(**over) -> dict:
    rng = np.random.default_rng(0)
    fields = dict(client_ids=IDS, assignments=np.array([[0, 0, 1, 1], [0, 0, 1, 1]]),
                  accuracy=np.array([[0.5, 0.6, 0.7, 0.8], [0.6, 0.7, 0.8, 0.9]]),
                  loss=None, representations={"updates": rng.normal(size=(4, 6))},
                  method="m", params={"k": 2})
    fields.update(over)
    return fields


def npz_bytes(arrays: dict, manifest: dict | None = None) -> bytes:
    arrays = dict(arrays)
    if manifest is not False:
        arrays["manifest"] = np.array(json.dumps(manifest or {
            "format": "fedlens-exchange", "format_version": 1, "method": "m", "params": {}}))
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


GOOD = {"client_ids": np.array(IDS), "assignments": np.array([[0, 0, 1, 1]]),
        "accuracy": np.array([[0.5, 0.6, 0.7, 0.8]]), "updates": np.ones((4, 3))}


def test_single_file_round_trip(tmp_path):
    ex = Exchange(**make(true_groups=[0, 0, 1, 1], num_examples=[10, 20, 30, 40]))
    path = ex.save(tmp_path / "x.npz")
    back = read_exchange(path)
    assert back.client_ids == IDS and back.params == {"k": 2} and back.method == "m"
    np.testing.assert_array_equal(back.assignments, ex.assignments)
    np.testing.assert_allclose(back.representations["updates"], ex.representations["updates"])
    np.testing.assert_array_equal(back.num_examples, [10, 20, 30, 40])
    # np.load(allow_pickle=False) reads it: nothing in it needs pickling
    with np.load(path, allow_pickle=False) as npz:
        assert json.loads(str(npz["manifest"]))["format_version"] == 1


def test_directory_form_with_metrics_table_and_client_data(tmp_path):
    rng = np.random.default_rng(1)
    rows = [{"site": c, "x1": rng.normal() + (3 if c in "cd" else 0), "x2": rng.normal(),
             "label": int(i % 2)} for c in IDS for i in range(12)]
    data = pd.DataFrame(rows).to_csv(index=False).encode()
    d = tmp_path / "rec"
    d.mkdir()
    (d / "manifest.json").write_text(json.dumps({
        "format": "fedlens-exchange", "format_version": 1, "method": "torch-cfl",
        "params": {"eps": 0.1}, "framework": "pytorch",
        "client_data": {"file": "clients.csv", "client_column": "site",
                        "label_column": "label"}}))
    # clients deliberately in another order than the data: FedLens aligns them
    order = ["d", "c", "b", "a"]
    np.savez(d / "arrays.npz", client_ids=np.array(order),
             assignments=np.array([[1, 1, 0, 0], [1, 1, 0, 0]]),
             weights=rng.normal(size=(2, 4, 5)), true_groups=np.array([1, 1, 0, 0]))
    pd.DataFrame({"round": [1, 1, 1, 1, 2, 2, 2], "client": ["a", "b", "c", "d", "a", "b", "c"],
                  "accuracy": [.5, .5, .6, .6, .7, .8, .9], "loss": [1, 1, 1, 1, .5, .4, .3]}
                 ).to_csv(d / "metrics.csv", index=False)
    (d / "clients.csv").write_bytes(data)
    out, result, ds = import_exchange(d, tmp_path / "run")
    assert ds is not None and list(ds.client_ids) == result.client_ids == IDS
    cm = result.client_metrics.set_index("client")
    assert cm.loc["d", "accuracy"] == 0.6  # not evaluated in round 2: last reported value
    assert cm.loc["a", "cluster"] == 0 and cm.loc["d", "cluster"] == 1
    assert {"weights", "data_summary"} <= set(result.representations)
    assert result.dataset_fingerprint == ds.fingerprint()
    assert is_imported(result) and result.models == {}
    assert list(result.rounds["n_evaluated"]) == [4, 3]
    again, ds2, _ = load_imported_run(out)
    assert ds2.fingerprint() == ds.fingerprint()
    np.testing.assert_array_equal(again.assignments, result.assignments)


def test_per_round_representation_keeps_latest_vector():
    reps = np.full((3, 4, 2), np.nan, np.float32)
    reps[0] = 1.0
    reps[2, :2] = 5.0
    ex = Exchange(**make(assignments=np.zeros((3, 4), int), accuracy=np.full((3, 4), .5),
                         representations={"updates": reps}))
    np.testing.assert_array_equal(ex.latest("updates")[:, 0], [5, 5, 1, 1])


def test_recorder_dicts_and_subsets():
    rec = ExchangeRecorder(IDS, method="flower", keep="all")
    rec.record_round({c: 0 for c in IDS}, {"a": 0.5, "b": 0.5},
                     updates={"a": np.ones(3), "b": np.ones(3)})
    rec.record_round([0, 0, 1, 1], [0.6] * 4, updates=np.zeros((2, 3)), clients=["c", "d"])
    ex = rec.to_exchange()
    assert ex.representations["updates"].shape == (2, 4, 3)
    np.testing.assert_array_equal(ex.latest("updates")[:, 0], [1, 1, 0, 0])
    last = ExchangeRecorder(IDS)
    last.record_round([0] * 4, [0.5] * 4, updates=np.ones((2, 3)), clients=[0, 1])
    with pytest.raises(DataError, match="client 'c' has no 'updates'"):
        last.to_exchange()


BAD = [
    ("shape", dict(GOOD, accuracy=np.ones((1, 3))), "'accuracy' has shape"),
    ("rep shape", dict(GOOD, updates=np.ones((3, 3))), "'updates' has shape"),
    ("rounds", dict(GOOD, updates=np.ones((2, 4, 3))), "'updates' has 2 rounds"),
    ("nan", dict(GOOD, updates=np.array([[1, np.nan, 1]] * 4)), "contains NaN"),
    ("inf", dict(GOOD, accuracy=np.array([[0.5, np.inf, 0.5, 0.5]])), "contains inf"),
    ("acc range", dict(GOOD, accuracy=np.array([[50, 60, 70, 80]])), "fractions in"),
    ("dup ids", dict(GOOD, client_ids=np.array(["a", "a", "b", "c"])), "not unique"),
    ("unknown", dict(GOOD, udpates=np.ones((4, 3))), "unknown array"),
    ("no rep", {k: v for k, v in GOOD.items() if k != "updates"}, "no client representation"),
    ("neg cluster", dict(GOOD, assignments=np.array([[0, -1, 0, 0]])), "below 0"),
    ("pickle", dict(GOOD, client_ids=np.array(IDS, dtype=object)), "pickled"),
]


@pytest.mark.parametrize("case,arrays,message", BAD, ids=[b[0] for b in BAD])
def test_bad_records_are_one_clear_line(tmp_path, case, arrays, message):
    data = npz_bytes(arrays) if case != "pickle" else _pickled(arrays)
    with pytest.raises(DataError, match=message) as info:
        read_exchange(data, "bad.npz")
    assert "\n" not in str(info.value)


def _pickled(arrays):
    arrays = dict(arrays, manifest=np.array(json.dumps(
        {"format": "fedlens-exchange", "format_version": 1})))
    buf = io.BytesIO()
    np.savez(buf, **arrays)  # object arrays are pickled by numpy
    return buf.getvalue()


def test_manifest_problems():
    with pytest.raises(DataError, match="newer FedLens"):
        read_exchange(npz_bytes(GOOD, {"format": "fedlens-exchange", "format_version": 9}),
                      "x.npz")
    with pytest.raises(DataError, match="no 'manifest'"):
        read_exchange(npz_bytes(GOOD, False), "x.npz")
    with pytest.raises(DataError, match="not an NPZ"):
        read_exchange(b"not a zip", "x.npz")
    with pytest.raises(DataError, match="the limit is"):
        read_exchange(npz_bytes(GOOD), "x.npz", max_bytes=100)


def test_mismatched_client_data_ids(tmp_path):
    data = pd.DataFrame({"client": ["a", "b", "x", "y"] * 3, "f": range(12),
                         "label": [0, 1] * 6}).to_csv(index=False).encode()
    ex = Exchange(**make(client_data=("d.csv", data)))
    with pytest.raises(DataError, match="do not match 'client_ids'.*not in the data: c, d"):
        import_exchange(io.BytesIO(ex.to_npz_bytes()), tmp_path / "run", filename="x.npz")
    assert not (tmp_path / "run").exists()


def test_cli_import_bad_file_exits_2_and_writes_nothing(tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(npz_bytes(dict(GOOD, accuracy=np.ones((1, 3)))))
    proc = subprocess.run([sys.executable, "-m", "fedcore", "import", str(bad), "--out",
                           str(tmp_path / "run")], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "'accuracy' has shape" in proc.stderr
    assert not (tmp_path / "run").exists()
