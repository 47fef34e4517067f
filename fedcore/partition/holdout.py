"""Validation view of a federated dataset: hyper-parameters are chosen without test data.

Each client's TRAIN split is re-split into a training part and a validation part:
stratified and seeded for classification, uniformly random for regression, and
chronological for a dataset split in time (``provenance["split"] == "chronological"``,
the ``forecasting`` scenario): there the validation part is the LAST ``fraction`` of each
client's training windows, which are stored in time order, so tuning, like testing,
forecasts a later period; the view's ``x_test``/``y_test`` ARE that validation part, so any
evaluation of the view (every round of a simulation) scores on validation data. The
view keeps no test array and no true groups, so a tuning run can use neither.
"""

from __future__ import annotations

import numpy as np

from ..dataset import FederatedDataset
from ..errors import ConfigError
from .federate import split_positions

#: Random stream of the validation split (streams 0-3 belong to the scenario, see
#: :mod:`fedcore.partition`).
VALIDATION_STREAM = 4


def validation_view(dataset: FederatedDataset, fraction: float, seed: int
                    ) -> FederatedDataset:
    """Train on ``1 - fraction`` of each client's train split, evaluate on ``fraction``.

    Parameters
    ----------
    dataset : FederatedDataset
    fraction : float
        Validation share of each client's training samples, in (0, 1).
    seed : int
        Seed of the split (``default_rng([seed, 4])``).

    Returns
    -------
    FederatedDataset
        Same clients, features and labels; ``true_groups`` None; provenance records the
        split and the source dataset's fingerprint.
    """
    fraction = float(fraction)
    if not 0.0 < fraction < 1.0:
        raise ConfigError(f"validation fraction must be between 0 and 1, got {fraction}")
    rng = np.random.default_rng([int(seed), VALIDATION_STREAM])
    in_time = dataset.provenance.get("split") == "chronological"
    x_tr, y_tr, x_va, y_va = [], [], [], []
    for cid, x, y in zip(dataset.client_ids, dataset.x_train, dataset.y_train):
        if len(y) < 2:
            raise ConfigError(f"client {cid!r} has {len(y)} training sample(s): a "
                              "validation split needs at least 2")
        if in_time:
            n_va = min(len(y) - 1, max(1, int(round(fraction * len(y)))))
            tr, va = np.arange(len(y) - n_va), np.arange(len(y) - n_va, len(y))
        else:
            tr, va = split_positions(np.asarray(y), dataset.task, fraction, rng)
        x_tr.append(x[tr])
        y_tr.append(y[tr])
        x_va.append(x[va])
        y_va.append(y[va])
    provenance = {**dataset.provenance,
                  "validation": {"fraction": fraction, "seed": int(seed),
                                 "split": "chronological (last windows)" if in_time
                                 else "random",
                                 "source_fingerprint": dataset.fingerprint(),
                                 "note": "test split and true groups removed"}}
    return FederatedDataset(
        client_ids=list(dataset.client_ids), x_train=x_tr, y_train=y_tr, x_test=x_va,
        y_test=y_va, feature_names=list(dataset.feature_names),
        label_names=list(dataset.label_names), input_shape=tuple(dataset.input_shape),
        true_groups=None, metadata=dataset.metadata, name=f"{dataset.name} (validation)",
        provenance=provenance, task=dataset.task)
