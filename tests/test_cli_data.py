"""`python -m fedcore datasets` and `python -m fedcore inspect`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fedcore.cli import main

ROOT = Path(__file__).resolve().parents[1]
BAD = Path(__file__).parent / "data" / "bad"


def test_datasets_lists_bundles_and_scenarios(capsys):
    assert main(["datasets"]) == 0
    out = capsys.readouterr().out
    for word in ("heart", "beijing", "mnist_5k", "digits", "CC BY-SA 3.0", "17455",
                 "next-day PM2.5 > 75", "iid", "dirichlet", "label-skew", "quantity-skew",
                 "feature-skew", "rotation", "label-swap", "natural", "alpha=0.5"):
        assert word in out, word


def test_datasets_json(capsys):
    assert main(["datasets", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    rows = {r["name"]: r for r in doc["datasets"]}
    assert rows["heart"]["clients"] == 4 and rows["heart"]["samples"] == 920
    assert rows["mnist_5k"]["features"] == 784 and rows["digits"]["classes"] == 10
    assert {"natural", "forecasting"} <= {s["name"] for s in doc["scenarios"]}


def test_inspect_good_file(tmp_path, capsys):
    path = tmp_path / "t.csv"
    path.write_text("site,age,sex,outcome\n" + "".join(
        f"{s},{30 + i},{'MF'[i % 2]},{'ny'[i % 2]}\n" for s in ("A", "B") for i in range(6))
        + "C,40,M,\nC,41,F,y\nC,,M,n\n")
    assert main(["inspect", str(path), "--label-column", "outcome"]) == 0
    out = capsys.readouterr().out
    assert "clients:   3" in out
    assert "samples:   14 (per client min 2, median 6, max 6)" in out
    assert "labels:    n (7), y (7)" in out
    assert "note:      dropped 1 rows without a label" in out
    assert "imputed 1 missing values" in out


def test_inspect_bundled_name(capsys):
    assert main(["inspect", "heart"]) == 0
    out = capsys.readouterr().out
    assert "clients:   4" in out and "no disease (411), disease (509)" in out


@pytest.mark.parametrize("name,fragment", [
    ("no_header.csv", "has no header row"),
    ("zip_nested.zip", "nested archives are not accepted"),
    ("npz_object.npz", "holds Python objects"),
    ("leaf_inconsistent.json", "inconsistent counts"),
    ("client_one_sample.csv", "client 'B' has 1 sample"),
])
def test_inspect_bad_file_exit_2_one_line(capsys, name, fragment):
    assert main(["inspect", str(BAD / name)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and fragment in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_inspect_wrong_column_names_available(capsys, tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("site,age,label\nA,1,0\nA,2,1\n")
    assert main(["inspect", str(path), "--client-column", "ward"]) == 2
    err = capsys.readouterr().err
    assert "client column 'ward' not found" in err and "'site', 'age', 'label'" in err


def test_inspect_size_limit(capsys, tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("site,age,label\n" + "A,1,0\n" * 500)
    assert main(["inspect", str(path), "--max-mb", "0.001"]) == 2
    assert "(max_bytes)" in capsys.readouterr().err


def test_module_entry_point_subprocess():
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "fedcore", "inspect",
                           str(BAD / "zip_traversal.zip")], capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=120)
    assert proc.returncode == 2
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert lines[-1].startswith("error: ZIP 'zip_traversal.zip' contains an unsafe path")
    assert "Traceback" not in proc.stderr
