"""Readers on good files, encoding rules and resolve_dataset (bundled data: test_data_bundled)."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pandas as pd
import pytest

from fedcore.data import (
    load_bundled,
    load_upload,
    read_table_columns,
    read_upload,
    resolve_dataset,
)
from fedcore.errors import ConfigError, DataError


def _frame(n_per_client=10, clients=("A", "B", "C"), seed=0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = n_per_client * len(clients)
    return pd.DataFrame({
        "hospital": np.repeat(clients, n_per_client),
        "age": rng.integers(20, 80, n),
        "chol": rng.normal(200, 30, n).round(1),
        "cp": rng.choice(["typical angina", "asymptomatic"], n),
        "smoker": rng.choice(["TRUE", "FALSE"], n),
        "target": np.tile(["no", "yes"], n // 2),
    })


def _all_rows(data):
    return sum(len(y) for y in data.y_train) + sum(len(y) for y in data.y_test)


def test_csv_auto_detects_columns_and_encodes(tmp_path):
    path = tmp_path / "clinic.csv"
    _frame().to_csv(path, index=False)
    data = load_upload(path)
    assert data.client_ids == ["A", "B", "C"]
    assert data.label_names == ["no", "yes"]
    assert data.feature_names == ["age", "chol", "cp=asymptomatic", "cp=typical angina",
                                  "smoker"]
    assert _all_rows(data) == 30
    assert data.train_sizes().tolist() == [8, 8, 8] and data.test_sizes().tolist() == [2, 2, 2]
    # stratified: each client's test part has one of each label
    assert all(sorted(y.tolist()) == [0, 1] for y in data.y_test)
    assert data.x_train[0].dtype == np.float32 and data.y_train[0].dtype == np.int64
    std = data.provenance["standardisation"]
    assert len(std["mean"]) == 5
    pooled = np.concatenate(data.x_train)
    np.testing.assert_allclose(pooled.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(pooled.std(axis=0), 1, atol=1e-4)


def test_csv_raw_values_are_recoverable_from_standardisation(tmp_path):
    frame = _frame()
    path = tmp_path / "clinic.csv"
    frame.to_csv(path, index=False)
    data = load_upload(path)
    std = data.provenance["standardisation"]
    raw = np.concatenate(data.x_train + data.x_test) * np.array(std["std"]) + np.array(
        std["mean"])
    assert sorted(np.round(raw[:, 0]).astype(int)) == sorted(frame["age"].tolist())


def test_explicit_columns_and_seed(tmp_path):
    path = tmp_path / "t.csv"
    frame = _frame().rename(columns={"hospital": "centre_name", "target": "outcome_x"})
    frame.to_csv(path, index=False)
    a = load_upload(path, client_column="centre_name", label_column="outcome_x", seed=1)
    b = load_upload(path, client_column="centre_name", label_column="outcome_x", seed=1)
    c = load_upload(path, client_column="centre_name", label_column="outcome_x", seed=2)
    assert a.fingerprint() == b.fingerprint() != c.fingerprint()
    assert a.provenance["seed"] == 1 and a.provenance["format"] == "csv"


@pytest.mark.parametrize("sep,name", [(";", "semi.csv"), ("\t", "tabs.tsv"), ("|", "p.txt")])
def test_other_delimiters(tmp_path, sep, name):
    path = tmp_path / name
    _frame().to_csv(path, index=False, sep=sep)
    data = load_upload(path)
    assert data.n_clients == 3 and data.n_features == 5
    if sep != ",":
        assert any("separated" in n for n in data.provenance["notes"])


def test_semicolon_with_decimal_commas(tmp_path):
    path = tmp_path / "eu.csv"
    path.write_text("site;temp;label\nA;1,5;0\nA;2,25;1\nB;-3,0;0\nB;4,5;1\n")
    pool, enc, _ = read_upload(path)
    assert sorted(pool.X[:, 0].tolist()) == [-3.0, 1.5, 2.25, 4.5]
    assert any("decimal commas" in n for n in enc.notes)


def test_latin1_is_accepted_with_note(tmp_path):
    path = tmp_path / "latin.csv"
    text = "site,x,label\nZürich,1,0\nZürich,2,1\nGenève,3,0\nGenève,4,1\n"
    path.write_bytes(text.encode("latin-1"))
    data = load_upload(path)
    assert data.client_ids == ["Genève", "Zürich"]
    assert any("read as Latin-1" in n for n in data.provenance["notes"])


def test_utf16_and_bom(tmp_path):
    text = "site,x,label\nA,1,0\nA,2,1\nB,3,0\nB,4,1\n"
    (tmp_path / "u16.csv").write_bytes(text.encode("utf-16"))
    (tmp_path / "bom.csv").write_bytes(b"\xef\xbb\xbf" + text.encode())
    assert load_upload(tmp_path / "u16.csv").client_ids == ["A", "B"]
    assert load_upload(tmp_path / "bom.csv").feature_names == ["x"]


def test_missing_labels_and_clients_dropped_and_categories(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("client,color,flag,label\nA,red,true,0\nA,,False,1\nA,blue,,0\n"
                    "A,red,TRUE,\nB,blue,false,1\nB,red,true,0\n,red,true,1\n")
    data = load_upload(path)
    notes = " ".join(data.provenance["notes"])
    assert "dropped 1 rows without a label" in notes
    assert "dropped 1 rows without a client id" in notes
    assert data.feature_names == ["color=blue", "color=red", "color=missing", "flag"]
    assert _all_rows(data) == 5


def test_pandas_index_column_dropped(tmp_path):
    path = tmp_path / "t.csv"
    _frame().to_csv(path)  # index=True: a leading unnamed 0..n-1 column
    data = load_upload(path)
    assert data.feature_names[0] == "age"
    assert any("dropped column 'Unnamed: 0'" in n for n in data.provenance["notes"])


def test_identifier_text_column_dropped(tmp_path):
    rows = ["client,patient,x,label"] + [f"{'AB'[i % 2]},p{i},{i},{i % 2}" for i in range(60)]
    path = tmp_path / "t.csv"
    path.write_text("\n".join(rows))
    data = load_upload(path)
    assert data.feature_names == ["x"]
    assert any("dropped text column 'patient'" in n for n in data.provenance["notes"])


def test_numeric_labels_sorted_numerically(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("client,x,label\n" + "".join(f"{c},{i},{v}\n" for c in "AB"
                                                 for i, v in enumerate([10, 2, 1, 2, 10, 1])))
    data = load_upload(path)
    assert data.label_names == ["1", "2", "10"]


def test_true_group_column(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("client,true_group,x,label\n" + "".join(
        f"{c},{g},{i},{i % 2}\n" for c, g in [("A", "east"), ("B", "west"), ("C", "east")]
        for i in range(4)))
    data = load_upload(path)
    assert data.true_groups.tolist() == [0, 1, 0]
    assert data.feature_names == ["x"]


def test_parquet(tmp_path):
    path = tmp_path / "t.parquet"
    frame = _frame()
    frame["smoker"] = frame["smoker"] == "TRUE"
    frame.to_parquet(path)
    data = load_upload(path)
    assert data.n_clients == 3 and "smoker" in data.feature_names
    assert read_table_columns(path) == list(frame.columns)


def _zip_bytes(members: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in members.items():
            zf.writestr(name, text)
    return buf.getvalue()


def test_zip_of_per_client_csv(tmp_path):
    body = "".join(f"{i},{i * 2},{i % 2}\n" for i in range(6))
    data = _zip_bytes({"sites/north.csv": "a,b,label\n" + body,
                       "sites/south.csv": "a,b,label\n" + body[:30],
                       "__MACOSX/sites/._north.csv": "junk", "notes.md": "# hi"})
    (tmp_path / "clients.zip").write_bytes(data)
    fed = load_upload(tmp_path / "clients.zip")
    assert fed.client_ids == ["north", "south"]
    assert fed.feature_names == ["a", "b"]
    assert any("skipped 1 non-CSV" in n for n in fed.provenance["notes"])
    assert read_table_columns(data, filename="clients.zip") == ["a", "b", "label"]


def test_zip_error_names_member_row(tmp_path):
    good = "x,label\n" + "".join(f"{i},{i % 2}\n" for i in range(20))
    bad = "x,label\n" + "".join(f"{i},{i % 2}\n" for i in range(9)) + "oops,1\n" + good[8:]
    (tmp_path / "z.zip").write_bytes(_zip_bytes({"a.csv": good, "b.csv": bad}))
    with pytest.raises(DataError, match="is numeric but file 'b.csv' data row 10 holds 'oops'"):
        load_upload(tmp_path / "z.zip")


def test_npz_stacked_and_per_client(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(12, 3))
    np.savez(tmp_path / "s.npz", x=x, y=np.tile([0, 1, 2], 4),
             client=np.repeat(["a", "b", "c"], 4), feature_names=np.array(["p", "q", "r"]))
    fed = load_upload(tmp_path / "s.npz")
    assert fed.client_ids == ["a", "b", "c"] and fed.feature_names == ["p", "q", "r"]
    assert fed.label_names == ["0", "1", "2"]
    np.savez(tmp_path / "p.npz", x_a=x[:5], y_a=np.array(["cat", "dog"] * 2 + ["cat"]),
             x_b=x[5:], y_b=np.array(["dog"] * 7))
    fed = load_upload(tmp_path / "p.npz")
    assert fed.client_ids == ["a", "b"] and fed.label_names == ["cat", "dog"]
    assert fed.train_sizes().sum() + fed.test_sizes().sum() == 12


def test_npz_uint8_images_not_standardised(tmp_path):
    rng = np.random.default_rng(1)
    imgs = rng.integers(0, 256, size=(8, 6, 6), dtype=np.uint8)
    np.savez(tmp_path / "img.npz", x=imgs, y=np.tile([0, 1], 4), client=np.repeat([1, 2], 4))
    fed = load_upload(tmp_path / "img.npz")
    assert fed.input_shape == (6, 6, 1) and fed.n_features == 36
    assert fed.provenance["standardisation"] is None
    pixels = np.concatenate(fed.x_train + fed.x_test)
    assert pixels.min() >= 0 and pixels.max() <= 1
    assert sorted((pixels * 255).round().astype(int).ravel().tolist()) == sorted(
        imgs.astype(int).ravel().tolist())


def test_leaf_json(tmp_path):
    doc = {"users": ["f1", "f2"], "num_samples": [3, 4],
           "user_data": {"f1": {"x": [[0.1] * 64, [0.2] * 64, [0.3] * 64], "y": [1, 2, 1]},
                         "f2": {"x": [[0.5] * 64] * 4, "y": [2, 2, 1, 7]}}}
    (tmp_path / "leaf.json").write_text(json.dumps(doc))
    fed = load_upload(tmp_path / "leaf.json")
    assert fed.client_ids == ["f1", "f2"] and fed.label_names == ["1", "2", "7"]
    assert fed.input_shape == (8, 8, 1)
    assert read_table_columns(tmp_path / "leaf.json") == []


def test_bytes_and_file_like_inputs(tmp_path):
    buf = io.BytesIO()
    _frame().to_csv(buf, index=False)
    raw = buf.getvalue()
    a = load_upload(raw, filename="x.csv")
    buf.name = "x.csv"
    b = load_upload(buf)
    assert a.fingerprint() == b.fingerprint()
    assert read_table_columns(raw, "x.csv") == ["hospital", "age", "chol", "cp", "smoker",
                                                "target"]


def test_read_upload_returns_raw_pool(tmp_path):
    path = tmp_path / "t.csv"
    _frame().to_csv(path, index=False)
    pool, enc, info = read_upload(path)
    assert pool.X.shape == (30, 5) and pool.client_column.tolist()[:2] == ["A", "A"]
    assert info["format"] == "csv" and len(info["sha256"]) == 64


def test_resolve_rules(tmp_path):
    with pytest.raises(ConfigError, match="'mnist_5k' has no natural clients: choose a scenario"):
        resolve_dataset("mnist_5k")
    fed = resolve_dataset("digits", "rotation", n_clients=4, n_groups=2,
                          samples_per_client=20, seed=3)
    assert fed.n_clients == 4 and fed.true_groups.tolist() == [0, 1, 0, 1]
    with pytest.raises(DataError, match="neither a bundled dataset"):
        resolve_dataset("no_such_thing")
    path = tmp_path / "t.csv"
    _frame(n_per_client=20).to_csv(path, index=False)
    assert resolve_dataset(str(path)).n_clients == 3
    fed = resolve_dataset(str(path), "label-swap", n_clients=6, n_groups=2,
                          samples_per_client=10)
    assert fed.n_clients == 6 and fed.provenance["scenario"] == "label-swap"
    with pytest.raises(ConfigError, match="unknown bundled dataset"):
        load_bundled("nope")


def test_upload_without_client_column_can_be_partitioned(tmp_path):
    path = tmp_path / "pooled.csv"
    rows = ["a,b,label"] + [f"{i},{i % 7}.5,{i % 3}" for i in range(120)]
    path.write_text("\n".join(rows))
    with pytest.raises(DataError, match="no client column found"):
        load_upload(path)
    fed = resolve_dataset(str(path), "dirichlet", n_clients=4, n_groups=2,
                          samples_per_client=25, seed=0)
    assert fed.n_clients == 4 and fed.label_names == ["0", "1", "2"]
    assert fed.provenance["source"] == "pooled.csv"


def test_question_mark_is_missing(tmp_path):
    path = tmp_path / "uci.csv"
    path.write_text("site,ca,label\nA,1,0\nA,?,1\nA,3,0\nB,2,1\nB,2,0\n")
    data = load_upload(path)
    assert any("imputed 1 missing values" in n for n in data.provenance["notes"])


def test_provenance_is_json_serialisable(tmp_path):
    path = tmp_path / "t.csv"
    _frame().to_csv(path, index=False)
    json.dumps(load_upload(path).provenance)
    json.dumps(resolve_dataset("digits", "label-swap", n_clients=4, n_groups=2,
                               samples_per_client=20).provenance)
    json.dumps(resolve_dataset("heart", "natural", true_groups="Cleveland=0, Hungary=0, "
                               "Switzerland=1, VA Long Beach=1").provenance)
