"""One experiment end to end: dataset + scenario + method + config -> result + summary.

Shared by the CLI (``run``, ``grid``), the dashboard and the reproducibility bundle, so that a
number seen anywhere can be re-created from its :class:`ExperimentSpec` alone.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from .config import SimulationConfig
from .errors import ConfigError


@dataclass
class ExperimentSpec:
    """Everything that determines a run's numbers.

    ``data_seed`` drives the data split/scenario; ``config.seed`` drives model initialisation,
    client sampling and local shuffling — two separate settings.

    ``k_mode`` ("given" / "estimated", :mod:`fedcore.kmode`) tells a method that needs K
    where K comes from; ``standardisation`` how features are standardised
    (:func:`fedcore.partition.federate.standardise_parts`); ``validation_fraction`` > 0
    makes a tuning run: train on the rest of each client's train split, evaluate on that
    fraction of it (:func:`fedcore.partition.holdout.validation_view`; no test data).
    """

    data: str
    method: str
    scenario: str | None = None
    n_clients: int = 20
    n_groups: int = 4
    samples_per_client: int = 100
    data_seed: int = 0
    scenario_params: dict = field(default_factory=dict)
    method_params: dict = field(default_factory=dict)
    config: SimulationConfig = field(default_factory=SimulationConfig)
    k_mode: str | None = None
    standardisation: str = "auto"
    validation_fraction: float = 0.0

    def validate(self) -> ExperimentSpec:
        """Check the method, the scenario and their parameters (one ConfigError line).

        Values are only checked, not rewritten: the spec keeps what the user chose.
        """
        from .kmode import check_k_mode
        from .partition.federate import STANDARDISATIONS
        from .registries import check_overrides
        check_overrides("method", self.method, self.method_params)
        check_overrides("scenario", self.scenario, self.scenario_params)
        check_k_mode(self.method, self.k_mode, self.method_params)
        if self.standardisation not in STANDARDISATIONS:
            raise ConfigError(f"standardisation must be one of {', '.join(STANDARDISATIONS)}"
                              f", not {self.standardisation!r}")
        if not 0.0 <= float(self.validation_fraction) < 1.0:
            raise ConfigError("validation fraction must be in [0, 1), got "
                              f"{self.validation_fraction}")
        return self

    def to_dict(self) -> dict:
        d = asdict(self)
        d["config"] = self.config.to_dict()
        return d

    @classmethod
    def from_dict(cls, d: dict) -> ExperimentSpec:
        d = dict(d)
        config = SimulationConfig.from_dict(d.pop("config", {}))
        return cls(config=config, **d)


def load_base_dataset(spec: ExperimentSpec):
    """The FederatedDataset a spec's data and scenario describe (before any validation
    view)."""
    from .data import resolve_dataset
    return resolve_dataset(spec.data, scenario=spec.scenario, n_clients=spec.n_clients,
                           n_groups=spec.n_groups, samples_per_client=spec.samples_per_client,
                           seed=spec.data_seed, standardisation=spec.standardisation,
                           **spec.scenario_params)


def training_view(spec: ExperimentSpec, dataset):
    """What the run trains and evaluates on: ``dataset``, or its validation view."""
    if not spec.validation_fraction:
        return dataset
    from .partition.holdout import validation_view
    return validation_view(dataset, spec.validation_fraction, spec.data_seed)


def load_spec_dataset(spec: ExperimentSpec):
    """The FederatedDataset a spec's run used (bundled name or file path + scenario)."""
    return training_view(spec, load_base_dataset(spec))


def make_strategy(method: str, params: dict):
    """Instantiate a registered strategy, with a clear error for unknown names."""
    from .strategies import STRATEGIES
    if method not in STRATEGIES:
        raise ConfigError(f"unknown method {method!r}; choose from {', '.join(STRATEGIES)}")
    return STRATEGIES[method](**params)


def prepare_experiment(spec: ExperimentSpec, dataset=None):
    """The dataset a spec's run trains on and its configured strategy.

    ``dataset`` (optional) is the spec's full dataset; the K mode reads its true groups,
    then a tuning spec replaces it by its validation view (no test data, no true groups).
    Every way of running a spec (one run, a grid cell, a lockstep batch) goes through here.

    Returns
    -------
    (FederatedDataset, Strategy)
    """
    from .kmode import apply_k_mode
    dataset = dataset if dataset is not None else load_base_dataset(spec)
    params = apply_k_mode(spec.method, spec.method_params, spec.k_mode, dataset.true_groups)
    strategy = make_strategy(spec.method, params)
    return training_view(spec, dataset), strategy


def run_experiment(spec: ExperimentSpec, progress=None, dataset=None):
    """Build the dataset (unless given) and simulate the spec's method on it
    (see :func:`prepare_experiment`).

    Returns
    -------
    (FederatedDataset, SimulationResult)
        The dataset the run used and its result.
    """
    from .simulation import run_simulation
    dataset, strategy = prepare_experiment(spec, dataset)
    return dataset, run_simulation(dataset, strategy, spec.config, progress=progress)


def _json_float(x) -> float | None:
    x = float(x)
    return x if np.isfinite(x) else None


def summary_dict(spec: ExperimentSpec, dataset, result) -> dict:
    """The JSON-ready summary of a run (``summary.json``).

    A classification run reports ``mean_client_accuracy, worst_client_accuracy`` and
    ``client_accuracy``; a regression run ``mean_client_rmse, worst_client_rmse,
    mean_client_mae, mean_client_r2`` and ``client_rmse, client_mae, client_r2``. Both say
    their ``task`` and ``primary_metric``.
    """
    from .data_cache import dataset_fingerprint
    from .metrics import run_summary, score_columns
    from .provenance import package_versions

    truth = result.true_groups
    headline = run_summary(result)
    # The primary metric first (its mean and worst), then the task's other client scores.
    primary, *extras = score_columns(headline["task"])
    scores = {key: _json_float(headline[key]) for key in (
        f"mean_client_{primary}", f"worst_client_{primary}",
        *(f"mean_client_{e}" for e in extras))}
    per_client = {f"client_{m}": {c: _json_float(v) for c, v in zip(
        result.client_ids, result.client_metrics[m].to_numpy(dtype=float))}
        for m in (primary, *extras)}
    return {
        "method": result.method,
        "params": result.params,
        "data": spec.data,
        "scenario": spec.scenario,
        "n_clients": result.n_clients,
        "task": headline["task"],
        "primary_metric": headline["primary_metric"],
        "ari": headline["ari"],
        **scores,
        "n_clusters": headline["n_clusters"],
        "estimated_k": headline["estimated_k"],
        "assignments": {c: int(a) for c, a in zip(result.client_ids, result.assignments)},
        "true_groups": None if truth is None else
        {c: int(g) for c, g in zip(result.client_ids, truth)},
        **per_client,
        "rounds": [{k: (_json_float(v) if isinstance(v, float) else v) for k, v in row.items()}
                   for row in result.rounds.to_dict(orient="records")],
        "errors": list(result.errors),
        "wall_seconds": result.wall_seconds,
        "config": result.config,
        "seeds": {"data_seed": spec.data_seed, "model_seed": spec.config.seed},
        "spec": spec.to_dict(),
        "versions": package_versions(),
        "dataset_fingerprint": dataset_fingerprint(dataset),  # hashed once per dataset
    }
