"""FedAvg: one global model, weighted average of the clients' local models.

McMahan, Moore, Ramage, Hampson, Agüera y Arcas (2017). "Communication-Efficient Learning of
Deep Networks from Decentralized Data". AISTATS. With ``prox_mu > 0`` in the fit config the
same strategy is FedProx (Li et al., 2020, MLSys): the proximal term lives in the local trainer.
"""

from __future__ import annotations

from .base import Strategy


class FedAvg(Strategy):
    """The non-clustered baseline: every client shares model 0."""

    name = "fedavg"
    color = "#0072B2"
    paper = "McMahan et al., AISTATS 2017"
    param_schema: dict = {}
