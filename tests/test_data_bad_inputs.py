"""Robustness corpus: every bad upload gives a DataError with a specific message."""

from __future__ import annotations

import io
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from fedcore.data import load_upload, read_table_columns
from fedcore.errors import DataError

BAD_DIR = Path(__file__).parent / "data" / "bad"
ODD_DIR = Path(__file__).parent / "data" / "odd"
sys.path.insert(0, str(BAD_DIR.parent))
from make_bad_corpus import EXPECTED, ODD, corpus, odd_files  # noqa: E402


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_file_gives_specific_error(name):
    with pytest.raises(DataError) as info:
        load_upload(BAD_DIR / name)
    message = str(info.value)
    assert EXPECTED[name] in message
    assert "\n" not in message
    assert name in message or name.startswith("npz_client_zero")  # names the file
    for bare in ("IndexError", "TypeError", "KeyError", "ValueError", "OverflowError"):
        assert bare not in message


@pytest.mark.parametrize("name", sorted(ODD))
def test_odd_but_valid_file_is_read_exactly(name):
    from fedcore.data import read_upload

    expected = ODD[name]
    pool, enc, _ = read_upload(ODD_DIR / name)
    assert sorted(set(pool.client_column)) == expected["clients"]
    assert len(pool.y) == expected["rows"]
    if "features" in expected:
        assert pool.feature_names == expected["features"]
    if "n_features" in expected:
        assert pool.X.shape[1] == expected["n_features"]
    if "note" in expected:
        assert any(expected["note"] in n for n in enc.notes), enc.notes
    if "x_sum" in expected:
        assert float(pool.X.sum()) == pytest.approx(expected["x_sum"])


@pytest.mark.parametrize("folder, generate", [(BAD_DIR, lambda: corpus(bombs=False)),
                                              (ODD_DIR, odd_files)])
def test_committed_corpus_matches_generator(folder, generate):
    from corpus_cases import COMMITTED_BOMBS

    generated = generate()
    on_disk = {p.name for p in folder.iterdir() if p.is_file()} - set(COMMITTED_BOMBS)
    assert on_disk == set(generated)
    for name, data in generated.items():
        assert len(data) < 80_000, name
        if name not in LEGACY_NPZ:  # np.savez members carry the writing time
            assert (folder / name).read_bytes() == data, name


LEGACY_NPZ = {"npz_object.npz", "npz_missing_client.npz", "npz_length_mismatch.npz",
              "npz_unknown_layout.npz", "npz_client_zero_samples.npz"}


def test_at_least_60_new_corpus_files():
    from corpus_cases import NEW_EXPECTED

    assert len(NEW_EXPECTED) + len(ODD) >= 60


def test_corpus_errors_also_from_bytes():
    data = (BAD_DIR / "junk_numeric.csv").read_bytes()
    with pytest.raises(DataError, match="data row 7 holds 'abc'"):
        load_upload(data, filename="junk_numeric.csv")


def test_zip_bomb_by_ratio_rejected_before_reading(tmp_path):
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a.csv", b"client,x,label\n" + b"0" * (3 * 2**20))
    with pytest.raises(DataError, match=r"member 'a.csv' expands \d+ times \(limit 100\)"):
        load_upload(path)


def test_more_than_10000_clients(tmp_path):
    rows = ["client,x,label"] + [f"c{i},{i},{i % 2}" for i in range(10_001) for _ in (0, 1)]
    path = tmp_path / "many.csv"
    path.write_text("\n".join(rows))
    with pytest.raises(DataError, match="has 10,001 clients; the limit is 10,000"):
        load_upload(path)


def test_client_limit_is_configurable(tmp_path):
    path = tmp_path / "four.csv"
    path.write_text("client,x,label\n" + "".join(f"{c},{i},{i % 2}\n" for c in "ABCD"
                                                 for i in range(3)))
    with pytest.raises(DataError, match="has 4 clients; the limit is 3"):
        load_upload(path, max_clients=3)
    assert load_upload(path, max_clients=4).n_clients == 4


def test_oversize_file_rejected_before_parsing(tmp_path):
    path = tmp_path / "huge.csv"
    with open(path, "wb") as fh:  # sparse: no disk space used, never parsed
        fh.truncate(200 * 2**20 + 1)
    with pytest.raises(DataError, match=r"is 200.0 MB; the limit is 200.0 MB"):
        load_upload(path)


