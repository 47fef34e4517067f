"""What the round loop needs from an engine, without importing TensorFlow.

:class:`Engine` is the typed contract of :class:`fedcore.engine.VectorisedEngine` (and of the
numpy fake in ``tests/fake_engine.py``): local training of many clients in one call, and
batched evaluation of any model on any client. The simulation loop, the strategies and a
future lockstep grid executor (many cells' clients stacked into ONE ``fit`` call) depend only on
this module, so importing them never loads TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol, runtime_checkable

import numpy as np

if TYPE_CHECKING:
    from ..config import FitConfig

Split = Literal["train", "test"]


@dataclass
class FitOutput:
    """Result of one round of local training.

    Attributes
    ----------
    weights : ndarray (C, P) float32
        Each participating client's weights after local training.
    num_examples : ndarray (C,) int64
        Training-set size of each client (FedAvg weights).
    train_loss : ndarray (C,) float64
        Mean loss over the samples of the last local epoch, each batch's loss measured before
        its update (Keras' ``history["loss"]``); nan if the client has no training data or
        diverged. The FedProx term is not included.
    finite : ndarray (C,) bool
        False if any weight or batch loss of that client became nan/inf.
    """

    weights: np.ndarray
    num_examples: np.ndarray
    train_loss: np.ndarray
    finite: np.ndarray


@runtime_checkable
class Engine(Protocol):
    """Local training and evaluation of the clients of one dataset.

    Weights are flat float32 vectors of ``n_params`` entries; ``clients`` are dataset indices.
    """

    n_params: int

    def initial_weights(self, seed: int | None = None) -> np.ndarray:
        """The seeded initial model (the engine's own seed when ``seed`` is None)."""

    def last_layer_slice(self) -> slice:
        """Where the output layer sits in the flat weights."""

    def fit(self, start_weights: np.ndarray, clients: np.ndarray, fit: FitConfig,
            round_seed: int) -> FitOutput:
        """Train ``clients`` from ``start_weights`` (C, P); data order seeded by ``round_seed``."""

    def evaluate_matrix(self, models: np.ndarray, clients: np.ndarray | None = None,
                        split: Split = "test") -> tuple[np.ndarray, np.ndarray]:
        """(loss, accuracy), each (M, C): every model of ``models`` (M, P) on every client."""

    def evaluate_own(self, weights: np.ndarray, clients: np.ndarray,
                     split: Split = "test") -> tuple[np.ndarray, np.ndarray]:
        """(loss, accuracy), each (C,): row ``i`` of ``weights`` on client ``clients[i]``."""
