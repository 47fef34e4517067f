"""Build an exchange record round by round from any training loop (NumPy, PyTorch, Flower)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from ..errors import DataError
from .exchange import REPRESENTATIONS, Exchange


class ExchangeRecorder:
    """Collect what each round produced, then write the exchange format.

    Parameters
    ----------
    client_ids : sequence of str
        Every client of the federation, in a fixed order.
    method : str
        Free-form method name shown in FedLens (e.g. ``"my-ifca"``).
    params : dict, optional
        Free-form (JSON) hyper-parameters.
    framework : str
        Where the run was made (``"numpy"``, ``"flower"``, ``"pytorch"``).
    keep : {"last", "all"}
        ``"last"`` keeps each client's most recent vector only (what FedLens clusters; memory
        N x P); ``"all"`` keeps every round (R x N x P).

    Examples
    --------
    >>> rec = ExchangeRecorder(["a", "b"], method="fedavg")
    >>> rec.record_round(assignments=[0, 0], accuracy=[0.9, 0.8], updates=np.ones((2, 3)))
    >>> rec.save("run.npz")  # doctest: +SKIP
    """

    def __init__(self, client_ids: Sequence[str], method: str = "imported",
                 params: dict | None = None, framework: str = "", keep: str = "last"):
        if keep not in ("last", "all"):
            raise ValueError("keep must be 'last' or 'all'")
        self.client_ids = [str(c) for c in client_ids]
        self.index = {c: i for i, c in enumerate(self.client_ids)}
        self.method, self.params, self.framework = method, dict(params or {}), framework
        self.keep = keep
        self.rounds: list[int] = []
        self.assignments: list[np.ndarray] = []
        self.accuracy: list[np.ndarray] = []
        self.loss: list[np.ndarray] = []
        self.reps: dict[str, list[np.ndarray]] = {}

    @property
    def n_clients(self) -> int:
        return len(self.client_ids)

    def _rows(self, clients) -> np.ndarray:
        if clients is None:
            return np.arange(self.n_clients)
        rows = []
        for c in clients:
            if isinstance(c, int | np.integer):
                rows.append(int(c))
            elif str(c) in self.index:
                rows.append(self.index[str(c)])
            else:
                raise DataError(f"exchange: unknown client {c!r} (not in client_ids)")
        return np.asarray(rows, dtype=np.int64)

    def _per_client(self, values, fill: float, clients=None) -> np.ndarray:
        out = np.full(self.n_clients, fill, dtype=np.float64)
        if values is None:
            return out
        if isinstance(values, Mapping):
            clients, values = list(values), list(values.values())
        values = np.asarray(values, dtype=np.float64)
        rows = self._rows(clients)
        if values.shape != rows.shape:
            raise DataError(f"exchange: got {values.shape[0] if values.ndim else 1} values for "
                            f"{len(rows)} clients")
        out[rows] = values
        return out

    def record_round(self, assignments, accuracy, loss=None, updates=None, weights=None,
                     clients=None, server_round: int | None = None) -> None:
        """Add one round.

        Parameters
        ----------
        assignments : array (N,) or dict client -> cluster
            Cluster of every client after the round.
        accuracy, loss : array (N,) or dict client -> value, optional
            Test metrics under each client's cluster model; missing clients are NaN.
        updates, weights : array (K, P) or dict client -> vector, optional
            Flattened local update / weights of the K clients that trained (``clients``
            names them; default all N in order).
        clients : sequence of ids or indices, optional
            Rows of ``updates``/``weights`` when they are arrays.
        server_round : int, optional
            Default: previous round + 1.
        """
        assign = self._per_client(assignments, np.nan)
        if np.isnan(assign).any():
            missing = self.client_ids[int(np.flatnonzero(np.isnan(assign))[0])]
            raise DataError(f"exchange: round without an assignment for client {missing!r}")
        self.rounds.append(server_round if server_round is not None
                           else (self.rounds[-1] + 1 if self.rounds else 1))
        self.assignments.append(assign.astype(np.int64))
        self.accuracy.append(self._per_client(accuracy, np.nan))
        self.loss.append(self._per_client(loss, np.nan))
        for name, vectors in (("updates", updates), ("weights", weights)):
            if vectors is not None:
                self._add_vectors(name, vectors, clients)

    def _add_vectors(self, name: str, vectors, clients) -> None:
        if isinstance(vectors, Mapping):
            clients, vectors = list(vectors), [np.ravel(v) for v in vectors.values()]
        mat = np.asarray(vectors, dtype=np.float32)
        mat = mat.reshape(len(mat), -1)
        rows = self._rows(clients)
        if len(rows) != len(mat):
            raise DataError(f"exchange: {len(mat)} '{name}' vectors for {len(rows)} clients")
        history = self.reps.setdefault(name, [])
        r = len(self.rounds) - 1
        if self.keep == "all":
            while len(history) <= r:
                width = mat.shape[1] if not history else history[0].shape[1]
                history.append(np.full((self.n_clients, width), np.nan, np.float32))
            if history[r].shape[1] != mat.shape[1]:
                raise DataError(f"exchange: '{name}' vectors changed length "
                                f"({history[r].shape[1]} -> {mat.shape[1]})")
            history[r][rows] = mat
        else:
            if not history:
                history.append(np.full((self.n_clients, mat.shape[1]), np.nan, np.float32))
            if history[0].shape[1] != mat.shape[1]:
                raise DataError(f"exchange: '{name}' vectors changed length "
                                f"({history[0].shape[1]} -> {mat.shape[1]})")
            history[0][rows] = mat

    def to_exchange(self, true_groups=None, num_examples=None, client_data=None,
                    data_options: dict | None = None, description: str = "") -> Exchange:
        """The validated :class:`Exchange` (raises :class:`DataError` when incomplete).

        ``client_data`` is a path to a data file in an upload format FedLens reads, or
        ``(file name, bytes)``; ``data_options`` its ``client_column``, ``label_column``,
        ``test_fraction``, ``seed``.
        """
        if not self.rounds:
            raise DataError("exchange: no round was recorded")
        reps = {}
        for name in REPRESENTATIONS:
            history = self.reps.get(name)
            if not history:
                continue
            if self.keep == "all":
                width = history[0].shape[1]
                while len(history) < len(self.rounds):
                    history.append(np.full((self.n_clients, width), np.nan, np.float32))
                reps[name] = np.stack(history)
            else:
                reps[name] = history[0]
                missing = np.isnan(history[0]).all(axis=1)
                if missing.any():
                    c = self.client_ids[int(np.flatnonzero(missing)[0])]
                    raise DataError(f"exchange: client {c!r} has no '{name}' in any round")
        if isinstance(client_data, str | Path):
            client_data = (Path(client_data).name, Path(client_data).read_bytes())
        return Exchange(client_ids=self.client_ids, assignments=np.stack(self.assignments),
                        accuracy=np.stack(self.accuracy), loss=np.stack(self.loss),
                        representations=reps, method=self.method, params=self.params,
                        framework=self.framework, description=description,
                        true_groups=true_groups, num_examples=num_examples,
                        rounds=np.asarray(self.rounds), client_data=client_data,
                        data_options=dict(data_options or {}))

    def save(self, path: str | Path, **kwargs) -> Path:
        """:meth:`to_exchange` then write ``path`` (``.npz`` file or a directory)."""
        return self.to_exchange(**kwargs).save(path)
