"""Image-space group transforms on flat image rows (n, H*W*C).

References
----------
* Rotated-MNIST clusters: Ghosh et al. (2020), "An Efficient Framework for Clustered
  Federated Learning" (IFCA), NeurIPS; Sattler, Müller & Samek (2021), "Clustered
  Federated Learning", IEEE TNNLS.
* Stroke-thickness feature skew (erosion/dilation): in the spirit of Li et al. (2022),
  "Federated Learning on Non-IID Data Silos: An Experimental Study", ICDE.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage


def as_images(X: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    return X.reshape((len(X),) + tuple(shape))


def rotate(X: np.ndarray, shape: tuple[int, ...], degrees: float) -> np.ndarray:
    """Rotate every image counter-clockwise; multiples of 90 degrees are exact (np.rot90)."""
    imgs = as_images(X, shape)
    if degrees % 90 == 0:
        out = np.rot90(imgs, k=int(degrees // 90) % 4, axes=(1, 2))
    else:
        out = ndimage.rotate(imgs, degrees, axes=(2, 1), reshape=False, order=1,
                             mode="constant", cval=0.0)
    return np.ascontiguousarray(out).reshape(len(X), -1).astype(np.float32)


def morph(X: np.ndarray, shape: tuple[int, ...], op: str, size: int) -> np.ndarray:
    """Grey-scale dilation (thicker strokes) or erosion (thinner) with a size x size window."""
    imgs = as_images(X, shape)
    func = ndimage.grey_dilation if op == "dilate" else ndimage.grey_erosion
    window = (1, size, size) + (1,) * (imgs.ndim - 3)
    return func(imgs, size=window).reshape(len(X), -1).astype(np.float32)


def add_noise(X: np.ndarray, std: float, rng: np.random.Generator) -> np.ndarray:
    """Gaussian pixel noise, clipped back to [0, 1]."""
    if std <= 0:
        return X
    noisy = X + rng.normal(0.0, std, size=X.shape).astype(np.float32)
    return np.clip(noisy, 0.0, 1.0).astype(np.float32)


def morph_plan(group: int, strength: float) -> tuple[str, int]:
    """Group 0: unchanged; odd groups dilate, even groups erode; windows grow with the
    group index and ``strength`` (2x2 for groups 1-2 at strength 1, then 3x3, ...)."""
    if group == 0:
        return "none", 1
    size = 1 + int(np.ceil(group / 2)) * max(1, int(round(strength)))
    return ("dilate" if group % 2 else "erode"), size
