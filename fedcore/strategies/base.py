"""The strategy contract: Flower's hook names over an explicit, immutable server state.

Every CFL method is a :class:`Strategy` subclass registered in
:data:`fedcore.strategies.STRATEGIES`. The single round step in :mod:`fedcore.rounds` calls,
each round::

    plan = strategy.configure_fit(server_round, state, ctx)          # who trains from which model
    out = ctx.engine.fit(start_weights, plan.clients, ...)           # one vectorised program
    state = strategy.aggregate_fit(server_round, state, plan, out, ctx)
    eplan = strategy.configure_evaluate(server_round, state, ctx)    # which model per client
    state, metrics = strategy.aggregate_evaluate(server_round, state, eplan, eval_out, ctx)

Hooks are pure in the state: they never modify the ``state`` they receive (nor its arrays or
dicts) and return a new one (:func:`dataclasses.replace`). A strategy's own memory is a small
frozen dataclass in ``state.private``; only the strategy reads it. What a strategy adds for the
dashboard (e.g. PACFL's principal angles) comes out through :meth:`Strategy.representations`.
Weights are flat float32 vectors (``ctx.engine.n_params`` long) so aggregation is numpy.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from ..params import Param, validate
from ..regression_metrics import primary_metric, task_of

if TYPE_CHECKING:
    from ..config import SimulationConfig
    from ..dataset import FederatedDataset
    from ..engine.protocol import Engine, FitOutput, Split
    from ..results import Representation


@dataclass(frozen=True)
class ServerState:
    """The server's whole memory between rounds (never modified in place).

    Attributes
    ----------
    models : dict of int to ndarray
        Cluster id -> flat model weights.
    assignments : ndarray of int, shape (n_clients,)
        Cluster id each client currently belongs to (and is evaluated with).
    private : frozen dataclass or None
        Strategy-private memory (CFL's norm scales, FedGroup's directions...); its class is
        defined next to the strategy and nothing else reads it.
    diagnostics : dict
        Diagnostics of the current round; the loop stores a copy each round.
    """

    models: dict[int, np.ndarray]
    assignments: np.ndarray
    private: Any = None
    diagnostics: dict = field(default_factory=dict)


@dataclass(frozen=True)
class FitPlan:
    """Which clients train this round, and from which cluster model each starts.

    Attributes
    ----------
    clients : ndarray of int
        Indices of the participating clients.
    start_keys : ndarray of int
        ``state.models`` key each participating client starts from (same length).
    diagnostics : dict
        What the strategy measured while configuring (IFCA's loss matrix); merged into the
        round's diagnostics.
    """

    clients: np.ndarray
    start_keys: np.ndarray
    diagnostics: dict = field(default_factory=dict)


@dataclass(frozen=True)
class EvaluatePlan:
    """Which clients are evaluated this round, with which model, on which split."""

    clients: np.ndarray
    model_keys: np.ndarray
    split: Split = "test"


@dataclass(frozen=True)
class EvaluateOutput:
    """Loss and primary metric of each client of an :class:`EvaluatePlan` (same order).

    ``score`` holds the task's primary metric: accuracy, or RMSE on a regression task
    (:func:`fedcore.regression_metrics.primary_metric`).
    """

    loss: np.ndarray
    score: np.ndarray


@dataclass
class SimulationContext:
    """What a strategy may use besides its state: the data, the engine, the run config.

    Attributes
    ----------
    dataset : FederatedDataset
    engine : Engine
        Already holds the dataset; use it for loss matrices (IFCA) or extra fits.
    config : SimulationConfig
    rng : numpy.random.Generator
        Seeded from ``config.seed``; the only randomness strategies may use.
    initial_weights : ndarray
        The seeded initial global model (flat).
    """

    dataset: FederatedDataset
    engine: Engine
    config: SimulationConfig
    rng: np.random.Generator
    initial_weights: np.ndarray

    @classmethod
    def create(cls, dataset: FederatedDataset, engine: Engine,
               config: SimulationConfig) -> SimulationContext:
        """The context of a run: strategy randomness seeded by ``(config.seed, 7)``."""
        return cls(dataset=dataset, engine=engine, config=config,
                   rng=np.random.default_rng([config.seed, 7]),
                   initial_weights=engine.initial_weights())


class Strategy:
    """Base class: FedAvg-like defaults that subclasses override hook by hook.

    Hyper-parameters are keyword arguments of ``__init__`` only (as in scikit-learn);
    :meth:`get_params` returns them for records and the UI.
    """

    name = "base"
    paper = ""
    #: Colour of the method in every figure (hex); None = a spare colour.
    color: str | None = None
    #: Hyper-parameters: name -> :class:`fedcore.params.Param` (the UI, CLI and grid use it).
    param_schema: dict[str, Param] = {}

    def __init__(self, **params):
        # Checked here, at construction: IFCA(n_clusters="banana") fails before any round.
        self.params = validate(self.param_schema, params, f"method '{self.name}'")

    def get_params(self) -> dict:
        return dict(self.params)

    # ---- hooks -------------------------------------------------------------------------
    def initialize(self, ctx: SimulationContext) -> ServerState:
        """The state before round 1 (default: one model, every client in cluster 0)."""
        n = ctx.dataset.n_clients
        return ServerState(models={0: ctx.initial_weights.copy()},
                           assignments=np.zeros(n, dtype=np.int64))

    def configure_fit(self, server_round: int, state: ServerState,
                      ctx: SimulationContext) -> FitPlan:
        """This round's participants and their start models (default: own cluster's model)."""
        clients = sample_clients(ctx)
        return FitPlan(clients=clients, start_keys=state.assignments[clients].copy())

    def aggregate_fit(self, server_round: int, state: ServerState, plan: FitPlan,
                      fit_out: FitOutput, ctx: SimulationContext) -> ServerState:
        """The state after training (default: FedAvg inside every start model's cluster)."""
        models = weighted_average_by_key(plan.start_keys, fit_out.weights,
                                         fit_out.num_examples, fit_out.finite,
                                         previous=state.models)
        return replace(state, models=models)

    def configure_evaluate(self, server_round: int, state: ServerState,
                           ctx: SimulationContext) -> EvaluatePlan:
        """Who is evaluated with which model (default: everybody, own cluster, test split)."""
        n = ctx.dataset.n_clients
        return EvaluatePlan(clients=np.arange(n), model_keys=state.assignments.copy())

    def aggregate_evaluate(self, server_round: int, state: ServerState, plan: EvaluatePlan,
                           eval_out: EvaluateOutput,
                           ctx: SimulationContext) -> tuple[ServerState, dict]:
        """The round's headline metrics: mean and worst client primary metric, mean finite
        loss (``mean_accuracy, worst_accuracy`` or, on a regression task, ``mean_rmse,
        worst_rmse`` where worst is the largest)."""
        return state, headline_metrics(eval_out, task_of(ctx.dataset))

    def representations(self, state: ServerState,
                        ctx: SimulationContext) -> dict[str, Representation]:
        """Client representations this strategy adds to a result (default: none)."""
        return {}


def headline_metrics(eval_out: EvaluateOutput, task: str) -> dict:
    """``mean_<metric>, worst_<metric>, mean_loss`` of one evaluation (see
    :meth:`Strategy.aggregate_evaluate`)."""
    metric = primary_metric(task)
    scores = np.asarray(eval_out.score, dtype=np.float64)
    some = not np.isnan(scores).all()
    mean = float(np.nanmean(scores)) if some else float("nan")
    worst = metric.worst(scores) if some else float("nan")
    return {f"mean_{metric.name}": mean, f"worst_{metric.name}": worst,
            "mean_loss": finite_mean(eval_out.loss)}


def finite_mean(values: np.ndarray) -> float:
    """Mean over the finite entries (NaN when there are none); diverged clients are reported
    separately, never averaged in."""
    values = np.asarray(values, dtype=np.float64)
    ok = np.isfinite(values)
    return float(values[ok].mean()) if ok.any() else float("nan")


def with_assignments(state: ServerState, clients: np.ndarray, keys: np.ndarray,
                     **changes) -> ServerState:
    """A new state whose ``assignments[clients]`` are ``keys`` (the input stays untouched)."""
    assignments = state.assignments.copy()
    assignments[np.asarray(clients, dtype=np.int64)] = keys
    return replace(state, assignments=assignments, **changes)


def sample_clients(ctx: SimulationContext) -> np.ndarray:
    """Indices of this round's participants (all, or a seeded fraction, at least one)."""
    n = ctx.dataset.n_clients
    frac = ctx.config.fraction_fit
    if frac >= 1.0:
        return np.arange(n)
    k = max(1, int(round(frac * n)))
    return np.sort(ctx.rng.choice(n, size=k, replace=False))


def weighted_average_by_key(keys: np.ndarray, weights: np.ndarray, num_examples: np.ndarray,
                            finite: np.ndarray, previous: dict[int, np.ndarray]) -> dict:
    """FedAvg within each key: ``sum_i n_i w_i / sum_i n_i`` over clients with that key.

    Clients whose local training diverged (``finite`` False) are excluded, not averaged in;
    a key with no usable client keeps its previous model. Returns a new dict.
    """
    models = dict(previous)
    for key in np.unique(keys):
        sel = (keys == key) & finite
        if not sel.any():
            continue
        n = num_examples[sel].astype(np.float64)
        # float32 matmul: a float64 copy of (clients x params) costs GBs at 1000 clients.
        share = (n / n.sum()).astype(np.float32)
        models[int(key)] = share @ weights[sel]
    return models
