"""Heterogeneity scenarios: turn a pooled dataset into clients with a known true grouping.

``SCENARIOS`` maps a name to a :class:`~fedcore.partition.base.Scenario`; the UI builds its
parameter widgets from ``Scenario.params``. :func:`make_scenario` is the one entry point;
:func:`partition_indices` exposes the index-level split for tests and research code.

Same seed, same arrays: every random step draws from ``numpy.random.default_rng([seed, k])``
with a fixed stream ``k`` per step (0 partition, 1 train/test split, 2 group transforms'
parameters, 3 per-sample noise).
"""

from __future__ import annotations

import numpy as np

from ..dataset import FederatedDataset, PooledData
from ..errors import ConfigError
from ..params import Param
from . import feature_shift, forecasting, label_skew, natural
from .base import Scenario
from .federate import check_test_fraction, federate, stratified_split

__all__ = ["SCENARIOS", "Scenario", "make_scenario", "partition_indices", "federate",
           "stratified_split"]


SCENARIOS: dict[str, Scenario] = {s.name: s for s in [
    Scenario("iid", "Uniform random samples: every client has the same distribution "
             "(one true group; the no-heterogeneity baseline).", {}, label_skew.iid),
    Scenario("dirichlet", "Label skew: each group draws class proportions from "
             "Dirichlet(alpha); small alpha = few classes per client.",
             {"alpha": Param(float, 0.5, 0.01, 100.0, help="Dirichlet concentration; lower is "
                          "more skewed"),
              "per_client": Param(bool, False, help="Draw proportions per client "
                               "instead of per group (then there are no true groups)")},
             label_skew.dirichlet, tasks=("classification",)),
    Scenario("label-skew", "Each group owns a block of classes that dominates its "
             "clients' data.",
             {"dominant_fraction": Param(float, 0.8, 0.0, 1.0, help="Share of each client's "
                                      "samples taken from its group's classes")},
             label_skew.label_skew, tasks=("classification",)),
    Scenario("quantity-skew", "Groups differ only in how many samples their clients "
             "hold (sizes shrink geometrically by group); labels are IID.",
             {"ratio": Param(float, 0.5, 0.05, 1.0, help="Size of group g is "
                          "samples_per_client x ratio^g")},
             label_skew.quantity_skew),
    Scenario("feature-skew", "Covariate shift per group: images get thicker/thinner "
             "strokes (dilation/erosion), tabular features a per-group shift; group 0 "
             "is unchanged.",
             {"strength": Param(float, 1.0, 0.0, 10.0, help="Images: window growth; tabular: "
                             "shift in standard deviations"),
              "noise": Param(float, 0.0, 0.0, 5.0, help="Gaussian noise std of the last group "
                          "(grows linearly from 0 for group 0)")},
             label_skew.grouped_iid, feature_shift.feature_skew),
    Scenario("rotation", "Concept shift on features: images rotated by 360*g/groups "
             "degrees (0/90/180/270 for 4 groups), tabular features by a random "
             "orthogonal matrix per group.", {}, label_skew.grouped_iid,
             feature_shift.rotation),
    Scenario("label-swap", "Concept shift on labels: each group swaps its own pairs of "
             "classes (group 0 keeps the true labels).",
             {"n_pairs": Param(int, 1, 1, 3, help="Swapped label pairs per group")},
             label_skew.grouped_iid, feature_shift.label_swap, tasks=("classification",)),
    Scenario("natural", "The data's own clients (hospital, station, upload client "
             "column); n_clients and samples_per_client are ignored.",
             {"true_groups": Param(str, "", help="Optional known groups, e.g. "
                                "'Cleveland=0, Hungary=1'")},
             natural.natural),
    Scenario("forecasting", "Time series: each station's series becomes windows (past "
             "values, covariates, calendar -> a value `horizon` days later), split at one "
             "date (train = earlier, test = later); n_clients and samples_per_client are "
             "ignored.", forecasting.PARAMS, natural.natural, tasks=("regression",),
             build=forecasting.build),
]}

