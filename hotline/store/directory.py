"""The sellers and orders a call can be about, indexed for the webhooks.

The directory comes from the configuration (``[[sellers]]``, ``[[orders]]``), the same source
``hotline db upgrade`` loads into the store for the API and the threads; each process keeps it in
memory so a webhook never queries for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import MappingProxyType

from hotline.config.settings import Order, Seller, Settings


@dataclass(frozen=True)
class Directory:
    """Sellers by id, orders by number, and each buyer's orders by phone number."""

    sellers: Mapping[str, Seller]
    orders: Mapping[str, Order]
    by_buyer: Mapping[str, tuple[Order, ...]]

    @classmethod
    def from_settings(cls, settings: Settings) -> Directory:
        """Index the configured sellers and orders."""
        by_buyer: dict[str, list[Order]] = {}
        for order in settings.orders:
            by_buyer.setdefault(order.buyer_phone, []).append(order)
        return cls(
            sellers=MappingProxyType({s.id: s for s in settings.sellers}),
            orders=MappingProxyType({o.id: o for o in settings.orders}),
            by_buyer=MappingProxyType({k: tuple(v) for k, v in by_buyer.items()}),
        )

    def seller(self, seller_id: str | None) -> Seller | None:
        """The seller with this id, if any."""
        return self.sellers.get(seller_id) if seller_id else None

    def order(self, order_id: str) -> Order | None:
        """The order with this number, if any."""
        return self.orders.get(order_id)

    def recent_orders(self, phone: str | None, now: datetime, days: int) -> list[Order]:
        """The buyer's orders placed within ``days`` of ``now`` (undated orders always count)."""
        if not phone:
            return []
        since = (now - timedelta(days=days)).date()
        return [o for o in self.by_buyer.get(phone, ()) if o.placed is None or o.placed >= since]
