"""Export: PNG/SVG/PDF via kaleido, CSV, LaTeX, projector TSV, reproducibility bundle."""

from __future__ import annotations

import json
import re
import struct
import zipfile
from xml.etree import ElementTree

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from test_store import assert_results_equal, fake_run_spec, save_fake

from fedcore.bundle import make_bundle, verify_bundle
from fedcore.errors import ConfigError, DataError
from fedcore.export import (
    export_figure,
    figure_data_csv,
    figure_to_bytes,
    latex_table,
    mean_std_table,
    write_projector,
)
from fedcore.export.mathjax import mathjax_path
from fedcore.store import load_run, save_run

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_SIGNATURE
    return struct.unpack(">II", data[16:24])


def bar_figure(title: str = "Client accuracy") -> tuple[go.Figure, pd.DataFrame]:
    df = pd.DataFrame({"method": ["fedavg", "ifca", "cfl"], "accuracy": [0.71, 0.88, 0.83]})
    fig = go.Figure(go.Bar(x=df["method"], y=df["accuracy"], name="accuracy"))
    fig.update_layout(title=title, yaxis_title="accuracy")
    return fig, df


def test_export_figure_writes_pdf_svg_png_and_csv(tmp_path):
    fig, df = bar_figure()
    paths = export_figure(fig, df, tmp_path, "acc", width=400, height=300, units="px")
    assert [p.name for p in paths] == ["acc.png", "acc.svg", "acc.pdf", "acc.csv"]
    pdf = (tmp_path / "acc.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and len(pdf) > 1024
    assert b"/Type /Page" in pdf or b"/Type/Page" in pdf
    root = ElementTree.fromstring((tmp_path / "acc.svg").read_text())
    assert root.tag.endswith("svg")
    texts = {"".join(t.itertext()) for t in root.iter() if t.tag.endswith("text")}
    assert {"fedavg", "ifca", "cfl", "Client accuracy"} <= texts
    assert png_size((tmp_path / "acc.png").read_bytes()) == (400, 300)
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "acc.csv"), df)


def test_concurrent_exports_from_threads_get_their_own_results():
    from concurrent.futures import ThreadPoolExecutor
    fig, _ = bar_figure()
    jobs = [("png", 200), ("svg", 210), ("pdf", 220), ("png", 230), ("svg", 240)]
    with ThreadPoolExecutor(max_workers=5) as pool:
        outs = list(pool.map(lambda j: figure_to_bytes(fig, j[0], j[1], 150, "px"), jobs))
    for (fmt, width), data in zip(jobs, outs):
        if fmt == "png":
            assert png_size(data) == (width, 150)
        elif fmt == "svg":
            assert f'width="{width}"'.encode() in data[:400]
        else:
            assert data.startswith(b"%PDF")


def test_png_size_in_mm_at_dpi_and_scale():
    fig, _ = bar_figure()
    w, h = png_size(figure_to_bytes(fig, "png", width=80, height=50, units="mm", dpi=200))
    assert abs(w - 80 / 25.4 * 200) <= 2 and abs(h - 50 / 25.4 * 200) <= 2
    assert png_size(figure_to_bytes(fig, "png", width=300, height=200, units="px",
                                    scale=2)) == (600, 400)
    pdf = figure_to_bytes(fig, "pdf", width=80, height=50, units="mm", dpi=200)
    box = re.search(rb"MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)", pdf)
    points = float(box.group(1)), float(box.group(2))  # 72 pt per inch
    assert points == pytest.approx((80 / 25.4 * 72, 50 / 25.4 * 72), abs=1.0)


def test_font_size_reaches_the_svg():
    fig, _ = bar_figure()
    small = figure_to_bytes(fig, "svg", width=400, height=300, units="px", font_size=8)
    large = figure_to_bytes(fig, "svg", width=400, height=300, units="px", font_size=20)
    assert b"font-size: 8px" in small and b"font-size: 20px" in large


def test_bad_format_and_units_are_config_errors():
    fig, _ = bar_figure()
    with pytest.raises(ConfigError, match="format"):
        figure_to_bytes(fig, "gif")
    with pytest.raises(ConfigError, match="units"):
        figure_to_bytes(fig, "png", units="inch")


def test_latex_math_renders_offline():
    if mathjax_path() is None:
        pytest.skip("no local MathJax: run `python -m fedcore.export.mathjax --install`")
    fig, _ = bar_figure(title=r"$\alpha \pm \sigma$")
    svg = figure_to_bytes(fig, "svg", width=400, height=300, units="px").decode()
    root = ElementTree.fromstring(svg)
    texts = ["".join(t.itertext()) for t in root.iter() if t.tag.endswith("text")]
    # MathJax typesets into glyph paths (MJX-* ids); the raw TeX must not be drawn as text
    assert not any("alpha" in t or "$" in t for t in texts)
    assert "gtitle-math-group" in svg and "TEX-I-1D6FC" in svg  # the italic alpha glyph


