"""Configuration dataclasses shared by the engine, the simulation loop, the CLI and the UI."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

from .errors import ConfigError


@dataclass(frozen=True)
class ModelSpec:
    """Which Keras model to build.

    Parameters
    ----------
    kind : {"logreg", "mlp", "cnn"}
        Logistic regression, multi-layer perceptron, or a small CNN for square images.
    hidden : tuple of int
        Hidden layer widths of the MLP (ignored by ``logreg``; dense head of ``cnn``).
    """

    kind: str = "mlp"
    hidden: tuple[int, ...] = (200,)

    def __post_init__(self):
        if self.kind not in ("logreg", "mlp", "cnn"):
            raise ConfigError(f"unknown model kind {self.kind!r}; choose logreg, mlp or cnn")
        object.__setattr__(self, "hidden", tuple(int(h) for h in self.hidden))


@dataclass(frozen=True)
class FitConfig:
    """Local training of one round on every participating client.

    Parameters
    ----------
    local_epochs : int
    batch_size : int
    lr : float
    optimizer : {"sgd", "adam"}
        Optimiser state is reset at the start of every round (as in FedAvg/FedProx).
    prox_mu : float
        FedProx proximal term ``mu/2 * ||w - w_start||^2`` (0 disables it).
    loss : {"auto", "cross_entropy", "mse", "huber"}
        Training (and evaluation) loss. ``auto``: softmax cross-entropy on a classification
        task, mean squared error on a regression task. ``mse`` and ``huber`` (Huber 1964,
        quadratic within ``huber_delta`` of the target, linear beyond) need a regression
        task and ``cross_entropy`` a classification one: :meth:`loss_for` refuses the other
        pairs with a ConfigError rather than silently training something else. On a
        regression task the loss is on standardised targets
        (:attr:`~fedcore.dataset.FederatedDataset.target_scale`), so it reads the same for
        any unit; reported errors (MAE, RMSE) are in the target's own units.
    huber_delta : float
        Where the Huber loss turns from quadratic to linear (> 0; used by ``huber`` only),
        in standard deviations of the (standardised) training targets, not raw units.
    """

    local_epochs: int = 1
    batch_size: int = 32
    lr: float = 0.05
    optimizer: str = "sgd"
    prox_mu: float = 0.0
    loss: str = "auto"
    huber_delta: float = 1.0

    def __post_init__(self):
        if self.optimizer not in ("sgd", "adam"):
            raise ConfigError(f"unknown optimizer {self.optimizer!r}; choose sgd or adam")
        if self.local_epochs < 1 or self.batch_size < 1 or not self.lr > 0 or self.prox_mu < 0:
            raise ConfigError("local_epochs and batch_size must be >= 1, lr > 0, prox_mu >= 0")
        if self.loss not in LOSSES:
            raise ConfigError(f"unknown loss {self.loss!r}; choose {', '.join(LOSSES)}")
        if not float(self.huber_delta) > 0:
            raise ConfigError(f"huber_delta must be > 0 (got {self.huber_delta})")

    def loss_for(self, task: str) -> Loss:
        """The :class:`Loss` this config trains a ``task`` with (ConfigError if they clash)."""
        kind = self.loss
        if kind == "auto":
            kind = "mse" if task == "regression" else "cross_entropy"
        if (kind == "cross_entropy") != (task != "regression"):
            need = "mse or huber" if task == "regression" else "cross_entropy"
            raise ConfigError(f"loss {kind!r} does not fit a {task} task; use {need} "
                              "(or auto)")
        return Loss(kind, float(self.huber_delta) if kind == "huber" else 0.0)


#: Loss names a :class:`FitConfig` accepts.
LOSSES = ("auto", "cross_entropy", "mse", "huber")


@dataclass(frozen=True)
class Loss:
    """A resolved training loss: what the engine's compiled programs are built for.

    Parameters
    ----------
    kind : {"cross_entropy", "mse", "huber"}
    delta : float
        Huber threshold (0 for the other kinds).
    """

    kind: str = "cross_entropy"
    delta: float = 0.0

    @property
    def is_regression(self) -> bool:
        return self.kind != "cross_entropy"


@dataclass(frozen=True)
class SimulationConfig:
    """One simulated federated run.

    Parameters
    ----------
    rounds : int
    fit : FitConfig
    model : ModelSpec
    fraction_fit : float
        Fraction of clients sampled each round (1.0 = all).
    seed : int
        Model initialisation, client sampling and local data shuffling. The data split has
        its own seed (scenario ``seed``), so the two can be varied separately.
    """

    rounds: int = 10
    fit: FitConfig = field(default_factory=FitConfig)
    model: ModelSpec = field(default_factory=ModelSpec)
    fraction_fit: float = 1.0
    seed: int = 0

    def __post_init__(self):
        if self.rounds < 1:
            raise ConfigError("rounds must be >= 1")
        if not 0 < self.fraction_fit <= 1:
            raise ConfigError("fraction_fit must be in (0, 1]")

    def to_dict(self) -> dict:
        """Plain dict; loss settings at their defaults are left out so the configs (and the
        grid cell ids hashed from them) of runs made before they existed stay the same."""
        d = asdict(self)
        d["model"]["hidden"] = list(d["model"]["hidden"])
        for key, default in (("loss", "auto"), ("huber_delta", 1.0)):
            if d["fit"][key] == default:
                del d["fit"][key]
        return d

    @classmethod
    def from_dict(cls, d: dict) -> SimulationConfig:
        d = dict(d)
        fit = FitConfig(**_known(FitConfig, d.pop("fit", {})))
        model = ModelSpec(**_known(ModelSpec, d.pop("model", {})))
        return cls(fit=fit, model=model, **_known(cls, d))


def _known(cls, d: dict) -> dict:
    names = {f.name for f in fields(cls)}
    unknown = set(d) - names
    if unknown:
        raise ConfigError(f"unknown {cls.__name__} setting(s): {', '.join(sorted(unknown))}")
    return {k: v for k, v in d.items() if k in names}
