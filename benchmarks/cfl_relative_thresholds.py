"""Where CFL's relative thresholds come from: update norms on sklearn's ``digits``.

NOT the README benchmark (mnist_5k): the relative variant's defaults must not be tuned on the
data its comparison table reports. Runs CFL with splitting disabled (``relative_eps2`` huge) on
IID clients and on rotated clients (20 clients, 4 groups, logistic regression and MLP) and
prints, per round, the cluster's mean and largest update norm in units of the first round's
largest client norm. A good ``relative_eps1`` is a level the mean norm reaches when FedAvg
nears a joint stationary point; a good ``relative_eps2`` lies between the largest relative
norm of IID clients and that of rotated clients at that time.

    python benchmarks/cfl_relative_thresholds.py
"""

from __future__ import annotations

from fedcore.config import FitConfig, ModelSpec, SimulationConfig
from fedcore.runner import ExperimentSpec, run_experiment


def trajectory(scenario: str, model: str, rounds: int = 25, seed: int = 0) -> list[tuple]:
    config = SimulationConfig(rounds=rounds, seed=seed, model=ModelSpec(kind=model),
                              fit=FitConfig(lr=0.05))
    spec = ExperimentSpec(data="digits", method="cfl", scenario=scenario, n_clients=20,
                          n_groups=4, samples_per_client=80, data_seed=seed,
                          method_params={"criterion": "relative", "relative_eps2": 1e9},
                          config=config)
    _, result = run_experiment(spec)
    out = []
    for d in result.diagnostics:
        scale = d["norm_scale"][0]
        out.append((d["round"], d["mean_norm"][0] / scale, d["max_norm"][0] / scale))
    return out


def main() -> None:
    for model in ("logreg", "mlp"):
        for scenario in ("iid", "rotation"):
            rows = trajectory(scenario, model)
            text = " ".join(f"{r}:{m:.2f}/{x:.2f}" for r, m, x in rows)
            print(f"{model:6s} {scenario:8s} round:mean/max  {text}")


if __name__ == "__main__":
    main()