def test_figure_data_csv_from_traces():
    fig, _ = bar_figure()
    df = pd.read_csv(pd.io.common.StringIO(figure_data_csv(fig)))
    assert list(df["x"]) == ["fedavg", "ifca", "cfl"]
    np.testing.assert_allclose(df["y"], [0.71, 0.88, 0.83])


def test_latex_table_mean_std_bold_best():
    tidy = pd.DataFrame({
        "method": ["fedavg"] * 4 + ["ifca"] * 4,
        "scenario": ["rotation", "rotation", "label_swap", "label_swap"] * 2,
        "seed": [0, 1] * 4,
        "acc": [0.70, 0.72, 0.90, 0.92, 0.91, 0.913, 0.50, 0.60]})
    means, stds = mean_std_table(tidy, value="acc")
    assert means.at["ifca", "rotation"] == pytest.approx(0.9115)
    tex = latex_table(means, "Accuracy (mean $\\pm$ std).", "tab:acc", std=stds,
                      index_name="method")
    lines = tex.splitlines()
    assert lines[0] == r"\begin{table}[t]" and r"\toprule" in lines and r"\bottomrule" in lines
    assert r"method & rotation & label\_swap \\" in tex
    fedavg = next(line for line in lines if line.startswith("fedavg"))
    ifca = next(line for line in lines if line.startswith("ifca"))
    assert fedavg == (r"fedavg & $0.710 \pm 0.014$ & $\mathbf{0.910 \pm 0.014}$ \\")
    assert ifca == (r"ifca & $\mathbf{0.912 \pm 0.002}$ & $0.550 \pm 0.071$ \\")
    low = latex_table(means, "c", "l", higher_is_better=False)
    assert r"$\mathbf{0.710}$" in low and r"$\mathbf{0.550}$" in low


def test_projector_files(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(5, 3))
    meta = pd.DataFrame({"client": [f"c\t{i}" for i in range(5)], "cluster": [0, 1, 0, 1, 1]})
    vec, met = write_projector(tmp_path, X, meta)
    rows = vec.read_text().splitlines()
    assert len(rows) == 5 and all(len(r.split("\t")) == 3 for r in rows)
    np.testing.assert_array_equal(np.loadtxt(vec, delimiter="\t"), X)
    lines = met.read_text().splitlines()
    assert lines[0] == "client\tcluster" and len(lines) == 6
    assert lines[1] == "c 0\t0"  # tabs in labels would break the columns
    _, single = write_projector(tmp_path, X, meta[["cluster"]], prefix="one_")
    assert single.read_text().splitlines() == ["0", "1", "0", "1", "1"]  # no header
    with pytest.raises(DataError, match="5 vectors"):
        write_projector(tmp_path, X, meta.iloc[:3])


def test_bundle_round_trip_and_verification(tmp_path):
    spec = {"data": "digits", "method": "ifca", "scenario": "rotation", "n_clients": 6,
            "n_groups": 2, "samples_per_client": 20, "data_seed": 3, "scenario_params": {},
            "method_params": {"n_clusters": 2}, "config": {"rounds": 3, "seed": 3}}
    run_dir = save_run(tmp_path / "run_a", *fake_run_spec(spec))
    mem_spec = dict(spec, method="fedavg", method_params={})
    in_memory = fake_run_spec(mem_spec)
    fig, df = bar_figure()
    out = make_bundle([run_dir, in_memory], figures={"acc": (fig, df)},
                      out_path=tmp_path / "b.zip", formats=("svg", "pdf"))
    with zipfile.ZipFile(out) as zf:
        names = set(zf.namelist())
        zf.extractall(tmp_path / "unzipped")
    for expected in ("reproduce.sh", "versions.json", "manifest.json", "README.txt",
                     "figures/acc.svg", "figures/acc.pdf", "figures/acc.csv",
                     "tables/runs.csv", "tables/runs.tex", "runs/run_a/spec.json",
                     "runs/run_a/result.npz", "runs/fedavg-rotation/summary.json"):
        assert expected in names, expected
    unz = tmp_path / "unzipped"
    assert json.loads((unz / "runs/run_a/spec.json").read_text()) == spec
    _, _, back = load_run(unz / "runs" / "run_a")
    assert back.method == "ifca"
    versions = json.loads((unz / "versions.json").read_text())
    assert versions["packages"]["numpy"] == np.__version__
    manifest = json.loads((unz / "manifest.json").read_text())
    assert {r["dataset_fingerprint"] for r in manifest["runs"]} == {"fp-digits-rotation-3"}
    # every parameter the run used is stated, defaults included (fedcore.params)
    from fedcore.strategies import STRATEGIES
    run = manifest["runs"][0]
    assert run["method_params"] == STRATEGIES[run["method"]](n_clusters=2).get_params()
    script = (unz / "reproduce.sh").read_text()
    assert '"$PY" -m fedcore run --data digits --scenario rotation' in script
    assert "--method ifca --param n_clusters=2" in script and "--seed 3 --data-seed 3" in script
    report = verify_bundle(out, tmp_path / "verify", mode="python",
                           backend="test_store:fake_run_spec")
    assert len(report) == 2 * 7 and report["match"].all()


