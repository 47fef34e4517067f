"""Natural clients: the pool's own client column (hospital, station, upload client id).

Every sample of a natural client is used (``n_clients`` and ``samples_per_client`` are
ignored). The ground truth is the ``true_groups`` parameter when given (a mapping
``{client: group}`` or the text ``"Cleveland=0, Hungary=1, ..."``), else the pool's
documented ``client_groups`` (e.g. the site types of the Swiss NOx stations), else none.
"""

from __future__ import annotations

import numpy as np

from ..errors import ConfigError


def parse_groups(spec, clients: list[str]) -> np.ndarray | None:
    """``true_groups`` parameter -> int array aligned with ``clients`` (or None)."""
    if spec is None or (isinstance(spec, str) and not spec.strip()):
        return None
    if isinstance(spec, str):
        mapping = {}
        for item in spec.split(","):
            if "=" not in item:
                raise ConfigError(f"natural: true_groups entry '{item.strip()}' must look "
                                  "like client=group")
            key, value = item.rsplit("=", 1)
            mapping[key.strip()] = value.strip()
    else:
        mapping = {str(k): v for k, v in dict(spec).items()}
    missing = [c for c in clients if c not in mapping]
    if missing:
        raise ConfigError(f"natural: true_groups gives no group for client(s) "
                          f"{', '.join(missing[:5])}")
    try:
        values = [int(mapping[c]) for c in clients]
    except ValueError:
        raise ConfigError("natural: true_groups values must be integers") from None
    return np.asarray(values, dtype=np.int64)


def natural(y, n_clients, n_groups, samples_per_client, rng, params, pool=None):
    """All samples of each natural client; clients sorted by id."""
    column = None if pool is None else pool.client_column
    if column is None:
        name = pool.name if pool is not None else "the data"
        raise ConfigError(f"'{name}' has no natural clients; choose a partition scenario "
                          "(iid, dirichlet, label-skew, rotation, ...)")
    column = np.asarray(column).astype(str)
    order = np.argsort(column, kind="stable")
    ids, starts = np.unique(column[order], return_index=True)
    parts = np.split(order, starts[1:])
    out = {str(cid): np.sort(part) for cid, part in zip(ids, parts)}
    spec = params.get("true_groups")
    if (spec is None or (isinstance(spec, str) and not spec.strip())) and \
            getattr(pool, "client_groups", None):
        spec = pool.client_groups
    return out, parse_groups(spec, list(out))
