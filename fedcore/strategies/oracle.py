"""Oracle clustering: FedAvg within each TRUE group (the upper bound of any CFL method).

Used as the reference in the CFL literature, e.g. Ghosh, Chung, Yin, Ramchandran (2020),
"An Efficient Framework for Clustered Federated Learning", NeurIPS (the "oracle" baseline).
"""

from __future__ import annotations

import numpy as np

from ..errors import ConfigError
from .base import ServerState, Strategy


class Oracle(Strategy):
    """Clusters are the dataset's known ``true_groups``; needs a scenario with ground truth."""

    name = "oracle"
    color = "#999933"
    paper = "Ghosh et al., NeurIPS 2020 (oracle baseline)"
    param_schema: dict = {}

    def initialize(self, ctx) -> ServerState:
        groups = ctx.dataset.true_groups
        if groups is None:
            raise ConfigError("oracle needs true groups: pick a scenario with known groups "
                              "(or a dataset with a group column)")
        groups = np.asarray(groups, dtype=np.int64)
        return ServerState(models={int(g): ctx.initial_weights.copy() for g in np.unique(groups)},
                           assignments=groups.copy())
