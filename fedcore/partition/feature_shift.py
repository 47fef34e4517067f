"""Group transforms that change *what* a sample looks like (feature skew, rotation) or what
it means (label swap). Group 0 is always left unchanged, so it is the reference group.

References
----------
* Rotation / label swap concept shift: Sattler, Müller & Samek (2021), "Clustered
  Federated Learning: Model-Agnostic Distributed Multitask Optimization Under Privacy
  Constraints", IEEE TNNLS; Ghosh et al. (2020), IFCA, NeurIPS.
* Feature (covariate) skew: Li et al. (2022), "Federated Learning on Non-IID Data Silos:
  An Experimental Study", ICDE.

Tabular pools are standardised before these transforms run (see
:mod:`fedcore.partition.federate`), so shifts are in units of standard deviations and a
random orthogonal rotation keeps every sample's norm.
"""

from __future__ import annotations

import itertools

import numpy as np

from ..errors import ConfigError
from . import image_transforms as imt


def _identity(X, y, rng):
    return X, y


def _group_scale(group: int, n_groups: int) -> float:
    return group / max(n_groups - 1, 1)


def feature_skew(pool, n_groups: int, params: dict, rng: np.random.Generator):
    """Images: dilation/erosion per group (+ optional noise). Tabular: a random per-feature
    shift of ``strength`` standard deviations per group (+ noise growing with the group)."""
    transforms, labels = [], []
    d = pool.X.shape[1]
    for g in range(n_groups):
        noise = params["noise"] * _group_scale(g, n_groups)
        if pool.is_image:
            op, size = imt.morph_plan(g, params["strength"])

            def fn(X, y, r, op=op, size=size, noise=noise):
                X = X if op == "none" else imt.morph(X, pool.input_shape, op, size)
                return imt.add_noise(X, noise, r), y

            labels.append("unchanged" if op == "none" else f"{op} {size}x{size}")
        else:
            shift = (np.zeros(d) if g == 0 else
                     params["strength"] * rng.standard_normal(d)).astype(np.float32)

            def fn(X, y, r, shift=shift, noise=noise):
                out = X + shift
                if noise > 0:
                    out = out + r.normal(0.0, noise, size=X.shape).astype(np.float32)
                return out.astype(np.float32), y

            labels.append("unchanged" if g == 0 else f"shift {params['strength']:g} sd")
        if noise > 0:
            labels[-1] += f" + noise {noise:.2g}"
        transforms.append(fn if (g > 0 or noise > 0) else _identity)
    return transforms, labels


def random_rotation(d: int, rng: np.random.Generator) -> np.ndarray:
    """Haar-random orthogonal matrix (QR of a Gaussian matrix with sign correction)."""
    q, r = np.linalg.qr(rng.standard_normal((d, d)))
    return (q * np.sign(np.diag(r))).astype(np.float32)


def rotation(pool, n_groups: int, params: dict, rng: np.random.Generator):
    """Images: group g rotated by ``360 * g / n_groups`` degrees (0/90/180/270 for 4
    groups, exact via np.rot90). Tabular: a seeded random orthogonal rotation per group."""
    transforms, labels = [_identity], ["unchanged"]
    for g in range(1, n_groups):
        if pool.is_image:
            degrees = 360.0 * g / n_groups
            h, w = pool.input_shape[:2]
            if h != w and degrees % 180:
                raise ConfigError("rotation of non-square images is only defined for "
                                  "multiples of 180 degrees; use 2 groups")

            def fn(X, y, r, degrees=degrees):
                return imt.rotate(X, pool.input_shape, degrees), y

            labels.append(f"rotated {degrees:g}°")
        else:
            rot = random_rotation(pool.X.shape[1], rng)

            def fn(X, y, r, rot=rot):
                return (X @ rot).astype(np.float32), y

            labels.append("random orthogonal rotation")
        transforms.append(fn)
    return transforms, labels


def swap_permutations(n_classes: int, n_groups: int, n_pairs: int,
                      rng: np.random.Generator) -> list[np.ndarray]:
    """One label permutation per group: identity for group 0, then ``n_pairs`` disjoint
    swapped pairs per group, all groups different."""
    if 2 * n_pairs > n_classes:
        raise ConfigError(f"label-swap: {n_pairs} swapped pairs need at least "
                          f"{2 * n_pairs} classes; the data has {n_classes}")
    candidates = []
    for combo in itertools.combinations(itertools.combinations(range(n_classes), 2), n_pairs):
        flat = [c for pair in combo for c in pair]
        if len(set(flat)) == len(flat):
            candidates.append(combo)
        if len(candidates) >= 5000:
            break
    if len(candidates) < n_groups - 1:
        raise ConfigError(f"label-swap with {n_classes} classes and {n_pairs} pair(s) per "
                          f"group supports at most {len(candidates) + 1} groups")
    order = rng.permutation(len(candidates))[: n_groups - 1]
    perms = [np.arange(n_classes)]
    for idx in order:
        perm = np.arange(n_classes)
        for a, b in candidates[idx]:
            perm[a], perm[b] = b, a
        perms.append(perm)
    return perms


def label_swap(pool, n_groups: int, params: dict, rng: np.random.Generator):
    """Group g relabels samples with its permutation ``perm_g`` (y -> perm_g[y])."""
    perms = swap_permutations(len(pool.label_names), n_groups, params["n_pairs"], rng)
    transforms, labels = [_identity], ["unchanged"]
    for perm in perms[1:]:
        def fn(X, y, r, perm=perm):
            return X, perm[y].astype(np.int64)

        pairs = [(int(a), int(perm[a])) for a in range(len(perm)) if perm[a] > a]
        transforms.append(fn)
        labels.append("swap " + ", ".join(
            f"{pool.label_names[a]}<->{pool.label_names[b]}" for a, b in pairs))
    return transforms, labels
