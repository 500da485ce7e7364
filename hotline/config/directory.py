"""The directory in the configuration: ``[[sellers]]`` (id, name, phone, their own hours, the
SHA-256 of their Message Center token) and ``[[orders]]`` (number, the seller or, for a combined
order, the sellers of its items, the buyer's phone, when placed), checked with errors that name
the key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from hotline.config import values
from hotline.config.agents import SHA256_HEX, Agent
from hotline.config.jobs import seller_email
from hotline.config.reader import Section
from hotline.errors import ConfigError
from hotline.rules.hours import Schedule

# The lengths of the store's columns (hotline/store/models.py), checked here so that a long
# value fails at start-up with its key rather than at the first write (PostgreSQL) or never
# (SQLite).
SELLER_ID_MAX = 64
SELLER_NAME_MAX = 200
ORDER_ID_MAX = 32  # the language's length is checked in hotline/config/values.py


@dataclass(frozen=True)
class Seller:
    """A seller in the directory; ``hours`` is ``None`` when they keep the hotline's hours."""

    id: str
    name: str
    phone: str
    hours: Schedule | None = None
    token_sha256: str | None = None  # lower-case hex; None: no Message Center credential
    email: str | None = None  # where the seller's notifications are mailed


@dataclass(frozen=True)
class Order:
    """An order in the directory: who bought it (by phone) and from which seller(s).

    ``seller`` is the one the hotline rings about it (the first); ``sellers`` all of them, more
    than one for a combined order (items from several sellers).
    """

    id: str
    seller: str
    buyer_phone: str
    placed: date | None = None
    sellers: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.sellers:
            object.__setattr__(self, "sellers", (self.seller,))

    @property
    def combined(self) -> bool:
        """Whether the order has items from several sellers."""
        return len(self.sellers) > 1


def seller(section: Section, tz: ZoneInfo, region: str, hotline_hours: Schedule) -> Seller:
    """A ``[[sellers]]`` entry, checked."""
    hours = None
    if "hours" in section.data:
        hours = values.schedule(section.table("hours"), tz, base=hotline_hours)
    found = Seller(
        id=section.text("id", longest=SELLER_ID_MAX),
        name=section.text("name", longest=SELLER_NAME_MAX),
        phone=values.phone(section, "phone", region),
        hours=hours,
        token_sha256=_token_hash(section),
        email=seller_email(section),
    )
    section.finish()
    return found


def _token_hash(section: Section) -> str | None:
    if "token_sha256" not in section.data:
        section.raw("token_sha256", None)
        return None
    token_hash = section.text("token_sha256")
    if not SHA256_HEX.fullmatch(token_hash):
        raise section.fail(
            "token_sha256",
            "the SHA-256 of the seller's token as 64 hex digits",
            token_hash,
            secret=True,
        )
    return token_hash.lower()


def order(section: Section, region: str) -> Order:
    """An ``[[orders]]`` entry, checked (its sellers' ids: ``check_directory``)."""
    order_id = section.raw("id", None)
    if isinstance(order_id, int) and not isinstance(order_id, bool):
        order_id = str(order_id)
    # isascii: str.isdigit() also passes "²" and other scripts' digits, which no keypad sends.
    if not isinstance(order_id, str) or not (order_id.isascii() and order_id.isdigit()):
        raise section.fail("id", "an order number made of digits", order_id)
    if len(order_id) > ORDER_ID_MAX:
        raise section.fail("id", f"an order number of at most {ORDER_ID_MAX} digits", order_id)
    placed = section.raw("placed", None)
    sellers = _order_sellers(section)
    found = Order(
        id=order_id,
        seller=sellers[0],
        buyer_phone=values.phone(section, "buyer_phone", region),
        placed=None if placed is None else values.date_value(section, "placed", placed),
        sellers=sellers,
    )
    section.finish()
    return found


def _order_sellers(section: Section) -> tuple[str, ...]:
    """``seller = "a"``, or ``sellers = ["a", "b"]`` for a combined order: exactly one."""
    if "sellers" in section.data:
        if "seller" in section.data:
            raise section.fail("sellers", "either seller or sellers, not both")
        given = section.raw("sellers", None)
        if (
            not isinstance(given, list)
            or not given
            or not all(isinstance(s, str) and s for s in given)
            or len(set(given)) != len(given)
        ):
            raise section.fail("sellers", 'a list of different seller ids like ["a", "b"]', given)
        return tuple(given)
    if "seller" not in section.data:
        raise ConfigError(
            f"{section.source}: {section.key('seller')}: missing; expected a seller id (or, for "
            f'an order with items from several sellers, {section.key("sellers")} = ["a", "b"])'
        )
    return (section.text("seller"),)


def check_directory(
    root: Section, sellers: tuple[Seller, ...], orders: tuple[Order, ...], agents: tuple[Agent, ...]
) -> None:
    """Sellers' ids and orders' numbers unique, orders' sellers known, tokens each one's own."""
    seller_ids = [s.id for s in sellers]
    for i, seller_id in enumerate(seller_ids):
        if seller_ids.index(seller_id) != i:
            raise ConfigError(f"{root.source}: sellers[{i}].id: duplicate seller id {seller_id!r}")
    order_ids = [o.id for o in orders]
    for i, entry in enumerate(orders):
        for named in entry.sellers:
            if named not in seller_ids:
                key = "sellers" if entry.combined else "seller"
                raise ConfigError(
                    f"{root.source}: orders[{i}].{key}: expected one of the sellers' ids "
                    f"({', '.join(seller_ids) or 'none defined'}), got {named!r}"
                )
        if order_ids.index(entry.id) != i:
            raise ConfigError(f"{root.source}: orders[{i}].id: duplicate order number {entry.id!r}")
    _check_tokens(root, sellers, agents)


def _check_tokens(root: Section, sellers: tuple[Seller, ...], agents: tuple[Agent, ...]) -> None:
    """A token names its holder: no two sellers, nor a seller and an agent, share one."""
    holders = {agent.token_sha256: f"agent {agent.id!r}" for agent in agents}
    for i, holder in enumerate(sellers):
        if holder.token_sha256 is None:
            continue
        if holder.token_sha256 in holders:
            raise ConfigError(
                f"{root.source}: sellers[{i}].token_sha256: the same token as "
                f"{holders[holder.token_sha256]}; give each seller a token of their own"
            )
        holders[holder.token_sha256] = f"seller {holder.id!r}"
