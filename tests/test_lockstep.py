"""Lockstep grid batches equal the cells run on their own; shared programs; batch planning."""

from __future__ import annotations

import numpy as np
import pytest

from fedcore.config import FitConfig, ModelSpec, SimulationConfig
from fedcore.engine.multi_cell import FitRequest, SharedEngine
from fedcore.grid.batches import plan_batches
from fedcore.grid.lockstep import run_specs_lockstep, simulate_lockstep
from fedcore.grid.spec import GridSpec
from fedcore.runner import ExperimentSpec, load_spec_dataset, make_strategy
from fedcore.simulation import run_simulation


def _grid(**kw) -> GridSpec:
    args = {"data": "digits", "scenarios": ["rotation", "label-swap"],
            "methods": ["fedavg", "ifca", "cfl", "local"], "seeds": [0, 1], "n_clients": 6,
            "n_groups": 2, "samples_per_client": 24,
            "config": SimulationConfig(rounds=4, model=ModelSpec("mlp", (8,)),
                                       fit=FitConfig(batch_size=8, lr=0.1)).to_dict()}
    args.update(kw)
    return GridSpec(**args)


def _assert_same(alone, batched):
    np.testing.assert_array_equal(alone.assignment_history, batched.assignment_history)
    for col in ("mean_accuracy", "worst_accuracy", "mean_loss", "train_loss", "n_clusters"):
        np.testing.assert_allclose(batched.rounds[col], alone.rounds[col], rtol=0, atol=1e-6,
                                   err_msg=col)
    np.testing.assert_allclose(batched.client_metrics["accuracy"],
                               alone.client_metrics["accuracy"], atol=1e-6)
    for key, model in alone.models.items():
        np.testing.assert_allclose(batched.models[key], model, atol=1e-5)
    assert batched.errors == alone.errors
    assert set(batched.representations) == set(alone.representations)


def test_lockstep_batch_equals_each_cell_alone():
    specs = [ExperimentSpec.from_dict(c.spec) for c in _grid().cells()]
    datasets = [load_spec_dataset(s) for s in specs]
    alone = [run_simulation(d, make_strategy(s.method, s.method_params), s.config)
             for s, d in zip(specs, datasets)]
    batched = simulate_lockstep(datasets, [make_strategy(s.method, s.method_params)
                                           for s in specs], [s.config for s in specs])
    for a, b in zip(alone, batched):
        _assert_same(a, b)
    # the cells of one (scenario, seed) share their data rows in the engine
    assert len(SharedEngine(datasets, specs[0].config.model)._offsets) - 1 == 4


def test_client_order_and_result_do_not_depend_on_the_batch():
    """A client's batches come from its own run's seed and index, not its row in the batch."""
    specs = [ExperimentSpec.from_dict(c.spec) for c in _grid(methods=["fedavg"]).cells()]
    datasets = [load_spec_dataset(s) for s in specs]
    shared = SharedEngine(datasets, specs[0].config.model)
    views = [shared.view(d, s.config.seed) for s, d in zip(specs, datasets)]
    fit = specs[0].config.fit
    requests = [FitRequest(v, np.broadcast_to(v.initial_weights(), (6, v.n_params)),
                           np.arange(6), 10 + i) for i, v in enumerate(views)]
    together = shared.fit_many(requests, fit)
    # each cell's clients run in blocks shaped as on their own: bit-identical arithmetic
    for req, out in zip(requests, together):
        alone = req.cell.fit(req.start, req.clients, fit, req.round_seed)
        np.testing.assert_array_equal(out.weights, alone.weights)
    reversed_ = shared.fit_many(requests[::-1], fit)[::-1]
    for a, b in zip(together, reversed_):
        np.testing.assert_array_equal(a.weights, b.weights)


def test_failing_cell_does_not_stop_the_batch():
    cells = _grid(methods=["fedavg", "ifca"], seeds=[0], scenarios=["rotation"]).cells()
    specs = [c.spec for c in cells]
    specs[1] = dict(specs[1], method="no-such-method")
    out = run_specs_lockstep(specs)
    assert isinstance(out[1], str) and "no-such-method" in out[1]
    spec, summary, result = out[0]
    assert summary["method"] == "fedavg" and len(result.rounds) == 4


def test_plan_batches_groups_by_model_and_fit():
    cells = _grid().cells() + _grid(config=SimulationConfig(rounds=4, fit=FitConfig(lr=0.2))
                                    .to_dict()).cells()
    batches = plan_batches(cells, 5)
    assert sum(len(b) for b in batches) == len(cells)
    for batch in batches:
        assert len(batch) <= 5
        assert len({str(c.spec["config"]["fit"]) for c in batch}) == 1
    auto = plan_batches(cells, None, workers=2)
    assert len(auto) == 4  # two settings, at least one batch per worker each
    with pytest.raises(Exception, match="lockstep"):
        simulate_lockstep([None, None], [None, None],
                          [SimulationConfig(), SimulationConfig(fit=FitConfig(lr=0.3))])


def test_batch_cells_option_reaches_the_executor(tmp_path):
    from fedcore.cli import build_parser
    from fedcore.errors import ConfigError
    from fedcore.grid import run_cells
    args = build_parser().parse_args(["grid", "--data", "digits", "--methods", "fedavg",
                                      "--batch-cells", "3", "--out", str(tmp_path)])
    assert args.batch_cells == 3
    with pytest.raises(ConfigError, match="batch-cells"):
        run_cells(_grid().cells(), tmp_path, workers=0, batch_cells=0)


def test_lockstep_prepares_each_spec_as_a_run_alone():
    """K mode, validation view and standardisation reach a batched cell exactly as they reach
    `run_experiment` (a batch once ran every k-based method with its default K)."""
    from fedcore.runner import run_experiment

    grid = _grid(methods=["flhc", "ifca"], seeds=[0], scenarios=["rotation"],
                 k_modes=["given", "estimated"], tune_seeds=[100])
    cells = [c.spec for c in grid.cells()] + [c.spec for c in grid.tuning_cells()]
    assert {c.get("k_mode") for c in cells} == {"given", "estimated"}
    assert any(c.get("validation_fraction") for c in cells)
    batched = run_specs_lockstep(cells)
    for spec_dict, out in zip(cells, batched):
        assert not isinstance(out, str), out
        spec = ExperimentSpec.from_dict(spec_dict)
        dataset, alone = run_experiment(spec)
        _, _, result = out
        assert result.params == alone.params, spec_dict
        assert result.dataset_fingerprint == dataset.fingerprint()
        _assert_same(alone, result)
        if spec.k_mode == "estimated":
            assert result.params["estimate_k"] is True
        else:
            assert result.params["n_clusters"] == 2 and not result.params["estimate_k"]
