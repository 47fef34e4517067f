"""Lockstep grid batches: many cells advanced round by round, ONE engine call per round.

The clients of different grid cells are just more rows of the stacked weights. A lockstep
batch runs every cell's round in the two public halves of :mod:`fedcore.rounds`::

    for each cell: state, plan = begin_round(strategy, state, ctx, r)   # its own seeds
    outputs = shared.fit_many([...every cell's plan...])                # ONE engine call
    for each cell: state, record = finish_round(..., plan, its output)  # its own hooks

Each cell keeps its own strategy, state, context (engine view on its own dataset, its own
initial model and seeds) and recorder, and its clients are blocked as they would be alone, so
its result is bit-identical to the run on its own (tested). The batch shares what cells have in
common: one engine and compiled program, each distinct dataset built and stored once, and no
per-client weight traces that the grid would not store. Cells whose model or local-training
settings differ cannot share a program: :func:`fedcore.grid.batches.plan_batches` puts them in
different batches. A cell that raises is reported as failed; the others go on.
"""

from __future__ import annotations

import json
import time
import traceback
from dataclasses import dataclass

from threadpoolctl import threadpool_limits

from ..errors import ConfigError
from ..representations import ClientTrace
from ..rounds import begin_round, finish_round
from ..simulation import RunRecorder, build_result
from ..strategies.base import SimulationContext


@dataclass
class _Cell:
    """One run inside a lockstep batch."""

    strategy: object
    ctx: SimulationContext
    state: object
    trace: ClientTrace
    recorder: RunRecorder
    error: str | None = None

    def fail(self) -> None:
        self.error = traceback.format_exc()


def simulate_lockstep(datasets: list, strategies: list, configs: list, shared=None,
                      max_representation_floats: int | None = None, on_round=None) -> list:
    """Simulate several runs together; one ``SimulationResult`` (or error text) per run.

    Parameters
    ----------
    datasets, strategies, configs : lists of equal length
        One (dataset, configured strategy, SimulationConfig) per run; every config must have
        the same ``model`` and ``fit``.
    shared : object with ``view(dataset, seed)`` and ``fit_many(requests, fit)``, optional
        Default: a :class:`~fedcore.engine.multi_cell.SharedEngine` over the datasets.
    max_representation_floats : int, optional
        Do not record per-client weights/updates larger than this (see ``ClientTrace``).
    on_round : callable, optional
        ``on_round(rounds done, rounds in the batch)`` after every lockstep round (progress).
    """
    if len({(c.model, c.fit) for c in configs}) > 1:
        raise ConfigError("a lockstep batch needs one model and one local-training setting")
    with threadpool_limits(limits=1, user_api="blas"):  # see fedcore.simulation.run_simulation
        return _simulate(datasets, strategies, configs, shared, max_representation_floats,
                         on_round)


def _attempt(cell: _Cell, step) -> bool:
    """Run ``step()`` for a cell; a raising cell is marked failed, the batch goes on."""
    try:
        step()
        return True
    except Exception:  # noqa: BLE001 - reported for this cell only
        cell.fail()
        return False


def _start(dataset, strategy, config, shared, max_floats) -> _Cell:
    engine = shared.view(dataset, config.seed)
    ctx = SimulationContext.create(dataset, engine, config)
    cell = _Cell(strategy, ctx, None,
                 ClientTrace(dataset.n_clients, engine.n_params, engine.last_layer_slice(),
                             seed=config.seed, max_floats=max_floats),
                 RunRecorder(dataset))

    def init():
        cell.state = strategy.initialize(ctx)

    _attempt(cell, init)
    return cell


