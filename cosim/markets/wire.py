"""Payloads of the DR and market messages: a JSON header plus raw numpy arrays, as bytes.

Market and DR messages carry small facts (a dispatch, a clearing price) and,
for measurement and verification, large per-site arrays (interval meter data
of thousands of sites). One sans-IO codec serves both: a 4-byte big-endian
header length, a UTF-8 JSON header, then the arrays' bytes back to back
(little-endian, C order). The header lists each array's name, dtype and
shape, so the wire size the network charges is the real size of the data.

Pure functions; nothing here knows SimPy or the network.
"""

from __future__ import annotations

import json
import struct
from typing import Any, Mapping

import numpy as np
from numpy.typing import NDArray

_LEN = struct.Struct(">I")


class PayloadError(ValueError):
    """A payload that is not a valid encoding (truncated, bad header, sizes that disagree)."""


def encode(header: Mapping[str, Any], arrays: Mapping[str, NDArray[Any]] | None = None) -> bytes:
    """Bytes of ``header`` (JSON-serialisable) and ``arrays`` (numeric numpy arrays)."""
    specs = []
    blobs = []
    for name, array in (arrays or {}).items():
        a = np.ascontiguousarray(array)
        a = a.astype(a.dtype.newbyteorder("<"), copy=False)
        specs.append({"name": name, "dtype": a.dtype.str, "shape": list(a.shape)})
        blobs.append(a.tobytes())
    head = json.dumps({"h": dict(header), "a": specs}, sort_keys=True, separators=(",", ":")).encode()
    return _LEN.pack(len(head)) + head + b"".join(blobs)


def decode(payload: bytes) -> tuple[dict[str, Any], dict[str, NDArray[Any]]]:
    """(header, arrays) of a payload made by :func:`encode`; raises PayloadError."""
    if len(payload) < _LEN.size:
        raise PayloadError("payload shorter than its length prefix")
    (n,) = _LEN.unpack_from(payload)
    try:
        meta = json.loads(payload[_LEN.size:_LEN.size + n])
        header, specs = meta["h"], meta["a"]
    except (ValueError, KeyError, TypeError) as error:
        raise PayloadError(f"bad payload header: {error}") from None
    offset = _LEN.size + n
    arrays: dict[str, NDArray[Any]] = {}
    for spec in specs:
        dtype = np.dtype(spec["dtype"])
        count = int(np.prod(spec["shape"], dtype=np.int64))
        size = count * dtype.itemsize
        if offset + size > len(payload):
            raise PayloadError(f"array {spec['name']!r} runs past the end of the payload")
        arrays[spec["name"]] = np.frombuffer(payload, dtype, count, offset).reshape(spec["shape"])
        offset += size
    if offset != len(payload):
        raise PayloadError(f"{len(payload) - offset} bytes after the last array")
    return header, arrays
