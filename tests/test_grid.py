"""Benchmark grid: expansion, resumability, failures, process pool / Ray equivalence, outputs."""

from __future__ import annotations

import json
import time

import numpy as np
import pandas as pd
import pytest
from test_store import fake_run_spec  # noqa: F401  (the backend below lives there)

from fedcore.cli import build_parser, main
from fedcore.errors import ConfigError
from fedcore.grid import GridSpec, collect_results, failed_cells, run_cells, run_grid
from fedcore.grid.spec import grid_to_argv, spec_to_argv
from fedcore.store import is_complete, load_run

FAKE = "test_store:fake_run_spec"


def small_grid(**kw) -> GridSpec:
    args = {"data": "digits", "scenarios": ["rotation", "label-swap"],
            "methods": ["fedavg", "ifca"], "seeds": [0, 1], "n_clients": 6, "n_groups": 2,
            "samples_per_client": 20}
    args.update(kw)
    return GridSpec(**args)


def test_cells_expand_scenarios_methods_seeds():
    grid = small_grid(method_params={"ifca": {"n_clusters": 3}},
                      scenario_params={"rotation": {"angle": 90}, "*": {"noise": 0.1}})
    cells = grid.cells()
    assert len(cells) == 2 * 2 * 2
    assert len({c.cell_id for c in cells}) == 8
    ifca = [c for c in cells if c.method == "ifca" and c.scenario == "rotation" and c.seed == 1]
    spec = ifca[0].spec
    assert spec["method_params"] == {"n_clusters": 3}
    assert spec["scenario_params"] == {"noise": 0.1, "angle": 90}
    assert spec["data_seed"] == 1 and spec["config"]["seed"] == 1
    fedavg = [c for c in cells if c.method == "fedavg"][0]
    assert fedavg.spec["method_params"] == {}
    fixed = small_grid(data_seed=7).cells()
    assert {c.spec["data_seed"] for c in fixed} == {7}
    assert {c.spec["config"]["seed"] for c in fixed} == {0, 1}
    # any changed setting gives new cell ids (no stale reuse), the same settings the same ids
    assert [c.cell_id for c in small_grid().cells()] == [c.cell_id for c in small_grid().cells()]
    assert not {c.cell_id for c in small_grid().cells()} & {c.cell_id for c in fixed}


def test_grid_validation_errors():
    with pytest.raises(ConfigError, match="duplicates"):
        small_grid(seeds=[0, 0])
    with pytest.raises(ConfigError, match="not in the grid"):
        small_grid(method_params={"cfl": {"eps": 1}})
    with pytest.raises(ConfigError, match="rounds"):
        small_grid(config={"rounds": 0})


def test_cli_arguments_build_the_grid():
    args = build_parser().parse_args([
        "grid", "--data", "digits", "--scenarios", "label-swap,none", "--methods", "fedavg,ifca",
        "--seeds", "0,1,2", "--param", "ifca.n_clusters=4", "--param", "label-swap.n_pairs=2",
        "--rounds", "3", "--lr", "0.1", "--hidden", "16,8", "--out", "x"])
    from fedcore.cli.grid_cmd import grid_from_args
    grid = grid_from_args(args)
    assert grid.scenarios == ["label-swap", None]
    assert grid.method_params == {"ifca": {"n_clusters": 4}}
    assert grid.scenario_params == {"label-swap": {"n_pairs": 2}}
    assert grid.config["rounds"] == 3 and grid.config["fit"]["lr"] == 0.1
    assert grid.config["model"]["hidden"] == [16, 8]
    assert len(grid.cells()) == 2 * 2 * 3
    # the command stored for reproduce.sh parses back to the same grid
    again = grid_from_args(build_parser().parse_args(["grid", *grid_to_argv(grid),
                                                      "--out", "x"]))
    assert again.to_dict() == grid.to_dict()
    with pytest.raises(ConfigError, match="not a method"):
        grid_from_args(build_parser().parse_args(
            ["grid", "--data", "d", "--methods", "fedavg", "--param", "cfl.eps=1",
             "--out", "x"]))