@pytest.mark.parametrize("kind", ["bytes", "file"])
def test_oversize_upload_bytes(kind):
    data = b"client,x,label\n" + b"A,1,0\n" * 1000
    obj = data if kind == "bytes" else io.BytesIO(data)
    with pytest.raises(DataError, match="the limit is 1000 bytes"):
        load_upload(obj, filename="up.csv", max_bytes=1000)


def test_missing_file():
    with pytest.raises(DataError, match="file not found"):
        load_upload("/nonexistent/dir/data.csv")


def test_explicit_column_not_found_lists_available(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("site,age,label\nA,1,0\nA,2,1\n")
    with pytest.raises(DataError, match="client column 'hospital' not found in 't.csv'; "
                                        "available columns: 'site', 'age', 'label'"):
        load_upload(path, client_column="hospital")


def test_same_client_and_label_column(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("site,age,label\nA,1,0\nA,2,1\n")
    with pytest.raises(DataError, match="are both 'site'"):
        load_upload(path, client_column="site", label_column="site")


def test_unexpected_parser_failure_becomes_data_error(tmp_path, monkeypatch):
    import fedcore.data.upload as upload

    def boom(*args, **kwargs):
        raise KeyError("surprise")

    monkeypatch.setattr(upload, "encode_frame", boom)
    path = tmp_path / "t.csv"
    path.write_text("client,x,label\nA,1,0\nA,2,1\n")
    with pytest.raises(DataError, match="file 't.csv' could not be read: KeyError"):
        load_upload(path)


def test_zip_traversal_never_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DataError):
        load_upload(BAD_DIR / "zip_traversal.zip")
    assert not (tmp_path.parent / "evil.csv").exists()
    assert list(tmp_path.iterdir()) == []


def test_npz_with_object_array_is_never_unpickled(tmp_path, monkeypatch):
    import pickle

    def forbidden(*args, **kwargs):
        raise AssertionError("unpickling attempted")

    monkeypatch.setattr(pickle, "loads", forbidden)
    monkeypatch.setattr(pickle, "load", forbidden)
    with pytest.raises(DataError, match="Python objects"):
        load_upload(BAD_DIR / "npz_object.npz")


def test_columns_of_bad_files():
    with pytest.raises(DataError, match="duplicated column name"):
        read_table_columns(BAD_DIR / "duplicate_columns.csv")
    with pytest.raises(DataError, match="unsafe path"):
        read_table_columns(BAD_DIR / "zip_traversal.zip")
    assert read_table_columns(BAD_DIR / "npz_missing_client.npz") == []


def test_nan_features_are_imputed_not_rejected(tmp_path):
    path = tmp_path / "nan.csv"
    path.write_text("client,x,z,label\nA,1,,0\nA,,5,1\nA,3,7,0\nB,4,1,1\nB,8,3,0\n")
    data = load_upload(path)
    notes = " ".join(data.provenance["notes"])
    assert "imputed 2 missing values with column medians (x: 1, z: 1)" in notes
    assert all(np.isfinite(x).all() for x in data.x_train + data.x_test)


def test_npz_nan_imputed_inf_rejected(tmp_path):
    x = np.arange(12.0).reshape(6, 2)
    x[1, 0] = np.nan
    args = dict(y=np.array([0, 1] * 3), client=np.array(list("aaabbb")))
    np.savez(tmp_path / "nan.npz", x=x, **args)
    fed = load_upload(tmp_path / "nan.npz")
    assert any("imputed 1 missing values" in n for n in fed.provenance["notes"])
    x[2, 1] = np.inf
    np.savez(tmp_path / "inf.npz", x=x, **args)
    with pytest.raises(DataError, match="column 'x1' in 'inf.npz' has an infinite value"):
        load_upload(tmp_path / "inf.npz")


def test_parquet_memory_budget(tmp_path, monkeypatch):
    import pandas as pd

    import fedcore.data.limits as limits

    path = tmp_path / "zeros.parquet"
    pd.DataFrame({"client": ["a", "b"] * 5000, "x": 0.0, "label": [0, 1] * 5000}).to_parquet(
        path)
    monkeypatch.setattr(limits, "MEMORY_BUDGET", 10_000)
    with pytest.raises(DataError, match=r"'zeros.parquet' would need about 1.5 MB of memory "
                                        r"to read \(the Parquet table in memory\); the reading "
                                        r"budget is 9.8 KB"):
        load_upload(path)
