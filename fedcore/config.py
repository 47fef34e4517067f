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
    """

    local_epochs: int = 1
    batch_size: int = 32
    lr: float = 0.05
    optimizer: str = "sgd"
    prox_mu: float = 0.0

    def __post_init__(self):
        if self.optimizer not in ("sgd", "adam"):
            raise ConfigError(f"unknown optimizer {self.optimizer!r}; choose sgd or adam")
        if self.local_epochs < 1 or self.batch_size < 1 or not self.lr > 0 or self.prox_mu < 0:
            raise ConfigError("local_epochs and batch_size must be >= 1, lr > 0, prox_mu >= 0")


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
        d = asdict(self)
        d["model"]["hidden"] = list(d["model"]["hidden"])
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
