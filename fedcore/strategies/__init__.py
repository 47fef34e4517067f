"""Registry of federated strategies (one module per algorithm, each citing its paper).

``STRATEGIES`` maps the CLI/UI name to the :class:`~fedcore.strategies.base.Strategy` subclass;
every entry exposes ``name``, ``paper`` and ``param_schema`` for the dashboard's forms.
"""

from __future__ import annotations

from .base import EvaluateOutput, EvaluatePlan, FitPlan, ServerState, SimulationContext, Strategy
from .cfl import CFL
from .fedavg import FedAvg
from .fedgroup import FedGroup
from .fesem import FeSEM
from .flhc import FLHC
from .ifca import IFCA
from .kmeans_oneshot import KMeansOneShot
from .local import LocalOnly
from .oracle import Oracle
from .pacfl import PACFL

STRATEGIES: dict[str, type[Strategy]] = {
    cls.name: cls
    for cls in (FedAvg, LocalOnly, Oracle, FLHC, KMeansOneShot, CFL, IFCA, FeSEM, FedGroup, PACFL)
}

__all__ = ["STRATEGIES", "Strategy", "ServerState", "FitPlan", "EvaluatePlan", "EvaluateOutput",
           "SimulationContext"]
