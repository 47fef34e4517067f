"""The Flower bridge, both directions (the ONLY FedLens package importing ``flwr``).

* :class:`RecordingStrategy` wraps ANY Flower ``Strategy`` and records every round's client
  fit results (parameters -> flattened updates and weights, ``num_examples``, metrics), the
  clients' evaluation accuracy/loss and the cluster each client is in, into the FedLens
  exchange format (:mod:`fedcore.interop.exchange`). The cluster comes from, in order: the
  wrapped strategy's ``cluster_assignments()`` (dict client id -> cluster), a ``"cluster"``
  entry of the ``FitIns`` config the strategy sent the client, a ``"cluster"`` fit metric the
  client reported, else 0 (one global model).
* :class:`FedLensStrategy` exposes a FedLens strategy (``fedcore.strategies.STRATEGIES``) as a
  Flower ``Strategy``: its ``configure_fit``/``aggregate_fit`` hooks run unchanged on the
  server, and each client's ``FitIns``/``EvaluateIns`` carry the model of ITS cluster.
* :func:`run_in_process` runs Flower's own server loop (``flwr.server.Server``) over
  in-process clients, without Ray -- what the tests and quick experiments use; the strategies
  above work the same under ``flwr.simulation`` or a real deployment.

Flower 1.42 (``requirements-interop.txt``). Parameters travel as Flower ``Parameters``
(a list of arrays); FedLens works on one flat float32 vector per model: ``shapes`` says how to
cut it back into the clients' tensors.
"""

from ._arrays import flatten, unflatten
from .adapter import EngineClient, FedLensStrategy
from .in_process import InProcessClientProxy, run_in_process
from .recording import RecordingStrategy

__all__ = ["RecordingStrategy", "FedLensStrategy", "EngineClient", "run_in_process",
           "InProcessClientProxy", "flatten", "unflatten"]