#: Scenarios that use the pool's own clients (sizes and group counts are ignored).
OWN_CLIENTS = ("natural", "forecasting")


def get_scenario(name: str) -> Scenario:
    if name not in SCENARIOS:
        raise ConfigError(f"unknown scenario '{name}'; choose one of "
                          f"{', '.join(SCENARIOS)}")
    return SCENARIOS[name]


def _check_sizes(scenario: str, n_clients: int, n_groups: int, samples_per_client: int):
    if scenario in OWN_CLIENTS:
        return
    if int(n_clients) < 1:
        raise ConfigError(f"n_clients must be at least 1, got {n_clients}")
    if not 1 <= int(n_groups) <= int(n_clients):
        raise ConfigError(f"n_groups must be between 1 and n_clients ({n_clients}), "
                          f"got {n_groups}")
    if int(samples_per_client) < 2:
        raise ConfigError(f"samples_per_client must be at least 2 (one to train, one to "
                          f"test), got {samples_per_client}")


def partition_indices(y: np.ndarray, scenario: str, n_clients: int = 20, n_groups: int = 4,
                      samples_per_client: int = 100, seed: int = 0, pool=None, **params):
    """Index-level partition: ``(dict client -> sorted index array, true_groups)``.

    ``pool`` is only needed for ``natural`` (its client column) and for readable names.
    """
    sc = get_scenario(scenario)
    _check_sizes(scenario, n_clients, n_groups, samples_per_client)
    values = sc.validate(params)
    sc.check_pool(pool)
    rng = np.random.default_rng([int(seed), 0])
    return sc.partition(np.asarray(y), int(n_clients), int(n_groups),
                        int(samples_per_client), rng, values, pool)


def make_scenario(pool: PooledData, scenario: str, n_clients: int = 20, n_groups: int = 4,
                  samples_per_client: int = 100, seed: int = 0, test_fraction: float = 0.2,
                  standardisation: str = "auto", **params) -> FederatedDataset:
    """Build a federated dataset from ``pool`` with a named heterogeneity scenario.

    Parameters
    ----------
    pool : PooledData
    scenario : str
        A key of :data:`SCENARIOS`.
    n_clients, n_groups, samples_per_client : int
        Ignored by ``natural`` and ``forecasting``. Clients are in round-robin groups
        (client i -> i % n_groups).
    seed : int
        Same seed, byte-identical arrays (see :meth:`FederatedDataset.fingerprint`).
    test_fraction : float
        Per-client test share: stratified (classification), random (regression), or the
        share of windows after the cut date (``forecasting``).
    standardisation : {"auto", "pooled", "per-client", "none"}
        Feature standardisation (:func:`fedcore.partition.federate.standardise_parts`).
    **params
        Scenario parameters (``SCENARIOS[scenario].params``).
    """
    sc = get_scenario(scenario)
    values = sc.validate(params)
    check_test_fraction(test_fraction)
    sc.check_pool(pool)
    if sc.build is not None:
        return sc.build(pool, values, seed=int(seed), test_fraction=float(test_fraction),
                        standardisation=standardisation)
    indices, groups = partition_indices(pool.y, scenario, n_clients, n_groups,
                                        samples_per_client, seed, pool=pool, **params)
    transforms, group_labels = None, None
    if sc.transforms is not None:
        transforms, group_labels = sc.transforms(pool, int(n_groups), values,
                                                 np.random.default_rng([int(seed), 2]))
    provenance = {
        "source": pool.name, "description": pool.description, "scenario": scenario,
        "params": values, "seed": int(seed), "test_fraction": float(test_fraction),
        "n_clients": len(indices), "n_groups": None if groups is None else int(
            len(np.unique(groups))),
        "samples_per_client": None if scenario in OWN_CLIENTS else int(samples_per_client),
        "group_transforms": group_labels, "notes": [],
    }
    return federate(pool, indices, groups, seed=seed, test_fraction=test_fraction,
                    name=f"{pool.name} / {scenario}", provenance=provenance,
                    transforms=transforms, standardisation=standardisation)