@pytest.mark.parametrize("param, words", [
    ("ifca.k=4", "method 'ifca': unknown parameter 'k'; parameters: n_clusters"),
    ("ifca.n_clusters=abc", "method 'ifca': n_clusters='abc' is not an int in [1, 50]"),
    ("rotation.angle=90", "scenario 'rotation': unknown parameter 'angle'"),
])
def test_bad_grid_parameter_is_one_line_and_starts_nothing(tmp_path, capsys, param, words):
    argv = ["grid", "--data", "digits", "--scenarios", "rotation", "--methods", "fedavg,ifca",
            "--param", param, "--workers", "0", "--out", str(tmp_path / "g")]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert words in err and len(err.splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "g").exists()


def test_every_cell_is_validated_before_any_runs(tmp_path):
    bad = small_grid(method_params={"ifca": {"n_clusters": 0}})
    with pytest.raises(ConfigError, match=r"grid cell rotation x ifca: method 'ifca': "
                                          r"n_clusters=0 is outside"):
        run_grid(bad, tmp_path / "g", workers=0, backend=FAKE)
    assert not (tmp_path / "g").exists()
    with pytest.raises(ConfigError, match="unknown scenario 'spin'"):
        small_grid(scenarios=["spin"]).validate()
    with pytest.raises(ConfigError, match="scenario 'label-swap': unknown parameter 'noise'"):
        small_grid(scenarios=["feature-skew", "label-swap"],
                   scenario_params={"*": {"noise": 0.1}}).validate()


def test_spec_to_argv_round_trips_through_run_parser():
    from fedcore.cli.run_cmd import spec_from_args
    cell = small_grid(method_params={"ifca": {"n_clusters": 3}}).cells()[-1]
    args = build_parser().parse_args(["run", *spec_to_argv(cell.spec), "--out", "x"])
    spec = spec_from_args(args, args.method, {"n_clusters": 3})
    assert spec.to_dict() == cell.spec


def test_in_process_grid_is_resumable_and_records_failures(tmp_path):
    grid = small_grid(methods=["fedavg", "boom"], seeds=[0])
    calls = []
    report = run_cells(grid.cells(), tmp_path, workers=0, backend=FAKE,
                       progress=lambda *a: calls.append(a))
    assert (report.total, report.computed, report.skipped) == (4, 2, 0)
    assert len(report.failed) == 2 and all("boom" in c for c in report.failed)
    assert len(calls) == 4 and calls[-1][:4] == (4, 4, 2, 0)
    assert failed_cells(tmp_path) == sorted(report.failed)
    err = (tmp_path / "cells" / report.failed[0] / "error.txt").read_text()
    assert "RuntimeError: boom" in err
    again = run_cells(grid.cells(), tmp_path, workers=0, backend=FAKE)
    assert (again.computed, again.skipped, len(again.failed)) == (0, 2, 2)  # only retries
    done = [c for c in grid.cells() if c.method == "fedavg"]
    _, summary, result = load_run(tmp_path / "cells" / done[0].cell_id)
    assert summary["mean_client_accuracy"] == pytest.approx(result.mean_client_accuracy)


def test_process_pool_matches_in_process(tmp_path):
    grid = small_grid(seeds=[0])
    run_cells(grid.cells(), tmp_path / "serial", workers=0, backend=FAKE)
    report = run_cells(grid.cells(), tmp_path / "pool", workers=2, backend=FAKE)
    assert report.computed == 4 and not report.failed
    a = collect_results(tmp_path / "serial", [c.cell_id for c in grid.cells()])
    b = collect_results(tmp_path / "pool", [c.cell_id for c in grid.cells()])
    assert len(a) == 4
    pd.testing.assert_frame_equal(a.drop(columns="wall_seconds"), b.drop(columns="wall_seconds"))


@pytest.mark.slow
def test_ray_executor_matches_local(tmp_path):
    ray = pytest.importorskip("ray")
    grid = small_grid(scenarios=["rotation"], seeds=[0, 1])
    ids = [c.cell_id for c in grid.cells()]
    run_cells(grid.cells(), tmp_path / "local", workers=0, backend=FAKE)
    start = time.perf_counter()
    report = run_cells(grid.cells(), tmp_path / "ray", executor="ray", workers=2, backend=FAKE)
    assert report.computed == 4 and not report.failed, report
    assert not ray.is_initialized()  # the local instance we started was shut down
    a, b = collect_results(tmp_path / "local", ids), collect_results(tmp_path / "ray", ids)
    pd.testing.assert_frame_equal(a.drop(columns="wall_seconds"), b.drop(columns="wall_seconds"))
    for cid in ids:
        np.testing.assert_array_equal(load_run(tmp_path / "local" / "cells" / cid)[2].models[0],
                                      load_run(tmp_path / "ray" / "cells" / cid)[2].models[0])
    print(f"ray grid of 4 cells: {time.perf_counter() - start:.1f} s")


