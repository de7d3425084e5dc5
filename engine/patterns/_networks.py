"""CIDR blocks as prefix tables: one hash lookup per prefix length in use."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from engine.patterns._matchers import Cidr, address_number


class NetworkTable:
    """Networks filed by (IP version, prefix length), keyed by their masked address.

    An address is in a network exactly when its leading ``prefixlen`` bits equal
    the network's, so an event address costs one shift and one lookup per distinct
    prefix length, whatever the number of networks.
    """

    __slots__ = ("_tables",)

    def __init__(self, blocks: Iterable[tuple[Cidr, int]]) -> None:
        tables: dict[tuple[int, int], dict[int, list[int]]] = defaultdict(lambda: defaultdict(list))
        for cidr, target in blocks:
            network = cidr.network
            shift = network.max_prefixlen - network.prefixlen
            table = tables[network.version, shift]
            table[int(network.network_address) >> shift].append(target)
        self._tables = [
            (version, shift, {key: tuple(targets) for key, targets in table.items()})
            for (version, shift), table in sorted(tables.items())
        ]

    def collect(self, text: str, found: set[int]) -> None:
        """Add to ``found`` the targets whose network holds the address ``text``."""
        address = address_number(text)
        if address is None:
            return
        version, number = address
        for table_version, shift, table in self._tables:
            if table_version == version:
                hits = table.get(number >> shift)
                if hits:
                    found.update(hits)
