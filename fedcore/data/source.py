"""Turn whatever the caller hands us (a path, bytes, an uploaded file object) into bytes.

The size limit is enforced *before* any parsing: for a path we look at the file size on
disk, for a file-like object at its declared size or by reading at most ``max_bytes + 1``
bytes. Uploaded content is only ever held in memory; nothing is written to disk.
"""

from __future__ import annotations

import io
import os
import zlib
from dataclasses import dataclass
from pathlib import Path

from ..errors import DataError
from .limits import DEFAULT_MAX_BYTES, MAX_RATIO, MAX_UNCOMPRESSED, human_size, one_line, safe_name

#: Extensions we know how to read, mapped to the reader family.
FORMATS = {
    ".csv": "csv", ".tsv": "csv", ".txt": "csv",
    ".parquet": "parquet", ".pq": "parquet",
    ".zip": "zip",
    ".npz": "npz",
    ".json": "leaf",
}


#: Text formats that may also arrive gzip-compressed (``data.csv.gz``).
GZIP_KINDS = ("csv", "leaf")

#: Extensions without the dot, e.g. for ``st.file_uploader(type=UPLOAD_EXTENSIONS)``.
UPLOAD_EXTENSIONS = sorted([ext.lstrip(".") for ext in FORMATS] + ["gz"])


@dataclass
class Source:
    """The raw content of one upload.

    Attributes
    ----------
    data : bytes
    name : str
        File name shown in messages (no directories).
    kind : str
        Reader family: ``csv``, ``parquet``, ``zip``, ``npz`` or ``leaf``.
    """

    data: bytes
    name: str
    kind: str


def _too_big(name: str, size: int | None, max_bytes: int) -> DataError:
    what = f"is {human_size(size)}" if size is not None else "is larger than the limit"
    return DataError(f"file '{name}' {what}; the limit is "
                     f"{human_size(max_bytes)} (max_bytes): upload a smaller file")


def _is_gzip(name: str) -> bool:
    return name.lower().endswith(".gz")


def file_kind(name: str) -> str:
    """Reader family for a file name, from its extension (``x.csv.gz`` reads as CSV)."""
    inner = name[:-3] if _is_gzip(name) else name
    suffix = Path(inner).suffix.lower()
    if suffix not in FORMATS:
        known = ", ".join(sorted(FORMATS))
        raise DataError(f"file '{name}': unsupported file type '{suffix or '(none)'}'; "
                        f"supported extensions: {known}, and .csv/.tsv/.txt/.json + .gz")
    if _is_gzip(name) and FORMATS[suffix] not in GZIP_KINDS:
        raise DataError(f"file '{name}': only text formats (.csv, .tsv, .txt, .json) may be "
                        f"gzip-compressed; upload the {suffix} file itself")
    return FORMATS[suffix]


def gunzip_bounded(data: bytes, name: str) -> bytes:
    """Decompress a gzip upload in memory, refusing gzip bombs before they fill memory.

    Every member is read (``cat a.gz b.gz`` is one valid gzip file holding both); zero
    padding after the last member is ignored. Output is capped while decompressing at
    ``min(MAX_UNCOMPRESSED, max(1 MB, MAX_RATIO x compressed size))`` in total -- the same
    limits as ZIP members.
    """
    limit = min(MAX_UNCOMPRESSED, max(2**20, MAX_RATIO * len(data)))
    out, rest, members = bytearray(), data, 0
    while True:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        members += 1
        try:
            out += inflater.decompress(rest, limit + 1 - len(out))
            while inflater.unconsumed_tail and len(out) <= limit:
                out += inflater.decompress(inflater.unconsumed_tail, limit + 1 - len(out))
        except zlib.error as exc:
            where = f" (member {members})" if members > 1 else ""
            raise DataError(f"file '{name}' is not valid gzip data{where} "
                            f"({one_line(exc)})") from None
        if len(out) > limit:
            raise DataError(f"file '{name}' expands to more than {human_size(limit)} "
                            f"({human_size(len(data))} compressed): refused as a possible "
                            "gzip bomb; upload it uncompressed or split it")
        if not inflater.eof:
            raise DataError(f"file '{name}' is a truncated gzip file")
        rest = inflater.unused_data
        if not rest.strip(b"\x00"):
            return bytes(out)


def _source(data: bytes, name: str, kind: str) -> Source:
    return Source(gunzip_bounded(data, name) if _is_gzip(name) else data, name, kind)


def read_source(obj, filename: str | None = None,
                max_bytes: int = DEFAULT_MAX_BYTES) -> Source:
    """Read an upload into memory after checking its size.

    Parameters
    ----------
    obj : str, Path, bytes, bytearray or file-like
        A path on disk, the uploaded bytes, or an object with ``read()`` (e.g. a Streamlit
        ``UploadedFile``, which also carries ``.name`` and ``.size``).
    filename : str, optional
        Name used for the extension and in messages; required for raw bytes.
    max_bytes : int
        Files larger than this are rejected before being parsed.
    """
    if isinstance(obj, (str, os.PathLike)):
        path = Path(obj)
        name = safe_name(filename or path.name)
        if not path.is_file():
            raise DataError(f"file not found: '{safe_name(path, 300)}'")
        kind = file_kind(name)
        size = path.stat().st_size
        if size > max_bytes:
            raise _too_big(name, size, max_bytes)
        return _source(path.read_bytes(), name, kind)
    if isinstance(obj, (bytes, bytearray, memoryview)):
        name = safe_name(filename or "upload")
        kind = file_kind(name)
        if len(obj) > max_bytes:
            raise _too_big(name, len(obj), max_bytes)
        return _source(bytes(obj), name, kind)
    if hasattr(obj, "read"):
        name = safe_name(Path(filename or getattr(obj, "name", None) or "upload").name)
        kind = file_kind(name)
        declared = getattr(obj, "size", None)
        if isinstance(declared, int) and declared > max_bytes:
            raise _too_big(name, declared, max_bytes)
        if hasattr(obj, "seek"):
            try:
                obj.seek(0)
            except (OSError, io.UnsupportedOperation):
                pass
        data = obj.read(max_bytes + 1)
        if isinstance(data, str):
            data = data.encode("utf-8")
        if len(data) > max_bytes:  # we stopped reading: the true size is unknown
            raise _too_big(name, None, max_bytes)
        return _source(bytes(data), name, kind)
    raise DataError(f"cannot read an upload of type {type(obj).__name__}; "
                    "pass a path, bytes or a file object")
