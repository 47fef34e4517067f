"""Round-by-round grid progress: lockstep batches report every round to the driver."""

from __future__ import annotations

import io

import pytest
from test_store import fake_run_spec

from fedcore.grid import GridSpec, run_cells
from fedcore.grid.round_progress import CounterProgress, GridShare

ROUNDS = 3


def fake_batch_backend(spec: dict):
    return fake_run_spec(spec)


def _fake_batch(spec_dicts, max_representation_floats=None, on_round=None):
    """A lockstep stand-in: reports ROUNDS rounds, then the fake results of its cells."""
    for r in range(1, ROUNDS + 1):
        if on_round is not None:
            on_round(r, ROUNDS)
    return [fake_run_spec(s) for s in spec_dicts]


fake_batch_backend.batch = _fake_batch
BACKEND = "test_grid_progress:fake_batch_backend"


def _grid() -> GridSpec:
    return GridSpec(data="digits", scenarios=["rotation", "label-swap"],
                    methods=["fedavg", "ifca"], seeds=[0], n_clients=6, n_groups=2,
                    samples_per_client=20)


def _check(calls: list, n_cells: int, n_batches: int) -> None:
    rounds = [c for c in calls if c[4] == ""]
    cells = [c for c in calls if c[4] != ""]
    assert len(rounds) == n_batches * ROUNDS and len(cells) == n_cells
    fractions = [c[6] for c in calls]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    # Progress moves before the first cell is stored: the point of round reports. (A batch
    # writes its reports before its results, so the driver reads them first.)
    assert calls[0][4] == "" and calls[0][0] == 0 and 0 < calls[0][6] < 1


@pytest.mark.parametrize("workers", [0, 2])
def test_batches_report_every_round_before_their_cells(tmp_path, workers):
    calls = []
    report = run_cells(_grid().cells(), tmp_path, workers=workers, backend=BACKEND,
                       batch_cells=2, progress=lambda *a: calls.append(a))
    assert report.computed == 4 and not report.failed
    _check(calls, n_cells=4, n_batches=2)


def test_grid_share_counts_running_rounds_and_finished_cells():
    share = GridShare(total=10, skipped=2, batches=[["a", "b", "c", "d"], ["e", "f", "g", "h"]])
    assert share.fraction == pytest.approx(0.2)
    share.round(0, 1, 4)  # batch 0: a quarter of its rounds, 4 open cells -> 1 cell's worth
    assert share.fraction == pytest.approx(0.3)
    share.round(0, 4, 4)
    for cid in "abcd":
        share.cell(cid)
    share.round(0, 2, 4)  # a late report of a finished batch changes nothing
    assert share.fraction == pytest.approx(0.6)
    share.round(5, 1, 1)  # an unknown batch is ignored
    assert share.fraction == pytest.approx(0.6)


def test_counter_progress_logs_rounds_in_steps_and_every_cell():
    out = io.StringIO()
    counter = CounterProgress(stream=out)
    for k in range(1, 21):  # 20 round reports, 5% each
        counter(0, 4, 0, 0, "", 0.0, k / 20 * 0.5)
    counter(4, 4, 0, 0, "rotation__fedavg__seed0", 1.5, 1.0)
    lines = out.getvalue().splitlines()
    assert len(lines) == 6  # every 10% of the rounds, then the stored cell
    assert lines[-1].startswith("[grid] 4/4 done (100% of all rounds)")
    assert "last rotation__fedavg__seed0 (1.5 s)" in lines[-1]


def test_a_real_cell_alone_reports_its_rounds(tmp_path):
    from fedcore.config import ModelSpec, SimulationConfig
    grid = GridSpec(data="digits", scenarios=["rotation"], methods=["fedavg"], seeds=[0],
                    n_clients=4, n_groups=2, samples_per_client=24,
                    config=SimulationConfig(rounds=3, model=ModelSpec("logreg", ())).to_dict())
    calls = []
    report = run_cells(grid.cells(), tmp_path, workers=0, progress=lambda *a: calls.append(a))
    assert report.computed == 1 and not report.failed
    assert [round(c[6], 3) for c in calls] == [0.333, 0.667, 1.0, 1.0]
    assert [c[4] == "" for c in calls] == [True, True, True, False]
