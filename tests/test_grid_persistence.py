"""A forecasting grid's tables carry the persistence forecast next to the trained methods."""

import numpy as np
import pytest

from fedcore.data import resolve_dataset
from fedcore.forecast_baseline import persistence_baseline
from fedcore.grid import GridSpec, run_grid
from fedcore.grid.aggregate import collect_results
from fedcore.grid.baselines import METHOD, NO_TRAINING
from fedcore.grid.stats import summary_frame, text_report

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def grid_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("nox_grid")
    grid = GridSpec(data="nox", scenarios=["forecasting"], methods=["fedavg", "local"],
                    seeds=[0, 1],
                    config={"rounds": 2, "model": {"kind": "logreg", "hidden": []}})
    report = run_grid(grid, out, workers=0, formats=())
    assert not report.failed
    return out


def test_persistence_rows_equal_the_baseline_and_pair_with_fedavg(grid_dir):
    tidy = collect_results(grid_dir)
    rows = tidy[tidy["method"] == METHOD]
    assert list(rows["seed"]) == [0, 1] and (rows["k"] == NO_TRAINING).all()
    base = persistence_baseline(resolve_dataset("nox", scenario="forecasting"))
    np.testing.assert_allclose(rows["mean_client_rmse"], base["rmse"].mean())
    np.testing.assert_allclose(rows["worst_rmse"], base["rmse"].max())
    np.testing.assert_allclose(rows["mean_client_r2"], base["r2"].mean())
    fed = tidy[tidy["method"] == "fedavg"].set_index("seed")["mean_client_rmse"]
    np.testing.assert_allclose(rows.set_index("seed")["fedavg_diff"],
                               rows.set_index("seed")["mean_client_rmse"] - fed)
    summary = summary_frame(tidy)
    assert METHOD in set(summary["method"])
    assert f"{METHOD} [{NO_TRAINING}]" in text_report(summary)


def test_written_tables_carry_the_persistence_row(grid_dir):
    summary = (grid_dir / "summary.csv").read_text()
    assert f"{METHOD},{NO_TRAINING}" in summary
    assert METHOD in (grid_dir / "table.tex").read_text()


def test_persistence_scores_are_computed_once_and_kept(grid_dir, monkeypatch):
    first = collect_results(grid_dir)
    cached = sorted((grid_dir / "baselines").glob(f"*.{METHOD}.json"))
    assert len(cached) == 2  # one per FedAvg cell

    def no_rebuild(spec):
        raise AssertionError("the dataset was rebuilt although its scores are kept")

    monkeypatch.setattr("fedcore.grid.baselines.load_spec_dataset", no_rebuild)
    again = collect_results(grid_dir)
    cols = ["cell_id", "mean_client_rmse", "worst_rmse", "mean_client_r2", "fedavg_diff"]
    assert again[again["method"] == METHOD][cols].equals(first[first["method"] == METHOD][cols])
    monkeypatch.undo()
    cached[0].write_text("{not json")  # a damaged file is recomputed, not trusted
    repaired = collect_results(grid_dir)
    assert repaired[repaired["method"] == METHOD][cols].equals(
        first[first["method"] == METHOD][cols])
