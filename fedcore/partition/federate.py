"""From per-client index sets to a :class:`~fedcore.dataset.FederatedDataset`.

Steps, in this order, all seeded:

1. per-client train/test split (each client keeps at least one sample in each part):
   stratified for classification (classes are allocated to the test part in proportion,
   remainders to the classes with the largest fractional share), uniformly random for
   regression (stratifying on distinct float values would put the smallest targets in
   the test part), or given by the caller (the chronological split of ``forecasting``);
2. tabular features are standardised (``standardisation``, recorded in
   ``provenance["standardisation"]``): by default (``"pooled"``) with the mean and standard
   deviation of the *training* rows of all clients together, which equals what a real
   federation obtains from one aggregation round of per-client counts, sums and sums of
   squares; ``"per-client"`` uses each client's own training rows (no statistics leave a
   client); ``"none"`` keeps raw values. Image pixels in [0, 1] are left as they are unless
   a mode is asked for explicitly;
3. the scenario's per-group transforms (feature skew, rotation, label swap) are applied.
"""

from __future__ import annotations

import numpy as np

from ..dataset import FederatedDataset, too_few_samples
from ..errors import ConfigError

#: How features are standardised; "auto" = "pooled" for tabular data, "none" for images.
STANDARDISATIONS = ("auto", "pooled", "per-client", "none")


def check_test_fraction(test_fraction: float) -> float:
    test_fraction = float(test_fraction)
    if not 0.0 < test_fraction < 1.0:
        raise ConfigError(f"test_fraction must be between 0 and 1 (exclusive), "
                          f"got {test_fraction}")
    return test_fraction


