"""``python -m fedcore run`` on a regression dataset prints and saves regression metrics."""

import json

import pytest
from regression_data import slope_groups

import fedcore.runner
from fedcore.cli import main
from fedcore.store import load_run


@pytest.fixture()
def slopes(monkeypatch):
    data = slope_groups()
    monkeypatch.setattr(fedcore.runner, "load_base_dataset", lambda spec: data)
    return data


ARGS = ["--data", "slopes", "--clients", "8", "--rounds", "3", "--model", "logreg",
        "--batch", "8", "--quiet"]


@pytest.mark.parametrize("loss", ["auto", "huber"])
def test_run_prints_and_saves_rmse_mae_r2(tmp_path, capsys, slopes, loss):
    out = tmp_path / "run"
    assert main(["run", "--method", "oracle", *ARGS, "--loss", loss, "--out", str(out)]) == 0
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert {"mean_client_rmse", "mean_client_mae", "mean_client_r2"} <= set(printed)
    assert "mean_client_accuracy" not in printed
    spec, summary, result = load_run(out)
    assert result.task == "regression"
    assert summary["mean_client_rmse"] == pytest.approx(printed["mean_client_rmse"])
    assert spec["config"]["fit"].get("loss", "auto") == loss
    assert 0 < printed["mean_client_rmse"] < 2.0  # oracle fits each slope group


def test_a_classification_loss_on_a_regression_dataset_is_a_one_line_error(tmp_path, capsys,
                                                                          slopes):
    code = main(["run", "--method", "fedavg", *ARGS, "--loss", "cross_entropy",
                 "--out", str(tmp_path / "x")])
    assert code == 2
    err = capsys.readouterr().err
    assert "does not fit a regression task" in err and "Traceback" not in err
