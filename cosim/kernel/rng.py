"""Named, independent random streams derived from one run seed.

Every component asks for its stream by a stable name (``"feeder3/meter/0042"``).
The name, not the order of creation, picks the stream, so adding a component
never shifts the draws of another one, and one seed reproduces a run bit for bit.
"""

from __future__ import annotations

import hashlib

import numpy as np


def spawn_key_for(name: str) -> tuple[int, ...]:
    """Turn a stream name into a SeedSequence spawn key (four 32-bit words of SHA-256).

    A cryptographic hash is used only because it is stable across Python
    processes and versions, unlike :func:`hash`.
    """
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    return tuple(int.from_bytes(digest[i : i + 4], "little") for i in range(0, 16, 4))


class RandomStreams:
    """Factory of :class:`numpy.random.Generator` objects, one per component name."""

    def __init__(self, seed: int) -> None:
        self.seed = int(seed)
        self._streams: dict[str, np.random.Generator] = {}

    def __call__(self, name: str) -> np.random.Generator:
        """Return the generator for ``name``; the same object on every call in a run."""
        stream = self._streams.get(name)
        if stream is None:
            sequence = np.random.SeedSequence(self.seed, spawn_key=spawn_key_for(name))
            stream = np.random.Generator(np.random.PCG64(sequence))
            self._streams[name] = stream
        return stream