def stratified_split(y: np.ndarray, test_fraction: float,
                     rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Positions (sorted) of the train and test part of one client's samples."""
    n = len(y)
    n_test = min(n - 1, max(1, int(round(test_fraction * n))))
    perm = rng.permutation(n)
    classes, inverse = np.unique(y[perm], return_inverse=True)
    counts = np.bincount(inverse, minlength=len(classes))
    exact = counts * n_test / n
    take = np.floor(exact).astype(np.int64)
    leftover = n_test - int(take.sum())
    if leftover > 0:
        order = np.lexsort((np.arange(len(classes)), -(exact - take)))
        room = order[take[order] < counts[order]]
        take[room[:leftover]] += 1
    test_mask = np.zeros(n, dtype=bool)
    for c in range(len(classes)):
        members = perm[inverse == c]
        test_mask[members[: take[c]]] = True
    return np.flatnonzero(~test_mask), np.flatnonzero(test_mask)


def random_split(n: int, test_fraction: float,
                 rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Positions (sorted) of a uniformly random train and test part of ``n`` samples."""
    n_test = min(n - 1, max(1, int(round(test_fraction * n))))
    perm = rng.permutation(n)
    return np.sort(perm[n_test:]), np.sort(perm[:n_test])


def split_positions(y: np.ndarray, task: str, test_fraction: float,
                    rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Train/test positions of one client: stratified (classification) or random."""
    if task == "regression":
        return random_split(len(y), test_fraction, rng)
    return stratified_split(y, test_fraction, rng)


def _client_metadata(pool, ids: list):
    meta = getattr(pool, "client_metadata", None)
    if meta is None or not set(map(str, ids)) <= set(meta.index.astype(str)):
        return None
    return meta.reindex([str(c) for c in ids])


def _moments(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(x, dtype=np.float64)
    std = x.std(axis=0)
    return x.mean(axis=0), np.where(std > 1e-12, std, 1.0)


def _rounded(mean: np.ndarray, std: np.ndarray) -> dict:
    return {"mean": [round(float(v), 6) for v in mean],
            "std": [round(float(v), 6) for v in std]}


def standardise_parts(parts: dict, ids: list, mode: str, is_image: bool) -> dict | None:
    """Standardise ``parts["x_train"/"x_test"]`` in place with TRAIN statistics only.

    Returns the record kept in ``provenance["standardisation"]``: None (raw values),
    ``{"mode": "pooled", "mean", "std"}`` or ``{"mode": "per-client", "clients":
    {client: {"mean", "std"}}}``.
    """
    if mode not in STANDARDISATIONS:
        raise ConfigError(f"standardisation must be one of {', '.join(STANDARDISATIONS)}, "
                          f"not {mode!r}")
    if mode == "auto":
        mode = "none" if is_image else "pooled"
    if mode == "none":
        return None
    if mode == "pooled":
        stats = [_moments(np.concatenate(parts["x_train"]))] * len(ids)
    else:
        stats = [_moments(x) for x in parts["x_train"]]
    for key in ("x_train", "x_test"):
        parts[key] = [((x - m) / s).astype(np.float32) for x, (m, s) in zip(parts[key], stats)]
    if mode == "pooled":
        return {"mode": "pooled", **_rounded(*stats[0])}
    return {"mode": "per-client",
            "clients": {str(c): _rounded(*st) for c, st in zip(ids, stats)}}


def federate(pool, client_indices: dict[str, np.ndarray], true_groups: np.ndarray | None, *,
             seed: int, test_fraction: float, name: str, provenance: dict,
             transforms: list | None = None, standardisation: str = "auto",
             metadata=None, splits: dict | None = None) -> FederatedDataset:
    """Split, standardise and transform per-client samples of ``pool``.

    Parameters
    ----------
    pool : PooledData
    client_indices : dict
        Client id -> row indices into ``pool`` (disjoint).
    true_groups : ndarray or None
        Group of each client (order of ``client_indices``); selects the transform.
    transforms : list of callables, optional
        One :data:`~fedcore.partition.base.GroupTransform` per group.
    standardisation : {"auto", "pooled", "per-client", "none"}
        See the module docstring; ``"auto"`` is ``"pooled"`` unless ``pool.is_image``.
    metadata : DataFrame, optional
        One row per client; defaults to ``pool.client_metadata`` when it covers the clients.
    splits : dict, optional
        Client id -> (train positions, test positions) into ``client_indices[client]``,
        replacing the seeded split (e.g. a chronological one).
    """
    test_fraction = check_test_fraction(test_fraction)
    split_rng = np.random.default_rng([int(seed), 1])
    transform_rng = np.random.default_rng([int(seed), 3])
    ids = list(client_indices)
    parts = {"x_train": [], "y_train": [], "x_test": [], "y_test": []}
    y_type = np.float32 if pool.task == "regression" else np.int64
    for cid in ids:
        idx = np.asarray(client_indices[cid], dtype=np.int64)
        if len(idx) < 2:
            raise too_few_samples(cid, len(idx))
        tr, te = (splits[cid] if splits is not None
                  else split_positions(pool.y[idx], pool.task, test_fraction, split_rng))
        for split, pos in (("train", tr), ("test", te)):
            parts[f"x_{split}"].append(np.asarray(pool.X[idx[pos]], dtype=np.float32))
            parts[f"y_{split}"].append(np.asarray(pool.y[idx[pos]], dtype=y_type))
    provenance = dict(provenance)
    provenance["standardisation"] = standardise_parts(parts, ids, standardisation,
                                                      pool.is_image)
    if transforms is not None and true_groups is not None:
        for i, g in enumerate(np.asarray(true_groups)):
            fn = transforms[int(g)]
            for split in ("train", "test"):
                x, y = fn(parts[f"x_{split}"][i], parts[f"y_{split}"][i], transform_rng)
                parts[f"x_{split}"][i], parts[f"y_{split}"][i] = x, y
    return FederatedDataset(
        client_ids=[str(c) for c in ids], **parts,
        feature_names=list(pool.feature_names), label_names=list(pool.label_names),
        input_shape=tuple(pool.input_shape),
        true_groups=None if true_groups is None else np.asarray(true_groups, dtype=np.int64),
        metadata=metadata if metadata is not None else _client_metadata(pool, ids),
        name=name, provenance=provenance, task=pool.task)