def _round(cells: list[_Cell], r: int, shared, fit) -> bool:
    """One lockstep round of every live cell; False when no cell is left."""
    from ..engine.multi_cell import FitRequest
    active, plans = [], []
    for cell in cells:
        if cell.error is not None or r > cell.ctx.config.rounds:
            continue

        def begin(cell=cell):
            cell.state, plan = begin_round(cell.strategy, cell.state, cell.ctx, r)
            plans.append(plan)

        if _attempt(cell, begin):
            active.append(cell)
    if not active:
        return False
    outputs = shared.fit_many(
        [FitRequest(c.ctx.engine, p.start, p.fit.clients, p.round_seed, p.fit.start_keys)
         for c, p in zip(active, plans)], fit)
    for cell, plan, out in zip(active, plans, outputs):

        def finish(cell=cell, plan=plan, out=out):
            cell.state, record = finish_round(cell.strategy, cell.state, cell.ctx, r, plan, out)
            cell.trace.record(plan.fit.clients, plan.start, out)
            cell.recorder.add(record)

        _attempt(cell, finish)
    return True


def _simulate(datasets, strategies, configs, shared, max_floats, on_round) -> list:
    if shared is None:
        from ..engine.multi_cell import SharedEngine
        shared = SharedEngine(datasets, configs[0].model,
                              loss=configs[0].fit.loss_for(datasets[0].task))
    t0 = time.perf_counter()
    cells = [_start(d, s, c, shared, max_floats)
             for d, s, c in zip(datasets, strategies, configs)]
    n_rounds = max(c.rounds for c in configs)
    for r in range(1, n_rounds + 1):
        if not _round(cells, r, shared, configs[0].fit):
            break
        if on_round is not None:
            on_round(r, n_rounds)
    # Wall time is shared: each cell is charged an equal part of the batch.
    share = (time.perf_counter() - t0) / max(len(cells), 1)
    results = []
    for cell in cells:
        built = []
        if cell.error is None:
            _attempt(cell, lambda cell=cell, built=built: built.append(build_result(
                cell.strategy, cell.state, cell.ctx, cell.recorder, cell.trace, share)))
        results.append(built[0] if built else cell.error)
    return results


def run_specs_lockstep(spec_dicts: list[dict], max_representation_floats: int | None = None,
                       on_round=None) -> list:
    """The real grid backend for a batch: ``(spec, summary, result)`` or error text per spec.

    Cells of one batch that use the same data (same scenario and data seed) share one
    dataset and its rows in the engine. With ``max_representation_floats`` (what the grid
    stores), per-client weight and update representations larger than that are not recorded
    at all (the store would drop them). ``on_round`` as in :func:`simulate_lockstep`.
    """
    from ..runner import ExperimentSpec, load_base_dataset, prepare_experiment, summary_dict
    specs = [ExperimentSpec.from_dict(d) for d in spec_dicts]
    datasets, bases, views, out = [], {}, {}, [None] * len(specs)
    strategies, runnable = [], []
    for i, spec in enumerate(specs):
        # The same preparation as a run alone (K mode, validation view); cells that train on
        # the same data share one dataset object, so its rows are stored once in the engine.
        base_key = json.dumps([spec.data, spec.scenario, spec.n_clients, spec.n_groups,
                               spec.samples_per_client, spec.data_seed, spec.scenario_params,
                               spec.standardisation], sort_keys=True, default=str)
        view_key = json.dumps([base_key, spec.validation_fraction])
        try:
            if base_key not in bases:
                bases[base_key] = load_base_dataset(spec)
            dataset, strategy = prepare_experiment(spec, bases[base_key])
        except Exception:  # noqa: BLE001 - this cell fails, the batch goes on
            out[i] = traceback.format_exc()
            continue
        datasets.append(views.setdefault(view_key, dataset))
        strategies.append(strategy)
        runnable.append(i)
    if runnable:
        results = simulate_lockstep(datasets, strategies, [specs[i].config for i in runnable],
                                    max_representation_floats=max_representation_floats,
                                    on_round=on_round)
        for i, dataset, result in zip(runnable, datasets, results):
            out[i] = result if isinstance(result, str) else (
                specs[i].to_dict(), summary_dict(specs[i], dataset, result), result)
    return out
