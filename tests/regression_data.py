"""A tiny regression federation where clustering matters: ``y = +-2 x0 + noise``.

Clients of group 0 have slope +2 on feature 0, clients of group 1 slope -2; every other
feature is noise. One global model can only fit the average (slope 0); a model per group
fits each group almost perfectly.
"""

import numpy as np

from fedcore.dataset import FederatedDataset


def slope_groups(n_clients=8, n_train=40, n_test=20, d=4, noise=0.1, seed=0):
    """Regression FederatedDataset with true groups ``i % 2`` (slope ``+2`` or ``-2``)."""
    rng = np.random.default_rng(seed)
    groups = np.arange(n_clients) % 2

    def draw(n, g):
        x = rng.normal(size=(n, d)).astype(np.float32)
        sign = 1.0 if g == 0 else -1.0
        return x, (sign * 2.0 * x[:, 0] + noise * rng.normal(size=n)).astype(np.float32)

    train = [draw(n_train, g) for g in groups]
    test = [draw(n_test, g) for g in groups]
    return FederatedDataset(
        client_ids=[f"site{i}" for i in range(n_clients)],
        x_train=[a for a, _ in train], y_train=[b for _, b in train],
        x_test=[a for a, _ in test], y_test=[b for _, b in test],
        feature_names=[f"x{j}" for j in range(d)], label_names=["y"], input_shape=(d,),
        true_groups=groups, name="slopes", task="regression")
