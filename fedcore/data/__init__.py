"""Data layer: read uploads (CSV, Parquet, ZIP of CSVs, NPZ, LEAF JSON) and bundled
datasets into :class:`~fedcore.dataset.FederatedDataset` / :class:`~fedcore.dataset.PooledData`.

Public API
----------
load_upload, read_upload, read_table_columns : uploads
BUNDLED, BundledDataset, load_bundled : bundled datasets
resolve_dataset : bundled name or path (+ scenario) -> FederatedDataset
UPLOAD_EXTENSIONS, DEFAULT_MAX_BYTES, DEFAULT_MAX_CLIENTS : limits for the UI
"""

from .bundled import BUNDLED, DATA_DIR, BundledDataset, load_bundled
from .readers_archive import MAX_RATIO, MAX_UNCOMPRESSED
from .resolve import resolve_dataset
from .source import DEFAULT_MAX_BYTES, UPLOAD_EXTENSIONS
from .upload import load_upload, read_table_columns, read_upload
from .validation import DEFAULT_MAX_CLIENTS

__all__ = ["BUNDLED", "DATA_DIR", "BundledDataset", "load_bundled", "resolve_dataset",
           "load_upload", "read_upload", "read_table_columns", "DEFAULT_MAX_BYTES",
           "DEFAULT_MAX_CLIENTS", "MAX_RATIO", "MAX_UNCOMPRESSED", "UPLOAD_EXTENSIONS"]
