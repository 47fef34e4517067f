"""Partitions that change *which* samples a client gets: IID, Dirichlet label skew,
group label skew (dominant classes) and quantity skew.

References
----------
* Dirichlet label skew: Hsu, Qi & Brown (2019), "Measuring the Effects of Non-Identical
  Data Distribution for Federated Visual Classification", arXiv:1909.06335.
* Label / quantity skew taxonomy: Li, Diao, Chen & He (2022), "Federated Learning on
  Non-IID Data Silos: An Experimental Study", ICDE.
* Group-structured label skew as a CFL benchmark: Ghosh et al. (2020), "An Efficient
  Framework for Clustered Federated Learning" (IFCA), NeurIPS.

Every function has the partition signature of :class:`~fedcore.partition.base.Scenario`
and samples without replacement.
"""

from __future__ import annotations

import numpy as np

from ..errors import ConfigError
from .base import ClassPools, client_names, require_pool, round_robin_groups, spread


def _n_classes(y: np.ndarray, pool) -> int:
    return len(pool.label_names) if pool is not None else int(y.max()) + 1


def _source(pool) -> str:
    return pool.name if pool is not None else "pool"


def iid_sizes(y, sizes: np.ndarray, rng, pool) -> dict[str, np.ndarray]:
    """Disjoint uniformly random subsets of the given sizes."""
    require_pool(len(y), int(sizes.sum()), f"{len(sizes)} clients", _source(pool))
    perm = rng.permutation(len(y))[: int(sizes.sum())]
    bounds = np.cumsum(sizes)[:-1]
    return {cid: np.sort(part) for cid, part in
            zip(client_names(len(sizes)), np.split(perm, bounds))}


def iid(y, n_clients, n_groups, samples_per_client, rng, params, pool=None):
    """Every client draws uniformly from the pool; one true group (no heterogeneity)."""
    sizes = np.full(n_clients, samples_per_client, dtype=np.int64)
    return iid_sizes(y, sizes, rng, pool), np.zeros(n_clients, dtype=np.int64)


def grouped_iid(y, n_clients, n_groups, samples_per_client, rng, params, pool=None):
    """IID sampling, clients in round-robin groups (the transforms make groups differ)."""
    sizes = np.full(n_clients, samples_per_client, dtype=np.int64)
    return iid_sizes(y, sizes, rng, pool), round_robin_groups(n_clients, n_groups)


def quantity_skew(y, n_clients, n_groups, samples_per_client, rng, params, pool=None):
    """Group ``g`` clients hold ``samples_per_client * ratio**g`` samples (at least 4)."""
    groups = round_robin_groups(n_clients, n_groups)
    per_group = np.maximum(4, np.round(samples_per_client * params["ratio"] ** np.arange(
        n_groups))).astype(np.int64)
    return iid_sizes(y, per_group[groups], rng, pool), groups


def dirichlet(y, n_clients, n_groups, samples_per_client, rng, params, pool=None):
    """Class proportions ~ Dir(alpha); shared by the clients of a group unless
    ``per_client`` (then no ground truth: ``true_groups`` is None)."""
    k = _n_classes(y, pool)
    require_pool(len(y), n_clients * samples_per_client, f"{n_clients} clients x "
                 f"{samples_per_client} samples", _source(pool))
    groups = round_robin_groups(n_clients, n_groups)
    n_draws = n_clients if params["per_client"] else n_groups
    props = rng.dirichlet(np.full(k, params["alpha"]), size=n_draws)
    pools = ClassPools(y, k, rng)
    everything = [np.arange(k)]
    out = {}
    for i, cid in enumerate(client_names(n_clients)):
        q = props[i if params["per_client"] else groups[i]]
        wanted = rng.multinomial(samples_per_client, q)
        out[cid] = pools.take(wanted, everything, f"client '{cid}'")
    return out, None if params["per_client"] else groups


def group_classes(n_classes: int, n_groups: int) -> list[np.ndarray]:
    """Classes split into ``n_groups`` contiguous blocks: group g owns block g."""
    if n_groups > n_classes:
        raise ConfigError(f"label-skew needs at most as many groups as classes "
                          f"({n_groups} groups, {n_classes} classes)")
    return np.array_split(np.arange(n_classes), n_groups)


def label_skew(y, n_clients, n_groups, samples_per_client, rng, params, pool=None):
    """A ``dominant_fraction`` of each client's samples comes from its group's classes
    (evenly), the rest evenly from the other classes."""
    k = _n_classes(y, pool)
    require_pool(len(y), n_clients * samples_per_client, f"{n_clients} clients x "
                 f"{samples_per_client} samples", _source(pool))
    owned = group_classes(k, n_groups)
    groups = round_robin_groups(n_clients, n_groups)
    pools = ClassPools(y, k, rng)
    out = {}
    for i, cid in enumerate(client_names(n_clients)):
        mine = owned[groups[i]]
        others = np.setdiff1d(np.arange(k), mine)
        n_dom = int(round(params["dominant_fraction"] * samples_per_client))
        if len(others) == 0:
            n_dom = samples_per_client
        wanted = np.zeros(k, dtype=np.int64)
        wanted[mine] = spread(n_dom, len(mine), rng)
        if len(others):
            wanted[others] = spread(samples_per_client - n_dom, len(others), rng)
        out[cid] = pools.take(wanted, [mine, others], f"client '{cid}'")
    return out, groups
