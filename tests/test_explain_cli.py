"""``python -m fedcore explain``: prints the stories and writes the tables behind them."""

import argparse
import json

import numpy as np
import pandas as pd

from fedcore.cli import explain_cmd
from fedcore.explain.sanity import shifted_feature_federation
from fedcore.results import SimulationResult


def test_explain_command_prints_and_writes(tmp_path, monkeypatch, capsys):
    ds = shifted_feature_federation(n_clients=20, seed=4)
    res = SimulationResult("oracle", {}, {}, ds.client_ids, ds.true_groups, ds.true_groups,
                           ds.true_groups[None], pd.DataFrame(), pd.DataFrame())
    monkeypatch.setattr(explain_cmd, "_load", lambda run_dir: (ds, res))
    parser = argparse.ArgumentParser()
    explain_cmd.register(parser.add_subparsers())
    args = parser.parse_args(["explain", "RUN", "--no-models", "--out", str(tmp_path / "x")])
    assert args.func(args) == 0
    out = capsys.readouterr().out
    assert "surrogate fidelity 100% balanced accuracy" in out
    assert "Cluster 1 = client_001" in out and "higher feature_3" in out
    div = pd.read_csv(tmp_path / "x" / "divergence.csv")
    assert div.groupby("cluster")["feature"].first().tolist() == ["feature_3", "feature_3"]
    stories = json.loads((tmp_path / "x" / "stories.json").read_text())
    assert stories["fidelity"]["trustworthy"] is True
    st = stories["stories"][1]["statements"]
    row = div[(div["cluster"] == 1) & (div["rank"] == 1)].iloc[0]
    assert any(np.isclose(s["value"], row["cluster_mean"]) for s in st)
