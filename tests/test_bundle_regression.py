"""A reproducibility bundle of a regression run: verified on its errors (RMSE, MAE, R²),
and its runs table shows RMSE, not an empty accuracy column."""

from __future__ import annotations

import zipfile

from fedcore.bundle import make_bundle
from fedcore.bundle_verify import verify_bundle
from fedcore.config import FitConfig, ModelSpec, SimulationConfig
from fedcore.runner import ExperimentSpec, run_experiment, summary_dict
from fedcore.store import save_run


def test_regression_bundle_is_verified_on_its_errors(tmp_path):
    spec = ExperimentSpec(data="opt", method="fedavg", data_seed=1,
                          config=SimulationConfig(rounds=2, seed=1,
                                                  model=ModelSpec(kind="logreg"),
                                                  fit=FitConfig(batch_size=16)))
    dataset, result = run_experiment(spec)
    assert dataset.is_regression
    summary = summary_dict(spec, dataset, result)
    run_dir = save_run(tmp_path / "opt_run", spec.to_dict(), summary, result)
    out = make_bundle([run_dir], out_path=tmp_path / "opt.zip")
    with zipfile.ZipFile(out) as zf:
        tex = zf.read("tables/runs.tex").decode()
    assert "Mean client RMSE" in tex and "accuracy" not in tex
    report = verify_bundle(out, tmp_path / "verify", mode="python")
    keys = set(report["key"])
    assert {"mean_client_rmse", "worst_client_rmse", "mean_client_r2", "client_rmse"} <= keys
    assert report["match"].all(), report[~report["match"]]

    # A changed error is caught (the stored RMSE no longer matches the reproduction).
    summary["mean_client_rmse"] += 1.0
    tampered = save_run(tmp_path / "tampered", spec.to_dict(), summary, result)
    report = verify_bundle(make_bundle([tampered], out_path=tmp_path / "t.zip"),
                           tmp_path / "verify2", mode="python").set_index("key")
    assert not report.at["mean_client_rmse", "match"]
