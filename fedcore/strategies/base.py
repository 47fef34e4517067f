"""The strategy contract: Flower's hook names over an explicit server state.

Every CFL method is a :class:`Strategy` subclass registered in
:data:`fedcore.strategies.STRATEGIES`. The single round loop in
:mod:`fedcore.simulation` calls, each round::

    plan = strategy.configure_fit(server_round, state, ctx)      # who trains from which model
    out = ctx.engine.fit(start_weights, plan.clients, ...)       # one vectorised program
    state = strategy.aggregate_fit(server_round, state, plan, out, ctx)

and evaluates every client with ``state.models[state.assignments[i]]``.
Weights are flat float32 vectors (``ctx.engine.n_params`` long) so aggregation is numpy.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..params import Param, validate


@dataclass
class ServerState:
    """The server's whole memory between rounds.

    Attributes
    ----------
    models : dict of int to ndarray
        Cluster id -> flat model weights.
    assignments : ndarray of int, shape (n_clients,)
        Cluster id each client currently belongs to (and is evaluated with).
    extra : dict
        Strategy-private state (CFL's split bookkeeping, momentum...).
    diagnostics : dict
        Diagnostics of the current round; the loop stores a copy each round.
    """

    models: dict[int, np.ndarray]
    assignments: np.ndarray
    extra: dict = field(default_factory=dict)
    diagnostics: dict = field(default_factory=dict)


@dataclass
class FitPlan:
    """Which clients train this round, and from which cluster model each starts.

    Attributes
    ----------
    clients : ndarray of int
        Indices of the participating clients.
    start_keys : ndarray of int
        ``state.models`` key each participating client starts from (same length).
    """

    clients: np.ndarray
    start_keys: np.ndarray


@dataclass
class SimulationContext:
    """What a strategy may use besides its state: the data, the engine, the run config.

    Attributes
    ----------
    dataset : FederatedDataset
    engine : fedcore.engine.VectorisedEngine
        Already holds the dataset; use it for loss matrices (IFCA) or extra fits.
    config : SimulationConfig
    rng : numpy.random.Generator
        Seeded from ``config.seed``; the only randomness strategies may use.
    initial_weights : ndarray
        The seeded initial global model (flat).
    """

    dataset: object
    engine: object
    config: object
    rng: np.random.Generator
    initial_weights: np.ndarray


class Strategy:
    """Base class: FedAvg-like defaults that subclasses override hook by hook.

    Hyper-parameters are keyword arguments of ``__init__`` only (as in scikit-learn);
    :meth:`get_params` returns them for records and the UI.
    """

    name = "base"
    paper = ""
    #: Hyper-parameters: name -> :class:`fedcore.params.Param` (the UI, CLI and grid use it).
    param_schema: dict[str, Param] = {}

    def __init__(self, **params):
        # Checked here, at construction: IFCA(n_clusters="banana") fails before any round.
        self.params = validate(self.param_schema, params, f"method '{self.name}'")

    def get_params(self) -> dict:
        return dict(self.params)

    # ---- hooks -------------------------------------------------------------------------
    def initialize(self, ctx: SimulationContext) -> ServerState:
        n = ctx.dataset.n_clients
        return ServerState(models={0: ctx.initial_weights.copy()},
                           assignments=np.zeros(n, dtype=np.int64))

    def configure_fit(self, server_round: int, state: ServerState,
                      ctx: SimulationContext) -> FitPlan:
        clients = sample_clients(ctx)
        return FitPlan(clients=clients, start_keys=state.assignments[clients].copy())

    def aggregate_fit(self, server_round: int, state: ServerState, plan: FitPlan,
                      fit_out, ctx: SimulationContext) -> ServerState:
        state.models = weighted_average_by_key(plan.start_keys, fit_out.weights,
                                               fit_out.num_examples, fit_out.finite,
                                               previous=state.models)
        return state


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
    a key with no usable client keeps its previous model.
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
