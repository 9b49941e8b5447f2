"""One handler per comm node and protocol, shared by the devices on that node.

A node is one IP address: its C37.118 or DNP3 port serves every PMU or
outstation behind it, routed by IDCODE or link address. Each protocol's
endpoint subclasses :class:`NodeEndpoint`, names its ``protocol`` and
implements ``_receive``; :meth:`NodeEndpoint.of` gives the node's single
instance, created on first use and attached to the comm layer.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

E = TypeVar("E", bound="NodeEndpoint")


class NodeEndpoint:
    """The ``protocol`` handler of one comm node (one instance per network and node)."""

    protocol: ClassVar[str]
    _by_network: ClassVar[weakref.WeakKeyDictionary[Any, dict[str, Any]]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._by_network = weakref.WeakKeyDictionary()  # each protocol its own table

    @classmethod
    def of(cls: type[E], comm: Any, node: str, log: Callable[..., None]) -> E:
        nodes = cls._by_network.setdefault(comm, {})
        if node not in nodes:
            nodes[node] = cls(comm, node, log)
        endpoint: E = nodes[node]
        return endpoint

    def __init__(self, comm: Any, node: str, log: Callable[..., None]) -> None:
        self.comm, self.node, self.log = comm, node, log
        comm.attach(node, self.protocol, self._receive)

    def _receive(self, message: Any) -> None:
        raise NotImplementedError
