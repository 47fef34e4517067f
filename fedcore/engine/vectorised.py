"""The vectorised federated engine: local training and evaluation of many clients at once.

All participating clients of a round train in ONE compiled TensorFlow program over
stacked weights (leading client axis), with padded, masked batches; the math equals a
plain per-client Keras loop (see ``tests/test_engine.py``). The idea of vectorising
clients follows FedJAX (Ro et al., 2021, "FedJAX: Federated learning simulation with
JAX"), here with TensorFlow and Keras-defined models.
"""

from __future__ import annotations

import math

import keras
import numpy as np
import tensorflow as tf

from ..config import FitConfig, Loss, ModelSpec
from ..errors import ConfigError
from ..models import (
    build_model,
    get_flat_weights,
    initial_flat_weights,
    param_layout,
    set_flat_weights,
)
from ..regression_metrics import task_of
from .batching import (
    ConcatenatedSplit,
    check_split,
    epoch_orders,
    training_steps,
)
from .programs import activation_floats, architecture_key, programs_for
from .protocol import FitOutput
from .vectorised_eval import EngineEvaluation

#: Floats one compiled call may allocate for activations and weight copies (~0.5 GB);
#: larger requests are split into client (or row) chunks run one after another.
MEMORY_BUDGET_FLOATS = 2 ** 27

#: Local weights one training block of clients may hold (~14 MB, ~22 MLP clients). A block
#: runs ALL its local steps before the next block starts, so its weights and gradients stay in
#: the last-level cache instead of streaming every client's weights from memory at every step:
#: measured 1.2-1.6x faster per client than one 100-client call on the 2-core machine (32 MB
#: L3), while blocks of 10 pay per-step overhead (``benchmarks/engine.py`` prints the sweep).
CACHE_BLOCK_FLOATS = 3_500_000


