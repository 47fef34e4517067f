"""Per-client data order and the padded, masked step tensors the compiled programs consume.

Clients keep their samples in ONE concatenated array (no per-client padding of the data
itself, so a few large clients do not blow up memory); a training round is described by
integer row indices ``(steps, clients, batch)`` into that array plus a 0/1 mask of the
real rows. Client ``i``'s ``k``-th local step is row ``k`` of its column; clients with
fewer steps than the longest one are padded with fully masked (no-op) steps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import DataError


@dataclass
class ConcatenatedSplit:
    """One split (train or test) of every client, stacked end to end.

    Attributes
    ----------
    x : ndarray (n_total, d) float32, or None once the engine holds it as a tensor
    y : ndarray (n_total,) int32 class indices, or float32 targets of a regression task
    offsets : ndarray (n_clients + 1,) int64
        Client ``i`` owns rows ``offsets[i]:offsets[i + 1]``.
    """

    x: np.ndarray | None
    y: np.ndarray
    offsets: np.ndarray

    @classmethod
    def from_lists(cls, xs: list[np.ndarray], ys: list[np.ndarray],
                   n_features: int, regression: bool = False) -> ConcatenatedSplit:
        y_type = np.float32 if regression else np.int32
        sizes = np.array([len(y) for y in ys], dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        x = (np.concatenate([np.asarray(a, np.float32).reshape(len(a), n_features) for a in xs])
             if sizes.sum() else np.zeros((0, n_features), np.float32))
        y = (np.concatenate([np.asarray(b).astype(y_type) for b in ys])
             if sizes.sum() else np.zeros(0, y_type))
        return cls(x=np.ascontiguousarray(x), y=y, offsets=offsets)

    @property
    def sizes(self) -> np.ndarray:
        return np.diff(self.offsets)


def epoch_orders(n_samples: int, epochs: int, round_seed: int, client: int) -> list[np.ndarray]:
    """One permutation of a client's local row indices per local epoch of a round.

    Epoch ``e`` uses ``default_rng([round_seed, client, e])`` where ``client`` is the index in
    the dataset, so the order does not depend on which other clients take part.
    """
    return [np.random.default_rng([int(round_seed), int(client), e]).permutation(n_samples)
            for e in range(epochs)]


def client_batch_order(n_samples: int, batch_size: int, epochs: int, round_seed: int,
                       client: int) -> list[np.ndarray]:
    """Local indices of every batch of one client's round, in training order.

    Each epoch's permutation (:func:`epoch_orders`) is cut into consecutive batches of
    ``batch_size``, the last one partial; batches never span two epochs.
    """
    return [perm[i:i + batch_size]
            for perm in epoch_orders(n_samples, epochs, round_seed, client)
            for i in range(0, n_samples, batch_size)]


@dataclass
class StepPlan:
    """Padded step tensors for one training round.

    Attributes
    ----------
    rows : ndarray (steps, clients, batch) int32
        Global row in the concatenated split (a masked slot repeats the client's first row).
    mask : ndarray (steps, clients, batch) float32
        1 for a real sample, 0 for padding.
    last_epoch : ndarray (steps, clients) float32
        1 where the step belongs to the client's last local epoch (reported train loss).
    """

    rows: np.ndarray
    mask: np.ndarray
    last_epoch: np.ndarray


def training_steps(split: ConcatenatedSplit, clients: np.ndarray, batch_size: int,
                   epochs: int, round_seed, order_ids: np.ndarray | None = None) -> StepPlan:
    """The :class:`StepPlan` of one round for ``clients`` (dataset indices).

    ``round_seed`` is one seed or one per client, and ``order_ids`` the client number that
    seeds each client's order (default: ``clients``). A lockstep grid trains the clients of
    many runs in one call over their concatenated data: each client keeps its own run's seed
    and its index within that run, so its batches are those of the run on its own.
    """
    seeds = np.broadcast_to(np.asarray(round_seed, dtype=np.int64), (len(clients),))
    order_ids = clients if order_ids is None else np.asarray(order_ids, dtype=np.int64)
    sizes = split.sizes[clients]
    batches_per_epoch = -(-sizes // batch_size)
    n_steps = max(int((batches_per_epoch * epochs).max(initial=0)), 1)
    n_clients = len(clients)
    rows = np.zeros((n_clients, n_steps, batch_size), dtype=np.int64)
    mask = np.zeros((n_clients, n_steps, batch_size), dtype=np.float32)
    last = np.zeros((n_clients, n_steps), dtype=np.float32)
    for j, (client, n) in enumerate(zip(clients, sizes)):
        n = int(n)
        if n == 0:
            continue
        offset = split.offsets[client]
        nb = int(batches_per_epoch[j])
        order = np.stack(epoch_orders(n, epochs, seeds[j], order_ids[j]))
        # Pad each epoch's order to nb * batch_size so batches never cross epochs.
        padded = np.zeros((epochs, nb * batch_size), dtype=np.int64)
        padded[:, :n] = order
        valid = np.zeros((epochs, nb * batch_size), dtype=np.float32)
        valid[:, :n] = 1.0
        rows[j, :epochs * nb] = padded.reshape(epochs * nb, batch_size) + offset
        rows[j, epochs * nb:] = offset
        mask[j, :epochs * nb] = valid.reshape(epochs * nb, batch_size)
        last[j, (epochs - 1) * nb:epochs * nb] = 1.0
    return StepPlan(rows=np.ascontiguousarray(rows.transpose(1, 0, 2)).astype(np.int32),
                    mask=np.ascontiguousarray(mask.transpose(1, 0, 2)),
                    last_epoch=np.ascontiguousarray(last.T))


def evaluation_steps(split: ConcatenatedSplit, clients: np.ndarray,
                     chunk: int) -> tuple[np.ndarray, np.ndarray]:
    """``(rows, mask)`` of shape (steps, clients, chunk) covering each client's rows once."""
    sizes = split.sizes[clients]
    n_max = int(sizes.max(initial=0))
    chunk = max(1, min(chunk, n_max if n_max else 1))
    n_steps = max(-(-n_max // chunk), 1)
    pos = np.arange(n_steps * chunk)
    valid = pos[None, :] < sizes[:, None]
    rows = np.where(valid, split.offsets[clients][:, None] + pos[None, :],
                    split.offsets[clients][:, None])
    rows = np.minimum(rows, max(len(split.y) - 1, 0))  # an empty last client has no row
    rows = rows.reshape(len(clients), n_steps, chunk).transpose(1, 0, 2)
    mask = valid.reshape(len(clients), n_steps, chunk).transpose(1, 0, 2)
    return (np.ascontiguousarray(rows).astype(np.int32),
            np.ascontiguousarray(mask).astype(np.float32))


def check_split(dataset, split: ConcatenatedSplit, name: str) -> None:
    """DataError naming the client and row of the first unusable label or feature."""
    def where(row: int) -> str:
        client = int(np.searchsorted(split.offsets, row, side="right") - 1)
        return f"client {dataset.client_ids[client]!r}, {name} row {row - split.offsets[client]}"

    if getattr(dataset, "is_regression", False):
        bad_t = np.flatnonzero(~np.isfinite(split.y))
        if bad_t.size:
            raise DataError(f"{where(int(bad_t[0]))}: target is nan or inf")
    else:
        bad_y = np.flatnonzero((split.y < 0) | (split.y >= dataset.n_classes))
        if bad_y.size:
            raise DataError(f"{where(int(bad_y[0]))}: label {int(split.y[bad_y[0]])} is "
                            f"outside 0..{dataset.n_classes - 1}")
    bad_x = np.flatnonzero(~np.isfinite(split.x).all(axis=1))
    if bad_x.size:
        raise DataError(f"{where(int(bad_x[0]))}: features contain nan or inf")


def segment_sums(values: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """Sums of ``values[:, bounds[i]:bounds[i+1]]`` for each i (empty segments give 0).

    ``reduceat`` over the non-empty segments only, so a nan (diverged model) stays inside
    its own client's segment.
    """
    out = np.zeros((values.shape[0], len(bounds) - 1))
    nonempty = np.diff(bounds) > 0
    if nonempty.any():
        out[:, nonempty] = np.add.reduceat(values, bounds[:-1][nonempty], axis=1)
    return out
