"""Uploads with a numeric label read as a regression target when the user says so."""

import io

import numpy as np
import pytest

from fedcore.cli import main
from fedcore.data import load_upload, read_upload, resolve_dataset, suggest_task
from fedcore.errors import DataError


def table(labels, clients=("A", "B")) -> bytes:
    rows = ["site,dose,label"]
    for i, v in enumerate(labels):
        rows.append(f"{clients[i % len(clients)]},{i * 0.5},{v}")
    return ("\n".join(rows) + "\n").encode()


def test_regression_upload_reads_float_targets():
    values = [round(1.5 * i + 0.25, 2) for i in range(150)]
    ds = load_upload(table(values), filename="t.csv", task="regression", seed=3)
    assert ds.is_regression and ds.label_names == ["label"] and ds.n_clients == 2
    assert all(y.dtype == np.float32 for y in ds.y_train + ds.y_test)
    got = np.sort(np.concatenate(ds.y_train + ds.y_test))
    np.testing.assert_allclose(got, np.sort(values), rtol=1e-6)
    # random split: the test part is not the smallest targets of each client
    for tr, te in zip(ds.y_train, ds.y_test):
        assert len(te) == round(0.2 * (len(tr) + len(te))) and te.max() > np.median(tr)
    assert ds.provenance["task"] == "regression"
    again = load_upload(table(values), filename="t.csv", task="regression", seed=3)
    assert again.fingerprint() == ds.fingerprint()


def test_many_values_as_classes_points_to_regression():
    with pytest.raises(DataError, match="choose the regression task"):
        load_upload(table([i * 0.1 for i in range(150)]), filename="t.csv")


@pytest.mark.parametrize("labels,fragment", [
    (["1.5", "2", "x7", "3"], "label column 'label' in 't.csv' must hold numbers for a "
                              "regression task; data row 3 has 'x7'"),
    (["1.5", "inf", "2", "3"], "data row 2 has 'inf'"),
    (["True", "False", "True", "False"], "data row 1 has 'True'"),
    (["2", "2", "2", "2"], "is constant"),
])
def test_bad_regression_labels(labels, fragment):
    with pytest.raises(DataError, match=fragment.replace("(", r"\(")):
        load_upload(table(labels), filename="t.csv", task="regression")


def test_missing_regression_labels_are_dropped_with_a_note():
    ds = load_upload(table(["1.5", "", "2.5", "3", "4", "5.5"]), filename="t.csv",
                     task="regression")
    assert sum(len(y) for y in ds.y_train + ds.y_test) == 5
    assert any("dropped 1 rows without a label" in n for n in ds.provenance["notes"])


def test_unknown_task_is_an_error():
    with pytest.raises(DataError, match="unknown task 'forecast'"):
        read_upload(table(["1", "2", "3", "4"]), filename="t.csv", task="forecast")


def test_npz_regression_upload():
    buf = io.BytesIO()
    rng = np.random.default_rng(0)
    np.savez(buf, x=rng.normal(size=(20, 3)), y=rng.normal(size=20) * 10,
             client=np.array(["a", "b"] * 10), label_names=np.array(["yield"]))
    ds = load_upload(buf.getvalue(), filename="d.npz", task="regression")
    assert ds.is_regression and ds.label_names == ["yield"]
    bad = io.BytesIO()
    np.savez(bad, x=np.zeros((4, 2)), y=np.array([1.0, np.inf, 2, 3]),
             client=np.array(["a", "b"] * 2))
    with pytest.raises(DataError, match="infinite"):
        load_upload(bad.getvalue(), filename="d.npz", task="regression")


def test_pooled_upload_regression_with_a_scenario(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes(table([1.25 * i for i in range(120)]))
    ds = resolve_dataset(str(path), scenario="iid", n_clients=4, n_groups=1,
                         samples_per_client=25, task="regression")
    assert ds.is_regression and ds.n_clients == 4
    with pytest.raises(Exception, match="needs a classification dataset"):
        resolve_dataset(str(path), scenario="dirichlet", n_clients=4, samples_per_client=25,
                        task="regression")


def test_suggest_task_only_suggests():
    assert suggest_task([0.5, 1.25, 3.0]).task == "regression"
    assert "fractions" in suggest_task([0.5, 1.25, 3.0]).reason
    assert suggest_task([0, 1, 1, 0, 2]).task == "classification"
    assert suggest_task(["yes", "no"]).task == "classification"
    many = suggest_task(list(range(300)))
    assert many.task == "regression" and "300 distinct whole numbers" in many.reason
    assert suggest_task([True, False]).task == "classification"


def test_cli_inspect_task_and_suggestion(tmp_path, capsys):
    path = tmp_path / "t.csv"
    path.write_bytes(table([round(0.1 * i, 1) for i in range(40)]))
    assert main(["inspect", str(path), "--task", "regression"]) == 0
    out = capsys.readouterr().out
    assert "target:    label (regression): min 0, median 1.95, max 3.9" in out
    assert "suggest:" not in out
    assert main(["inspect", str(path)]) == 0  # read as 40 classes, with a suggestion
    out = capsys.readouterr().out
    assert "suggest:   the label column looks like regression" in out
    assert "--task regression" in out
    bad = tmp_path / "bad.csv"
    bad.write_bytes(table(["1", "oops", "2", "3"]))
    assert main(["inspect", str(bad), "--task", "regression"]) == 2
    err = capsys.readouterr().err
    assert "data row 2 has 'oops'" in err and len(err.strip().splitlines()) == 1


def test_run_specs_take_the_task_as_a_data_option():
    from fedcore.errors import ConfigError
    from fedcore.registries import parse_params
    assert parse_params("scenario", "natural", ["task=regression"]) == {"task": "regression"}
    with pytest.raises(ConfigError, match="task='forecast' is not in the allowed choices"):
        parse_params("scenario", "natural", ["task=forecast"])
