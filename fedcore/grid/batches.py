"""Which grid cells run together: lockstep batches by data shape, model and fit settings.

Cells can share one compiled training program only if their data has the same shape and
their model and local-training settings are equal; within such a group the cells are cut into
batches small enough for memory and numerous enough to give every worker one
(:mod:`fedcore.grid.lockstep` runs a batch).
"""

from __future__ import annotations

import json
import math

#: Clients x parameters one lockstep batch may hold in its round's local weights (~1 GB):
#: the 24-cell benchmark grid (480 MLP clients, 76 M floats) fits in one batch.
BATCH_FLOATS = 2 ** 28


def batch_key(spec: dict) -> str:
    """Cells with equal keys can share one compiled program (same data shape, model, fit)."""
    config = spec.get("config", {})
    return json.dumps([spec.get("data"), config.get("model"), config.get("fit")],
                      sort_keys=True, default=str)


def plan_batches(cells: list, batch_cells: int | None, n_params_hint: int = 160_000,
                 workers: int = 1) -> list[list]:
    """Split ``cells`` (objects with ``.spec``) into lockstep batches.

    Parameters
    ----------
    cells : list of GridCell
    batch_cells : int or None
        Most cells per batch; None chooses automatically: at least ``workers`` batches (so
        every worker has one) and at most :data:`BATCH_FLOATS` of local weights per batch.
    n_params_hint : int
        Model size used by the automatic choice (the 784-200-10 MLP by default).
    workers : int
    """
    groups: dict[str, list] = {}
    for cell in cells:
        groups.setdefault(batch_key(cell.spec), []).append(cell)
    batches = []
    for members in groups.values():
        size = batch_cells
        if size is None:
            clients = max(int(members[0].spec.get("n_clients", 1)), 1)
            cap = max(1, BATCH_FLOATS // (clients * n_params_hint))
            n_batches = max(min(workers, len(members)), math.ceil(len(members) / cap))
            size = math.ceil(len(members) / n_batches)
        size = max(1, int(size))
        batches += [members[i:i + size] for i in range(0, len(members), size)]
    return batches
