"""One engine for the clients of MANY runs: the data plane of a lockstep grid batch.

Clients of different grid cells are just more rows of the stacked weights. A
:class:`SharedEngine` concatenates the clients of several datasets (each distinct dataset
once, however many cells use it) into one :class:`~fedcore.engine.VectorisedEngine`; every
cell talks to a :class:`CellEngine`, a view that implements the engine protocol on its own
dataset's client indices, initial model seed and data order. :meth:`SharedEngine.fit_many`
then trains the participants of all cells of a round in ONE compiled call.

Each client keeps its own run's seeds: its data order is seeded by ``(its run's round seed,
its index in its own dataset)`` and its start model is its own cell's, and each cell's clients
are cut into compiled-program blocks exactly as on their own (``groups`` of
:meth:`~fedcore.engine.VectorisedEngine.fit_indexed`), so a cell's numbers are bit-identical
to the run on its own engine (tested).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..data_cache import dataset_fingerprint
from ..dataset import FederatedDataset
from ..models import build_model, initial_flat_weights, set_flat_weights
from .batching import epoch_orders
from .vectorised import VectorisedEngine


def concatenate_datasets(datasets: list[FederatedDataset]) -> FederatedDataset:
    """The clients of every dataset, one after another (ids prefixed ``d<k>/``)."""
    first = datasets[0]
    for ds in datasets[1:]:
        if tuple(ds.input_shape) != tuple(first.input_shape) or \
                ds.n_classes != first.n_classes or ds.task != first.task:
            raise ValueError("datasets of one shared engine need the same input shape, task "
                             "and number of classes")
    return FederatedDataset(
        client_ids=[f"d{k}/{c}" for k, ds in enumerate(datasets) for c in ds.client_ids],
        x_train=[x for ds in datasets for x in ds.x_train],
        y_train=[y for ds in datasets for y in ds.y_train],
        x_test=[x for ds in datasets for x in ds.x_test],
        y_test=[y for ds in datasets for y in ds.y_test],
        feature_names=list(first.feature_names), label_names=list(first.label_names),
        input_shape=tuple(first.input_shape), name="lockstep batch", task=first.task)


@dataclass
class FitRequest:
    """One cell's part of a lockstep training call.

    Attributes
    ----------
    cell : CellEngine
    start : ndarray (C, P)
        Start weights of the cell's participants (a broadcast view is shipped as one row).
    clients : ndarray (C,)
        Indices in the cell's own dataset.
    round_seed : int
    start_keys : ndarray (C,), optional
        The model key of each row of ``start``: rows with one key are shipped once.
    """

    cell: CellEngine
    start: np.ndarray
    clients: np.ndarray
    round_seed: int
    start_keys: np.ndarray | None = None


def _distinct_rows(start: np.ndarray, keys: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """(models, index) with ``models[index] == start``, each distinct start model once."""
    if len(start) and start.strides[0] == 0:
        return start[:1], np.zeros(len(start), dtype=np.int64)
    if keys is None:
        return start, np.arange(len(start))
    _, first, index = np.unique(np.asarray(keys), return_index=True, return_inverse=True)
    return start[first], index.reshape(-1)


class SharedEngine:
    """A vectorised engine over the concatenated clients of several datasets.

    Parameters
    ----------
    datasets : list of FederatedDataset
        Datasets with equal input shape and classes; repeated objects (or equal fingerprints)
        are stored once.
    model_spec : ModelSpec
    loss : Loss, optional
        The loss evaluation reports (default: the task's own, see
        :class:`~fedcore.engine.VectorisedEngine`).
    """

    def __init__(self, datasets: list[FederatedDataset], model_spec, loss=None):
        self.model_spec = model_spec
        distinct, by_content, self._slot = [], {}, {}
        for ds in datasets:
            if id(ds) in self._slot:  # the same object: no need to hash its data again
                continue
            key = dataset_fingerprint(ds)
            if key not in by_content:
                by_content[key] = len(distinct)
                distinct.append(ds)
            self._slot[id(ds)] = by_content[key]
        self._datasets = list(datasets)  # keeps the ids above valid
        sizes = [ds.n_clients for ds in distinct]
        self._offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        self.engine = VectorisedEngine(concatenate_datasets(distinct), model_spec, seed=0,
                                       loss=loss)
        self.n_params = self.engine.n_params

    def view(self, dataset: FederatedDataset, seed: int) -> CellEngine:
        """The engine protocol of one run (``dataset`` must be one of the datasets given)."""
        if id(dataset) not in self._slot:
            raise ValueError("the dataset is not one of this shared engine's datasets")
        slot = self._slot[id(dataset)]
        return CellEngine(self, dataset, int(self._offsets[slot]), int(seed))

    def fit_many(self, requests: list[FitRequest], fit) -> list:
        """Train the participants of every request in one engine call; one FitOutput each."""
        models, index, clients, seeds, order_ids, bounds = [], [], [], [], [], [0]
        n_models = 0
        for req in requests:
            own = np.asarray(req.clients, dtype=np.int64).reshape(-1)
            start = req.cell._check(req.start, len(own))
            rows, idx = _distinct_rows(start, req.start_keys)
            models.append(rows)
            index.append(idx + n_models)
            n_models += len(rows)
            clients.append(own + req.cell.offset)
            order_ids.append(own)
            seeds.append(np.full(len(own), int(req.round_seed), dtype=np.int64))
            bounds.append(bounds[-1] + len(own))
        return self.engine.fit_groups(np.concatenate(models), np.concatenate(index),
                                      np.concatenate(clients), fit, np.concatenate(seeds),
                                      order_ids=np.concatenate(order_ids),
                                      groups=np.diff(bounds).tolist())


class CellEngine:
    """The engine protocol for one run whose clients live inside a :class:`SharedEngine`.

    Client indices are the run's own (0..n_clients-1); ``initial_weights()`` is the model
    a :class:`VectorisedEngine` built with ``seed`` would start from.
    """

    def __init__(self, shared: SharedEngine, dataset: FederatedDataset, offset: int, seed: int):
        self.shared = shared
        self.dataset = dataset
        self.offset = offset
        self.seed = seed
        self.model_spec = shared.model_spec
        self.n_params = shared.n_params
        self._engine = shared.engine
        self._initial = initial_flat_weights(self._engine.model, seed)

    def _check(self, weights, n_rows):
        return self._engine._check_weights(weights, n_rows)

    def _global(self, clients) -> np.ndarray:
        clients = np.asarray(clients, dtype=np.int64).reshape(-1)
        if clients.size and (clients.min() < 0 or clients.max() >= self.dataset.n_clients):
            from ..errors import ConfigError
            raise ConfigError(f"client index out of range 0..{self.dataset.n_clients - 1}")
        return clients + self.offset

    def initial_weights(self, seed: int | None = None) -> np.ndarray:
        if seed is None:
            return self._initial.copy()
        return initial_flat_weights(self._engine.model, int(seed))

    def last_layer_slice(self) -> slice:
        return self._engine.last_layer_slice()

    def keras_model(self, flat: np.ndarray | None = None):
        model = build_model(self.model_spec, self.dataset.input_shape, self._engine.n_outputs,
                            self.seed, regression=self._engine.regression)
        if flat is not None:
            set_flat_weights(model, flat)
        return model

    def batch_order(self, client: int, round_seed: int, epochs: int) -> list[np.ndarray]:
        return epoch_orders(len(self.dataset.y_train[client]), epochs, round_seed, client)

    def fit(self, start_weights, clients, fit, round_seed: int):
        """This run's clients alone (a lockstep driver uses :meth:`SharedEngine.fit_many`)."""
        own = np.asarray(clients, dtype=np.int64).reshape(-1)
        self._global(own)
        return self.shared.fit_many([FitRequest(self, start_weights, own, round_seed)], fit)[0]

    def _raw_units(self, scores):
        """(loss, metric) with a regression RMSE in this run's target units.

        The shared engine holds several datasets, each standardised with its own target
        scale, so it reports RMSE on the standardised scale; this view rescales it.
        """
        loss, metric = scores
        if self._engine.regression:
            metric = metric * getattr(self.dataset, "target_std", 1.0)
        return loss, metric

    def evaluate_matrix(self, models, clients=None, split: str = "test"):
        clients = np.arange(self.dataset.n_clients) if clients is None else clients
        return self._raw_units(self._engine.evaluate_matrix(models, self._global(clients),
                                                            split=split))

    def evaluate_own(self, weights, clients, split: str = "test"):
        return self._raw_units(self._engine.evaluate_own(weights, self._global(clients),
                                                         split=split))

    def predict(self, model, clients, split: str = "test"):
        return self._engine.predict(model, self._global(clients), split=split)
