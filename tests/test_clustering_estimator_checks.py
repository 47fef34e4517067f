"""The project's clusterers honour scikit-learn's estimator contract (``check_estimator``)."""

import numpy as np
import pytest
from sklearn.utils import get_tags
from sklearn.utils.estimator_checks import parametrize_with_checks

from fedcore.clustering.estimators import LinkageClustering, SpectralDistanceClustering


@parametrize_with_checks([
    LinkageClustering(),
    LinkageClustering(linkage="ward", n_clusters=3),
    SpectralDistanceClustering(),
])
def test_sklearn_estimator_contract(estimator, check):
    check(estimator)


@pytest.mark.parametrize("cls", [LinkageClustering, SpectralDistanceClustering])
def test_precomputed_metric_declares_pairwise_input(cls):
    assert get_tags(cls(metric="precomputed")).input_tags.pairwise
    assert not get_tags(cls()).input_tags.pairwise
    with pytest.raises(ValueError, match="square"):
        cls(metric="precomputed").fit(np.ones((4, 3)))
