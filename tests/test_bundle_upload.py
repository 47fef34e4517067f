"""A bundle of a run on UPLOADED data ships the file and reproduces the numbers from it."""

import zipfile

import numpy as np
import pandas as pd

from fedcore.bundle import make_bundle, verify_bundle
from fedcore.config import FitConfig, ModelSpec, SimulationConfig
from fedcore.data import load_upload
from fedcore.runner import ExperimentSpec, run_experiment, summary_dict
from fedcore.store import save_run


def upload_bytes() -> bytes:
    rng = np.random.default_rng(0)
    rows = []
    for c in range(6):
        shift = 2.0 if c % 2 else -2.0
        for _ in range(30):
            x = rng.normal(size=3)
            rows.append({"site": f"h{c}", "a": x[0] + shift, "b": x[1], "c": x[2],
                         "outcome": "yes" if x[0] + rng.normal(scale=0.3) > 0 else "no"})
    return pd.DataFrame(rows).to_csv(index=False).encode()


def test_bundle_ships_the_upload_and_reproduces_it(tmp_path):
    content = upload_bytes()
    columns = {"client_column": "site", "label_column": "outcome"}
    spec = ExperimentSpec(data="hospitals.csv", method="fedavg", n_clients=6, data_seed=3,
                          scenario_params=columns,
                          config=SimulationConfig(rounds=2, model=ModelSpec(kind="logreg"),
                                                  fit=FitConfig(lr=0.1)))
    dataset = load_upload(content, filename="hospitals.csv", seed=3, **columns)
    dataset, result = run_experiment(spec, dataset=dataset)
    run_dir = save_run(tmp_path / "run", spec.to_dict(), summary_dict(spec, dataset, result),
                       result)
    bundle = make_bundle([run_dir], out_path=tmp_path / "b.zip",
                         data_files={"hospitals.csv": content})
    with zipfile.ZipFile(bundle) as zf:
        assert zf.read("data/hospitals.csv") == content
        script = zf.read("reproduce.sh").decode()
    assert '--data "$HERE/data/"hospitals.csv' in script
    assert "--scenario-param client_column=site" in script
    check = verify_bundle(bundle, workdir=tmp_path / "verify")
    assert len(check) > 0 and check["match"].all(), check[~check["match"]]


def test_dashboard_spec_of_an_upload_records_its_columns_and_seed():
    from fedcore.ui.runs_view import spec_for

    class Result:
        method, params, client_ids = "fedavg", {}, ["h0", "h1"]
        config = SimulationConfig().to_dict()

    source = {"kind": "upload", "filename": "hospitals.csv", "content": b"x", "seed": 0,
              "client_column": "site", "label_column": "outcome"}
    spec = spec_for(Result(), source)
    assert spec.data == "hospitals.csv" and spec.data_seed == 0
    assert spec.scenario_params == {"client_column": "site", "label_column": "outcome"}
