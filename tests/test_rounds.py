"""The round step (fedcore.rounds), the engine protocol and the purity of strategy hooks."""

from __future__ import annotations

import copy
import subprocess
import sys

import numpy as np
import pytest
from fake_engine import FakeEngine, make_context, run_rounds, tiny_dataset, two_group_dataset

from fedcore.config import SimulationConfig
from fedcore.engine.protocol import Engine
from fedcore.rounds import begin_round, finish_round, run_round
from fedcore.simulation import run_simulation
from fedcore.strategies import STRATEGIES

HOOKS = ("configure_fit", "aggregate_fit", "configure_evaluate", "aggregate_evaluate",
         "representations")


def strategy_params(cls) -> dict:
    return {"n_clusters": 2} if "n_clusters" in cls.param_schema else {}


def test_core_loop_and_protocol_import_without_tensorflow():
    code = ("import sys, fedcore.engine.protocol, fedcore.simulation, fedcore.rounds, "
            "fedcore.strategies; print('tensorflow' in sys.modules, 'keras' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.split() == ["False", "False"]


def test_fake_engine_implements_the_protocol_and_honours_the_split():
    ds, engine = two_group_dataset()
    assert isinstance(engine, Engine)
    models = engine.targets[:2].astype(np.float32)
    train, _ = engine.evaluate_matrix(models, split="train")
    test, _ = engine.evaluate_matrix(models, split="test")
    assert train.shape == test.shape == (2, ds.n_clients)
    assert not np.allclose(train, test)
    assert train[0, 0] == pytest.approx(0.0)  # model 0 is client 0's training target
    own_train, _ = engine.evaluate_own(models, [0, 1], split="train")
    np.testing.assert_allclose(own_train, [train[0, 0], train[1, 1]])
    with pytest.raises(ValueError, match="split"):
        engine.evaluate_matrix(models, split="validation")


def test_run_round_is_begin_fit_finish_and_halves_interleave_like_lockstep():
    """Two runs advanced half-round by half-round give the numbers of each run alone."""
    def setup():
        ds, engine = two_group_dataset()
        ctx = make_context(engine, dataset=ds, seed=3, fraction_fit=0.5)
        strategy = STRATEGIES["ifca"](n_clusters=2)
        return strategy, ctx, strategy.initialize(ctx)

    alone = []
    for _ in range(2):
        strategy, ctx, state = setup()
        records = []
        for r in (1, 2, 3):
            state, rec = run_round(strategy, state, ctx, r)
            records.append(rec)
        alone.append(records)
    cells = [setup(), setup()]
    states = [c[2] for c in cells]
    for r in (1, 2, 3):
        plans = []
        for i, (strategy, ctx, _) in enumerate(cells):
            states[i], plan = begin_round(strategy, states[i], ctx, r)
            plans.append(plan)
        outs = [ctx.engine.fit(p.start, p.fit.clients, ctx.config.fit, p.round_seed)
                for (_, ctx, _), p in zip(cells, plans)]
        for i, (strategy, ctx, _) in enumerate(cells):
            states[i], rec = finish_round(strategy, states[i], ctx, r, plans[i], outs[i])
            np.testing.assert_array_equal(rec.assignments, alone[i][r - 1].assignments)
            np.testing.assert_array_equal(rec.loss, alone[i][r - 1].loss)
            assert rec.metrics["mean_accuracy"] == alone[i][r - 1].metrics["mean_accuracy"]


def test_round_record_metrics_use_the_test_split_and_reset_diagnostics():
    ds, engine = two_group_dataset()
    ctx = make_context(engine, dataset=ds)
    strategy = STRATEGIES["ifca"](n_clusters=2)
    state, hist = run_rounds(strategy, ctx, 2)
    rec = hist[-1]["record"]
    loss, acc = engine.evaluate_matrix(np.stack([state.models[k] for k in sorted(state.models)]),
                                       split="test")
    rows = np.searchsorted(sorted(state.models), state.assignments)
    np.testing.assert_allclose(rec.loss, loss[rows, np.arange(ds.n_clients)])
    assert rec.metrics["mean_accuracy"] == pytest.approx(acc[rows, np.arange(6)].mean())
    assert list(rec.metrics) == ["round", "mean_accuracy", "worst_accuracy", "mean_loss",
                                 "train_loss", "n_clusters", "n_nonfinite", "seconds"]
    assert rec.diagnostics["round"] == 2 and "loss_matrix" in rec.diagnostics
    assert state.diagnostics == {}  # IFCA reports through its plan, not through the state


class PurityChecker:
    """Wraps a strategy; every hook must leave the state it receives exactly as it was."""

    def __init__(self, strategy):
        self.inner = strategy
        self.name, self.calls = strategy.name, []

    def get_params(self):
        return self.inner.get_params()

    def initialize(self, ctx):
        return self.inner.initialize(ctx)

    def __getattr__(self, hook):
        if hook not in HOOKS:
            raise AttributeError(hook)

        def checked(*args):
            state = next(a for a in args if type(a).__name__ == "ServerState")
            snapshot = copy.deepcopy(state)
            out = getattr(self.inner, hook)(*args)
            assert_same_state(state, snapshot, f"{self.name}.{hook}")
            self.calls.append(hook)
            return out

        return checked


def assert_same_state(state, snapshot, where):
    assert state.models.keys() == snapshot.models.keys(), where
    for k in state.models:
        np.testing.assert_array_equal(state.models[k], snapshot.models[k], err_msg=where)
    np.testing.assert_array_equal(state.assignments, snapshot.assignments, err_msg=where)
    assert repr(state.private) == repr(snapshot.private), where
    assert repr(state.diagnostics) == repr(snapshot.diagnostics), where


@pytest.mark.parametrize("name", list(STRATEGIES))
def test_hooks_never_modify_the_state_they_receive(name):
    ds, engine = two_group_dataset(n_per_group=4)
    engine.diverged = {5}
    cls = STRATEGIES[name]
    params = {**strategy_params(cls), **({"warmup_rounds": 1} if "warmup_rounds"
                                         in cls.param_schema else {})}
    checker = PurityChecker(cls(**params))
    config = SimulationConfig(rounds=4, fraction_fit=0.75)
    result = run_simulation(ds, checker, config, engine=engine)
    assert set(HOOKS) <= set(checker.calls)
    assert len(result.rounds) == 4


def test_private_state_is_a_frozen_dataclass_or_none():
    import dataclasses
    xs = [np.random.default_rng(i).normal(size=(12, 4)).astype(np.float32) for i in range(6)]
    ys = [np.arange(12) % 2 for _ in range(6)]
    ds = tiny_dataset(6, xs, ys, true_groups=np.repeat([0, 1], 3))
    engine = FakeEngine(targets=np.random.default_rng(0).normal(size=(6, 3)))
    for name, cls in STRATEGIES.items():
        state = cls(**strategy_params(cls)).initialize(make_context(engine, dataset=ds))
        private = state.private
        assert private is None or (dataclasses.is_dataclass(private)
                                   and type(private).__dataclass_params__.frozen), name
        assert dataclasses.is_dataclass(state) and type(state).__dataclass_params__.frozen
