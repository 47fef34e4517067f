"""One entry point for "give me a federated dataset": a bundled name or a file path."""

from __future__ import annotations

from pathlib import Path

from ..dataset import FederatedDataset
from ..errors import ConfigError, DataError
from ..partition import SCENARIOS, make_scenario
from .bundled import BUNDLED, load_bundled
from .upload import load_upload, read_upload


def resolve_dataset(data: str, scenario: str | None = None, n_clients: int = 20,
                    n_groups: int = 4, samples_per_client: int = 100, seed: int = 0,
                    test_fraction: float = 0.2, client_column: str | None = None,
                    label_column: str | None = None, standardisation: str = "auto",
                    task: str | None = None, **params) -> FederatedDataset:
    """Bundled dataset or upload -> FederatedDataset.

    Rules
    -----
    * bundled with natural clients and ``scenario`` None -> the dataset's default scenario
      (``natural``; ``forecasting`` for series such as nox or beijing_pm25);
    * bundled without natural clients (mnist_5k, digits) and ``scenario`` None -> error
      asking for a scenario;
    * a file path with ``scenario`` None or ``"natural"`` -> :func:`load_upload` (its own
      client column); with any other scenario, the upload is pooled (its client column,
      if any, is ignored; none is needed) and partitioned like a bundled dataset.

    ``standardisation`` ("auto", "pooled", "per-client", "none") says how features are
    standardised (:func:`fedcore.partition.federate.standardise_parts`). ``task``
    ("classification" by default, or "regression") says how an upload's label column is
    read; a bundled dataset has its own task, and asking for another is an error.
    """
    if data in BUNDLED:
        pool = load_bundled(data)
        if task is not None and task != pool.task:
            raise ConfigError(f"bundled dataset '{data}' is a {pool.task} dataset; the "
                              f"task option applies to uploads")
        if scenario is None:
            if pool.client_column is None:
                raise ConfigError(f"'{data}' has no natural clients: choose a scenario "
                                  f"({', '.join(s for s in SCENARIOS if s != 'natural')})")
            scenario = BUNDLED[data].default_scenario
        return make_scenario(pool, scenario, n_clients, n_groups, samples_per_client, seed,
                             test_fraction, standardisation=standardisation, **params)
    if not Path(data).exists():
        raise DataError(f"'{data}' is neither a bundled dataset ({', '.join(BUNDLED)}) "
                        "nor an existing file")
    if scenario in (None, "natural"):
        return load_upload(data, client_column, label_column, test_fraction, seed,
                           standardisation=standardisation, task=task or "classification")
    pool, _, _ = read_upload(data, client_column, label_column, require_client=False,
                             task=task or "classification")
    return make_scenario(pool, scenario, n_clients, n_groups, samples_per_client, seed,
                         test_fraction, standardisation=standardisation, **params)
