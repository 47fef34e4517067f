"""Building blocks shared by the scenarios: the Scenario record, parameter validation,
group assignment and without-replacement sampling from per-class pools.

Conventions
-----------
* Clients are named ``c00``, ``c01``, ... (zero-padded so they sort naturally).
* Client ``i`` belongs to group ``i % n_groups`` (round-robin), so groups never line up
  with client order by accident.
* Every random step uses a ``numpy.random.Generator``; sampling is without replacement so
  client partitions are disjoint. When the pool is too small for the request, a
  :class:`~fedcore.errors.ConfigError` says how many samples are needed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..errors import ConfigError
from ..params import validate

#: Per-group transform: (X flat float32 (n, d), y int64 (n,), rng) -> (X, y).
GroupTransform = Callable[[np.ndarray, np.ndarray, np.random.Generator],
                          tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class Scenario:
    """A heterogeneity scenario offered in the UI and the CLI.

    Attributes
    ----------
    name, description : str
    params : dict of str to Param
        The scenario's parameters (:mod:`fedcore.params`).
    partition : callable
        ``(y, n_clients, n_groups, samples_per_client, rng, params, pool)
        -> (dict client -> index array, true_groups or None)``.
    transforms : callable or None
        ``(pool, n_groups, params, rng) -> (list of per-group GroupTransform, list of str)``:
        one transform and a human description per group (feature or label shift).
    tasks : tuple of str
        The pool tasks the scenario makes sense for (label skew needs classes).
    build : callable or None
        ``(pool, params, seed, test_fraction, standardisation) -> FederatedDataset`` for a
        scenario that makes new samples and its own split (forecasting windows), used by
        :func:`~fedcore.partition.make_scenario` instead of partition + federate.
    """

    name: str
    description: str
    params: dict = field(default_factory=dict)
    partition: Callable | None = None
    transforms: Callable | None = None
    tasks: tuple = ("classification", "regression")
    build: Callable | None = None

    def validate(self, given: dict) -> dict:
        """Fill defaults, coerce types, check ranges; unknown names are an error."""
        return validate(self.params, given, f"scenario '{self.name}'")

    def check_pool(self, pool) -> None:
        """A :class:`~fedcore.errors.ConfigError` when ``pool`` cannot take this scenario."""
        if pool is not None and pool.task not in self.tasks:
            raise ConfigError(f"scenario '{self.name}' needs a {' or '.join(self.tasks)} "
                              f"dataset; '{pool.name}' is a {pool.task} dataset")


def client_names(n_clients: int) -> list[str]:
    width = max(2, len(str(n_clients - 1)))
    return [f"c{i:0{width}d}" for i in range(n_clients)]


def round_robin_groups(n_clients: int, n_groups: int) -> np.ndarray:
    return np.arange(n_clients, dtype=np.int64) % n_groups


def require_pool(pool_size: int, needed: int, what: str, source: str) -> None:
    if needed > pool_size:
        raise ConfigError(f"'{source}' has {pool_size:,} samples but {what} need {needed:,} "
                          "(clients never share samples): lower samples per client or "
                          "the number of clients")


class ClassPools:
    """Shuffled per-class queues of sample indices; taking removes (no replacement)."""

    def __init__(self, y: np.ndarray, n_classes: int, rng: np.random.Generator):
        self.queues = [rng.permutation(np.flatnonzero(y == c)) for c in range(n_classes)]
        self.used = np.zeros(n_classes, dtype=np.int64)

    def available(self) -> np.ndarray:
        return np.array([len(q) for q in self.queues]) - self.used

    def take(self, wanted: np.ndarray, fallbacks: list[np.ndarray], who: str) -> np.ndarray:
        """Take ``wanted[c]`` samples of each class ``c``.

        A class that runs out is topped up one sample at a time from the fallback class
        sets, in order, always from the class with most samples left (ties: lowest
        class), so shortages spread evenly and deterministically.
        """
        wanted = np.asarray(wanted, dtype=np.int64)
        avail = self.available()
        got = np.minimum(wanted, avail)
        deficit = int((wanted - got).sum())
        for classes in fallbacks:
            while deficit > 0:
                room = avail[classes] - got[classes]
                if room.max(initial=0) <= 0:
                    break
                got[classes[int(np.argmax(room))]] += 1
                deficit -= 1
        if deficit > 0:
            raise ConfigError(f"not enough samples left for {who}: {deficit} missing "
                              "(clients never share samples); lower samples per client or "
                              "the number of clients")
        parts = []
        for c in np.flatnonzero(got):
            start = self.used[c]
            parts.append(self.queues[c][start:start + got[c]])
            self.used[c] += got[c]
        return np.sort(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)


def spread(total: int, n_parts: int, rng: np.random.Generator) -> np.ndarray:
    """``total`` split into ``n_parts`` near-equal integers; the remainder goes to
    randomly chosen parts so no class is systematically favoured."""
    base = np.full(n_parts, total // n_parts, dtype=np.int64)
    base[rng.choice(n_parts, size=total % n_parts, replace=False)] += 1
    return base