class VectorisedEngine(EngineEvaluation):
    """Trains and evaluates every client of ``dataset`` in batched TensorFlow programs.

    Parameters
    ----------
    dataset : FederatedDataset
        Preprocessed once into concatenated train/test arrays.
    model_spec : ModelSpec
    seed : int
        Seed of the initial weights.
    loss : Loss, optional
        The loss evaluation reports (and IFCA-style cluster choice minimises); default the
        task's own (cross-entropy, or MSE for a regression dataset). Training uses the
        ``FitConfig`` of each call (:meth:`FitConfig.loss_for`).

    Notes
    -----
    The second value of every evaluation is the task's primary metric per client:
    accuracy, or RMSE on a regression task (:func:`fedcore.regression_metrics.primary_metric`).
    """

    def __init__(self, dataset, model_spec: ModelSpec, seed: int = 0, loss: Loss | None = None):
        # Bit-identical outputs for identical inputs (process-wide TensorFlow switch).
        tf.config.experimental.enable_op_determinism()
        self.dataset = dataset
        self.model_spec = model_spec
        self.seed = int(seed)
        self.task = task_of(dataset)
        self.loss = FitConfig().loss_for(self.task) if loss is None else loss
        if self.loss.is_regression != (self.task == "regression"):
            raise ConfigError(f"loss {self.loss.kind!r} does not fit a {self.task} task")
        self.regression = self.task == "regression"
        self.n_outputs = 1 if self.regression else dataset.n_classes
        self.model = build_model(model_spec, dataset.input_shape, self.n_outputs, seed,
                                 regression=self.regression)
        self.layout = param_layout(self.model)
        self.n_params = int(self.layout[-1][3])
        self.n_features = int(math.prod(dataset.input_shape))
        self._initial = get_flat_weights(self.model)
        self._splits = {
            "train": ConcatenatedSplit.from_lists(dataset.x_train, dataset.y_train,
                                                  self.n_features, self.regression),
            "test": ConcatenatedSplit.from_lists(dataset.x_test, dataset.y_test,
                                                 self.n_features, self.regression)}
        for name, split in self._splits.items():
            check_split(dataset, split, name)
        self._tensors = {}
        for name, split in self._splits.items():
            self._tensors[name] = (tf.constant(split.x), tf.constant(split.y))
            split.x = None  # keep ONE copy of the features (the tensor); rows are gathered
        programs = programs_for(
            architecture_key(model_spec, dataset.input_shape, self.n_outputs),
            self.model, self.layout, self.n_features)
        self._train, self._eval = programs.train, programs.eval
        self._floats_per_sample = activation_floats(self.model, self.n_features)

    # ---- model and weights ---------------------------------------------------------------
    def initial_weights(self, seed: int | None = None) -> np.ndarray:
        """The initial model, flat (P,) float32 (a copy).

        ``seed=None`` gives the engine's own initial model (seeded by the engine's ``seed``);
        another seed draws a fresh, equally distributed initialisation (IFCA's K models).
        """
        if seed is None:
            return self._initial.copy()
        return initial_flat_weights(self.model, int(seed))

    def last_layer_slice(self) -> slice:
        """Kernel and bias of the output layer within the flat weight vector."""
        last_layer = self.model.layers[-1]
        names = {v.path for v in last_layer.trainable_weights}
        starts = [start for name, _, start, _ in self.layout if name in names]
        stops = [stop for name, _, _, stop in self.layout if name in names]
        return slice(min(starts), max(stops))

    def keras_model(self, flat: np.ndarray | None = None) -> keras.Model:
        """A fresh Keras model (flat-vector input, logits output) holding ``flat``."""
        model = build_model(self.model_spec, self.dataset.input_shape, self.n_outputs,
                            self.seed, regression=self.regression)
        if flat is not None:
            set_flat_weights(model, flat)
        return model

    def batch_order(self, client: int, round_seed: int, epochs: int) -> list[np.ndarray]:
        """Per-epoch order of ``client``'s training rows (local indices) in a round.

        Training cuts each array into consecutive batches of ``batch_size``, the last one
        partial -- exactly ``model.fit(x[order], y[order], shuffle=False)``.
        """
        n = int(self._splits["train"].sizes[client])
        return epoch_orders(n, epochs, round_seed, client)

    # ---- training --------------------------------------------------------------------------
    def fit(self, start_weights: np.ndarray, clients, fit: FitConfig,
            round_seed: int) -> FitOutput:
        """Local training of ``clients`` (dataset indices) from ``start_weights`` (C, P)."""
        clients = np.asarray(clients, dtype=np.int64).reshape(-1)
        start = self._check_weights(start_weights, len(clients))
        if start.strides[0] == 0 and len(clients):
            # A broadcast start (every client from the same model) travels as ONE row.
            models, index = start[:1], np.zeros(len(clients), dtype=np.int64)
        else:
            models, index = start, np.arange(len(clients))
        return self.fit_indexed(models, index, clients, fit, round_seed)

    def fit_indexed(self, models: np.ndarray, start_index, clients, fit: FitConfig,
                    round_seed, order_ids=None, groups=None) -> FitOutput:
        """Local training of ``clients`` where client ``i`` starts from ``models[start_index[i]]``.

        Parameters
        ----------
        models : ndarray (M, P)
            The distinct start models.
        start_index : array (C,) of int
        clients : array (C,) of int
            Dataset indices.
        fit : FitConfig
        round_seed : int or array (C,)
            Seed of each client's data order.
        order_ids : array (C,) of int, optional
            Client number seeding each order (default ``clients``); see
            :func:`~fedcore.engine.batching.training_steps`.
        groups : list of int, optional
            Sizes of consecutive runs of clients (one per lockstep cell) that are cut into
            blocks on their own, exactly as a call with that run's clients alone would be.
            The batched matmul kernels pick their blocking from the operand shapes, so equal
            shapes keep every client's arithmetic bit-identical to the run on its own (other
            shapes differ in the last bits, which 20 rounds of SGD amplify to visibly
            different accuracies).
        """
        outs = self.fit_groups(models, start_index, clients, fit, round_seed, order_ids, groups)
        if len(outs) == 1:
            return outs[0]
        return FitOutput(*(np.concatenate([getattr(o, f) for o in outs])
                           for f in ("weights", "num_examples", "train_loss", "finite")))

    def fit_groups(self, models: np.ndarray, start_index, clients, fit: FitConfig,
                   round_seed, order_ids=None, groups=None) -> list[FitOutput]:
        """:meth:`fit_indexed`, one :class:`FitOutput` per group in its OWN arrays.

        A lockstep round of 24 cells x 20 MLP clients would otherwise write a fresh (480, P)
        array (0.3 GB): memory that malloc maps anew every round and the kernel faults in page
        by page, measured 1-1.5 s per round on the loaded 2-core machine -- as long as the
        training itself. Per-group arrays (13 MB) come from malloc's reused heap.
        """
        clients = np.asarray(clients, dtype=np.int64).reshape(-1)
        models = self._check_weights(models, None)
        start_index = np.asarray(start_index, dtype=np.int64).reshape(-1)
        if len(start_index) != len(clients) or (start_index.size and (
                start_index.min() < 0 or start_index.max() >= len(models))):
            raise ConfigError("start_index must give one model row per client")
        if np.any(np.asarray(round_seed) < 0):
            raise ConfigError(f"round_seed must be >= 0 (got {round_seed})")
        if clients.size and (clients.min() < 0 or clients.max() >= self.dataset.n_clients):
            raise ConfigError(f"client index out of range 0..{self.dataset.n_clients - 1}")
        seeds = np.broadcast_to(np.asarray(round_seed, dtype=np.int64), clients.shape)
        order_ids = clients if order_ids is None else np.asarray(order_ids, dtype=np.int64)
        bounds = np.cumsum([0, *([len(clients)] if groups is None else groups)])
        if bounds[-1] != len(clients):
            raise ConfigError("groups must add up to the number of clients")
        split = self._splits["train"]
        copies = 6 if fit.optimizer == "adam" else 4
        per_client = (fit.batch_size * self._floats_per_sample * 3 + self.n_params * copies)
        block = max(1, CACHE_BLOCK_FLOATS // self.n_params)
        outs = []
        for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist()):
            group = slice(a, b)
            if split.y.size == 0 or a == b:
                start = models[start_index[group]]
                outs.append(FitOutput(weights=start, num_examples=split.sizes[clients[group]],
                                      train_loss=np.full(b - a, np.nan),
                                      finite=np.isfinite(start).all(axis=1)))
                continue
            weights = np.empty((b - a, self.n_params), dtype=np.float32)
            loss, bad = np.full(b - a, np.nan), np.zeros(b - a, dtype=bool)
            for p in self._client_chunks(b - a, per_client, block):
                part = slice(a + p.start, a + p.stop)
                loss[p], bad[p] = self._train_block(
                    weights[p], models, start_index[part], clients[part], fit, seeds[part],
                    order_ids[part])
            finite = np.isfinite(weights).all(axis=1) & ~bad
            loss[~finite] = np.nan
            outs.append(FitOutput(weights=weights,
                                  num_examples=split.sizes[clients[group]].astype(np.int64),
                                  train_loss=loss, finite=finite))
        return outs

    def _train_block(self, out, models, start_index, clients, fit, seeds, order_ids):
        """Train one compiled-program block of clients into ``out`` (n, P); (loss, bad)."""
        split = self._splits["train"]
        x_all, y_all = self._tensors["train"]
        program = self._train(fit.optimizer, fit.prox_mu > 0, fit.loss_for(self.task))
        plan = training_steps(split, clients, fit.batch_size, fit.local_epochs, seeds,
                              order_ids)
        used, local_index = np.unique(start_index, return_inverse=True)
        first = models[used]
        # Weights cross the boundary per tensor (views in, slices out): no (C, P)
        # split/concat copies inside the program.
        parts = [tf.constant(first[:, a:b].reshape(-1, *shape))
                 for _, shape, a, b in self.layout]
        new_w, part_loss, part_bad = program(
            x_all, y_all, parts, tf.constant(local_index.astype(np.int32)),
            tf.constant(plan.rows), tf.constant(plan.mask),
            tf.constant(plan.last_epoch), tf.constant(fit.lr, tf.float32),
            tf.constant(fit.prox_mu, tf.float32))
        for (_, _, a, b), tensor in zip(self.layout, new_w):
            # np.asarray views the tensor's buffer; .numpy() would copy it once more first.
            out[:, a:b] = np.asarray(tensor).reshape(len(clients), -1)
        return part_loss.numpy(), part_bad.numpy()

    # ---- helpers ---------------------------------------------------------------------------
    def _memory_budget(self) -> int:
        """Floats one compiled call may allocate (the module constant, patchable in tests)."""
        return MEMORY_BUDGET_FLOATS

    def _split(self, split: str) -> ConcatenatedSplit:
        if split not in self._splits:
            raise ConfigError(f"unknown split {split!r}; choose 'train' or 'test'")
        return self._splits[split]

    def _check_weights(self, weights, n_rows) -> np.ndarray:
        weights = np.asarray(weights, dtype=np.float32)  # broadcast views stay uncopied
        if weights.ndim == 1:
            weights = weights[None, :]
        if weights.ndim != 2 or weights.shape[1] != self.n_params or \
                (n_rows is not None and weights.shape[0] != n_rows):
            raise ConfigError(f"weights must have shape ({n_rows if n_rows is not None else 'M'},"
                              f" {self.n_params}); got {weights.shape}")
        return weights

    def _client_chunks(self, n_clients: int, floats_per_client: int,
                       most: int | None = None) -> list[slice]:
        size = max(1, MEMORY_BUDGET_FLOATS // max(int(floats_per_client), 1))
        size = size if most is None else min(size, most)
        # Equal blocks (100 clients in blocks of <= 22 -> 5 x 20): no small tail block.
        size = -(-n_clients // -(-n_clients // size)) if n_clients else size
        return [slice(i, min(i + size, n_clients)) for i in range(0, n_clients, size)] or \
            [slice(0, 0)]
