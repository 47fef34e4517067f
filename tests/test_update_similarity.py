"""CFL's float32 Gram-matrix cosine geometry equals the float64 definition to tight tolerance."""

import numpy as np
import pytest

from fedcore.clustering.geometry import cosine_similarity_matrix
from fedcore.clustering.similarity import update_cosine_geometry


def test_equals_float64_cosine_and_norms_on_long_updates():
    rng = np.random.default_rng(3)
    centres = rng.normal(size=(2, 50_000))
    updates = (centres[rng.integers(0, 2, 12)] * rng.uniform(0.1, 5, (12, 1))
               + rng.normal(0, 2.0, (12, 50_000))).astype(np.float32)
    similarity, norms = update_cosine_geometry(updates)
    reference = cosine_similarity_matrix(updates.astype(np.float64))
    assert similarity.dtype == np.float64 and similarity.shape == (12, 12)
    np.testing.assert_allclose(similarity, reference, rtol=0, atol=1e-5)
    np.testing.assert_allclose(norms, np.linalg.norm(updates.astype(np.float64), axis=1),
                               rtol=1e-5)
    np.testing.assert_array_equal(similarity, similarity.T)
    np.testing.assert_allclose(np.diag(similarity), 1.0, atol=1e-12)


def test_unusable_and_zero_rows_are_similar_to_nothing():
    rng = np.random.default_rng(0)
    updates = rng.normal(size=(5, 300)).astype(np.float32)
    updates[1] = np.nan  # a diverged client
    updates[3] = 0.0  # a client that did not move
    usable = np.array([True, False, True, True, True])
    similarity, norms = update_cosine_geometry(updates, usable)
    assert np.isfinite(similarity).all()
    for row in (1, 3):
        assert not similarity[row].any() and not similarity[:, row].any()
        assert norms[row] == 0.0
    reference = cosine_similarity_matrix(np.where(usable[:, None], updates, 0.0))
    np.testing.assert_allclose(similarity, reference, atol=1e-6)


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_parallel_updates_stay_within_minus_one_and_one(sign):
    row = np.linspace(-1, 1, 1000, dtype=np.float32)
    similarity, _ = update_cosine_geometry(np.stack([row, sign * 3 * row]))
    assert similarity[0, 1] == pytest.approx(sign, abs=1e-6)
    assert np.abs(similarity).max() <= 1.0