def test_verify_bundle_detects_a_changed_number(tmp_path):
    run_dir, _ = save_fake(tmp_path / "run")
    # the stored run was not produced by the backend, so its numbers cannot be reproduced
    out = make_bundle([run_dir], out_path=tmp_path / "b.zip")
    report = verify_bundle(out, tmp_path / "verify", mode="python",
                           backend="test_store:fake_run_spec")
    assert not report["match"].all()
    assert not report.set_index("key").at["mean_client_accuracy", "match"]


def test_bundle_with_real_tiny_run_reproduces_identically(tmp_path):
    from fedcore.config import FitConfig, ModelSpec, SimulationConfig
    from fedcore.runner import ExperimentSpec, run_experiment, summary_dict
    spec = ExperimentSpec(data="digits", method="fedavg", scenario="rotation", n_clients=4,
                          n_groups=2, samples_per_client=24, data_seed=1,
                          config=SimulationConfig(rounds=2, seed=1,
                                                  model=ModelSpec(kind="logreg"),
                                                  fit=FitConfig(batch_size=8)))
    dataset, result = run_experiment(spec)
    run_dir = save_run(tmp_path / "tiny", spec.to_dict(), summary_dict(spec, dataset, result),
                       result)
    assert_results_equal(result, load_run(run_dir)[2])  # real results round-trip too
    out = make_bundle([run_dir], out_path=tmp_path / "tiny.zip")
    report = verify_bundle(out, tmp_path / "verify", mode="script")  # runs reproduce.sh
    assert report["match"].all(), report[~report["match"]]


def test_export_without_mathjax_still_works(tmp_path):
    import subprocess
    import sys
    code = ("import plotly.graph_objects as go; from fedcore.export import figure_to_bytes;"
            "f = go.Figure(go.Bar(x=['fedavg'], y=[1]));"
            "f.update_layout(title='$x^2$ plain', xaxis_title='method');"
            "import sys; sys.stdout.buffer.write(figure_to_bytes(f, 'svg', 300, 200, 'px'))")
    env = {"FEDLENS_MATHJAX": "off", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path),
           "PYTHONPATH": str(__import__("pathlib").Path(__file__).resolve().parents[1])}
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]
    root = ElementTree.fromstring(proc.stdout.decode())
    texts = {"".join(t.itertext()) for t in root.iter() if t.tag.endswith("text")}
    assert "fedavg" in texts and "method" in texts


def test_report_rebuilds_run_figures_from_stored_data(tmp_path):
    from fedcore.cli import main
    run_dir, result = save_fake(tmp_path / "run")
    assert main(["report", str(run_dir), "--format", "svg,png", "--width", "90",
                 "--height", "60", "--dpi", "100"]) == 0
    figs = run_dir / "figures"
    for name in ("learning_curve_accuracy", "learning_curve_worst", "client_accuracy",
                 "assignment_history"):
        assert ElementTree.fromstring((figs / f"{name}.svg").read_text()).tag.endswith("svg")
        w, h = png_size((figs / f"{name}.png").read_bytes())
        assert abs(w - 90 / 25.4 * 100) <= 2 and abs(h - 60 / 25.4 * 100) <= 2
    clients = pd.read_csv(figs / "client_accuracy.csv")
    np.testing.assert_allclose(clients["accuracy"], result.client_metrics["accuracy"])
    history = pd.read_csv(figs / "assignment_history.csv")
    assert len(history) == result.assignment_history.size
    _, _, back = load_run(run_dir)  # figures/ does not disturb the stored run
    assert back.method == result.method


def test_exported_pdf_has_the_figures_title_as_document_title(tmp_path):
    import re

    import plotly.graph_objects as go

    from fedcore.export.figures import figure_to_bytes

    fig = go.Figure(go.Scatter(x=[1, 2], y=[3, 4])).update_layout(
        title={"text": "Client map — Zürich"}, meta={"name": "embedding_scatter"})
    pdf = figure_to_bytes(fig, "pdf")
    # The last trailer's /Info object holds the title (incremental update).
    info = re.findall(rb"/Info (\d+) 0 R", pdf)[-1]
    obj = re.findall(rb"\n" + info + rb" 0 obj\n<</Title <([0-9A-F]+)>", pdf)[-1]
    assert bytes.fromhex(obj.decode()).decode("utf-16") == "Client map — Zürich"
    assert b"Kaleido-fier" not in pdf.split(b"%%EOF")[-2].split(b"endobj")[-2]
    untitled = figure_to_bytes(go.Figure(layout={"meta": {"name": "client_accuracy"}}), "pdf")
    obj = re.findall(rb"<</Title <([0-9A-F]+)>", untitled)[-1]
    assert bytes.fromhex(obj.decode()).decode("utf-16") == "FedLens: client accuracy"