def test_grid_outputs_tidy_table_latex_figures(tmp_path):
    grid = small_grid()
    report = run_grid(grid, tmp_path, workers=0, backend=FAKE, formats=("svg",))
    assert report.computed == 8
    tidy = pd.read_csv(tmp_path / "results.csv")
    assert list(tidy.columns) == ["cell_id", "data", "scenario", "method", "seed", "data_seed",
                                  "mean_client_accuracy", "worst_accuracy", "ari",
                                  "n_clusters", "wall_seconds"]
    assert len(tidy) == 8 and set(tidy["seed"]) == {0, 1}
    assert (tidy["worst_accuracy"] <= tidy["mean_client_accuracy"]).all()
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "results.parquet"), tidy,
                                  check_dtype=False)
    tex = (tmp_path / "table.tex").read_text()
    part = tidy[(tidy.method == "ifca") & (tidy.scenario == "rotation")]["mean_client_accuracy"]
    expected = f"{part.mean():.3f} \\pm {part.std(ddof=1):.3f}"
    assert expected in tex and "\\toprule" in tex and "label-swap" in tex
    meta = json.loads((tmp_path / "grid.json").read_text())
    assert len(meta["cells"]) == 8 and meta["grid"]["methods"] == ["fedavg", "ifca"]
    for metric in ("mean_client_accuracy", "worst_accuracy", "ari"):
        svg = (tmp_path / "figures" / f"grid_{metric}.svg").read_text()
        assert svg.lstrip().startswith("<svg") and "rotation" in svg
        assert len(pd.read_csv(tmp_path / "figures" / f"grid_{metric}.csv")) == 8
    again = run_grid(grid, tmp_path, workers=0, backend=FAKE, formats=())
    assert (again.computed, again.skipped) == (0, 8)


def test_report_command_rebuilds_grid_figures_without_recomputing(tmp_path, capsys):
    run_grid(small_grid(seeds=[0]), tmp_path, workers=0, backend=FAKE, formats=())
    cell_mtimes = {p: p.stat().st_mtime_ns for p in (tmp_path / "cells").rglob("summary.json")}
    assert main(["report", str(tmp_path), "--format", "png"]) == 0
    png = (tmp_path / "figures" / "grid_mean_client_accuracy.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert {p: p.stat().st_mtime_ns for p in cell_mtimes} == cell_mtimes
    assert main(["report", str(tmp_path), "--format", "gif"]) == 2
    assert "--format" in capsys.readouterr().err


def test_real_tiny_grid_cli_is_resumable(tmp_path, capsys):
    argv = ["grid", "--data", "digits", "--scenarios", "rotation", "--methods", "fedavg,local",
            "--seeds", "0", "--clients", "4", "--groups", "2", "--samples", "24",
            "--rounds", "2", "--model", "logreg", "--workers", "0", "--formats", "none",
            "--quiet", "--out", str(tmp_path)]
    if main(argv) != 0:
        errors = [p.read_text()[-1500:] for p in (tmp_path / "cells").glob("*/error.txt")]
        pytest.fail("grid cells failed:\n" + "\n".join(errors))
    tidy = pd.read_csv(tmp_path / "results.csv")
    assert len(tidy) == 2 and tidy["mean_client_accuracy"].between(0, 1).all()
    cells = sorted((tmp_path / "cells").iterdir())
    assert all(is_complete(c) for c in cells)
    stamps = [(c / "summary.json").stat().st_mtime_ns for c in cells]
    capsys.readouterr()
    assert main(argv) == 0  # resumes: nothing recomputed
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (report["computed"], report["skipped"], report["failed"]) == (0, 2, [])
    assert [(c / "summary.json").stat().st_mtime_ns for c in cells] == stamps
