"""Linear algebra shared by the representation cache, the estimators and embeddings.

* PCA scores from the eigendecomposition of a centred Gram matrix, and classical
  (Torgerson 1952, "Multidimensional scaling: I. Theory and method") MDS coordinates
  from a distance matrix -- the same computation on ``-1/2 J D^2 J``.
* Leading eigenvectors of the symmetric-normalised Gaussian affinity used by spectral
  clustering (Ng, Jordan & Weiss 2002, "On spectral clustering: analysis and an
  algorithm").
"""

from __future__ import annotations

import os

import numpy as np
import scipy.linalg
from threadpoolctl import ThreadpoolController

GRAM_CHUNK = 32768
_CONTROLLER: ThreadpoolController | None = None


def limited_threads():
    """Context manager capping BLAS/OpenMP pools (default 1 thread).

    Measured on the shared 2-core build machine at load ~12: a 300 x 159,010 Gram took
    0.6 s single-threaded and 9.6 s with 2 threads (spin-waiting), k-means on 1000 x 50
    0.05 s vs 1-3 s. On an idle machine one thread costs at most ~2x on the one-off Gram.
    Override with the environment variable ``FEDLENS_CLUSTER_THREADS``.
    """
    global _CONTROLLER
    if _CONTROLLER is None:
        _CONTROLLER = ThreadpoolController()
    limit = int(os.environ.get("FEDLENS_CLUSTER_THREADS", "1"))
    return _CONTROLLER.limit(limits=max(1, limit))


def top_eigh(matrix: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Largest-k eigenpairs of a symmetric matrix, descending (subset solver when k < n)."""
    n = matrix.shape[0]
    k = max(1, min(k, n))
    sym = (matrix + matrix.T) / 2
    if k < n:
        vals, vecs = scipy.linalg.eigh(sym, subset_by_index=[n - k, n - 1], driver="evr")
    else:
        vals, vecs = np.linalg.eigh(sym)
    return vals[::-1], vecs[:, ::-1]


def gram_centred(X: np.ndarray, chunk: int = GRAM_CHUNK) -> tuple[np.ndarray, np.ndarray]:
    """Centred Gram matrix ``C C^T`` (N, N) float64 and ``X @ mean`` (N,), column-chunked.

    Chunking over columns keeps extra memory at N x ``chunk`` and accumulates the chunk
    products in float64.
    """
    n, d = X.shape
    mean = X.mean(axis=0, dtype=np.float64)
    gram = np.zeros((n, n), dtype=np.float64)
    x_dot_mean = np.zeros(n, dtype=np.float64)
    # float64 inputs stay float64; float32 (model weights) stay float32 to save memory.
    work = np.float64 if X.dtype == np.float64 else np.float32
    for start in range(0, d, chunk):
        block = np.asarray(X[:, start:start + chunk], dtype=work)
        mu = mean[start:start + chunk]
        x_dot_mean += block @ mu.astype(work)
        centred = block - mu.astype(work)
        gram += (centred @ centred.T).astype(np.float64)
    return gram, x_dot_mean


def span_coordinates(X: np.ndarray) -> np.ndarray:
    """Coordinates (N, min(N, d)) of the centred rows of ``X`` in an orthonormal basis of
    their span: every distance between rows, and between any means of rows, is unchanged.

    Anything that only sees such distances (k-means: Lloyd steps and k-means++ seeding use
    distances to means of rows) gives the same answer on these N columns as on the d original
    ones, at a cost independent of d after one thin QR (``Xc^T = Q R``, coordinates ``R^T``).
    """
    X = np.asarray(X, dtype=np.float64)
    centred = X - X.mean(axis=0)
    with limited_threads():
        r = np.linalg.qr(centred.T, mode="r")
    return np.ascontiguousarray(r.T)


def _fix_signs(vecs: np.ndarray) -> np.ndarray:
    """Make the largest-magnitude entry of every column positive (reproducible signs)."""
    if vecs.shape[1] == 0:
        return vecs
    signs = np.sign(vecs[np.abs(vecs).argmax(axis=0), np.arange(vecs.shape[1])])
    signs[signs == 0] = 1.0
    return vecs * signs


def top_eigen_coords(gram: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates ``U sqrt(lambda)`` of the top-k positive eigenpairs, and the eigenvalues."""
    n = gram.shape[0]
    vals, vecs = top_eigh(gram, k)
    keep = vals > max(1e-10 * max(vals[0], 0.0), 1e-12)
    if not keep.any():
        return np.zeros((n, 1)), np.zeros(1)
    vals, vecs = vals[keep], _fix_signs(vecs[:, keep])
    return vecs * np.sqrt(vals), vals


def classical_mds(distance: np.ndarray, n_components: int = 50) -> tuple[np.ndarray, np.ndarray]:
    """Torgerson coordinates (N, <= n_components) whose distances approximate ``distance``."""
    d = np.asarray(distance, dtype=np.float64)
    n = d.shape[0]
    sq = d ** 2
    # -1/2 J D^2 J without forming J: subtract row/column means, add the grand mean.
    b = -0.5 * (sq - sq.mean(axis=0)[None, :] - sq.mean(axis=1)[:, None] + sq.mean())
    return top_eigen_coords(b, min(n_components, n))


def spectral_basis_from_distance(distance: np.ndarray, sigma_scale: float,
                                 n_vectors: int) -> np.ndarray:
    """Leading eigenvectors of ``D^-1/2 A D^-1/2`` with ``A = exp(-d^2 / 2 sigma^2)``.

    ``sigma = sigma_scale x median off-diagonal distance``.
    """
    d = np.asarray(distance, dtype=np.float64)
    n = d.shape[0]
    off = d[~np.eye(n, dtype=bool)]
    sigma = float(np.median(off)) * float(sigma_scale) if off.size else 1.0
    sigma = sigma if sigma > 0 else 1.0
    affinity = np.exp(-(d ** 2) / (2 * sigma ** 2))
    inv_sqrt = 1.0 / np.sqrt(np.maximum(affinity.sum(axis=1), 1e-12))
    _, vecs = top_eigh(affinity * inv_sqrt[:, None] * inv_sqrt[None, :], n_vectors)
    return _fix_signs(vecs)
