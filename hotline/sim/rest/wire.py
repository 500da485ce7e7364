"""Twilio's REST wire format: RFC 2822 dates, resource URIs, error bodies and list pages.

Shapes follow Twilio's OpenAPI description of the 2010-04-01 API (``twilio_api_v2010.json``):
errors are ``{"code", "message", "more_info", "status"}``; a list page carries ``page``,
``page_size``, ``first_page_uri``, ``next_page_uri``, ``previous_page_uri``, ``uri``, ``start``,
``end`` and exactly one more key, named for the resource (twilio-python finds the records as the
one key that is not paging information, so nothing else may be added).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any, TypeVar
from urllib.parse import urlencode

from hotline.sim.rest.switchboard import RestError

API_VERSION = "2010-04-01"
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000  # error 20007 above it


T = TypeVar("T")
JSON = dict[str, Any]


def rfc2822(moment: datetime | None) -> str | None:
    """Render a time as Twilio does: ``Mon, 30 Nov 2026 10:00:00 +0000`` (UTC), or ``None``."""
    if moment is None:
        return None
    if moment.tzinfo is None:  # the switchboard's clock is UTC; a naive time is taken as such
        moment = moment.replace(tzinfo=UTC)
    return format_datetime(moment.astimezone(UTC).replace(microsecond=0))


def account_path(account_sid: str) -> str:
    """The path every resource of the account lives under, without a trailing slash."""
    return f"/{API_VERSION}/Accounts/{account_sid}"


def error_body(status: int, code: int, message: str) -> JSON:
    """An error as Twilio renders it."""
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


@dataclass(frozen=True)
class Paging:
    """What a list request asked for: ``PageSize``, ``Page`` and ``PageToken``."""

    size: int = DEFAULT_PAGE_SIZE
    number: int = 0
    token: str | None = None

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> Paging:
        """Read the paging parameters; a size over 1000 is Twilio's error 20007."""
        size = _whole_number(query, "PageSize", DEFAULT_PAGE_SIZE)
        if size > MAX_PAGE_SIZE:
            raise RestError(400, 20007, f"Page size too large: the maximum is {MAX_PAGE_SIZE}")
        if size < 1:
            raise RestError(400, 20001, "PageSize must be at least 1")
        return cls(size, _whole_number(query, "Page", 0), query.get("PageToken") or None)


def _whole_number(query: Mapping[str, str], name: str, default: int) -> int:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise RestError(400, 20001, f"{name} must be a whole number, got {raw!r}") from None
    if value < 0:
        raise RestError(400, 20001, f"{name} must not be negative, got {raw!r}")
    return value


def list_page(
    path: str,
    filters: Sequence[tuple[str, str]],
    records: Sequence[T],
    *,
    key: Callable[[T], str],
    render: Callable[[T], JSON],
    list_key: str,
    paging: Paging,
) -> JSON:
    """One page of ``records`` in Twilio's list envelope.

    Page tokens are ``PA`` + the key of the last record shown (the next page starts after it)
    and ``PB`` + the key of the first (the previous page ends before it), so a page stays right
    while calls come and go; without a token (or with one naming a record no longer listed) the
    page is ``Page`` times ``PageSize`` records in.
    """
    start = _page_start(records, key, paging)
    shown = records[start : start + paging.size]

    def uri(number: int, token: str | None) -> str:
        params = [*filters, ("PageSize", str(paging.size)), ("Page", str(number))]
        if token is not None:
            params.append(("PageToken", token))
        return f"{path}?{urlencode(params)}"

    more = start + len(shown) < len(records)
    return {
        "first_page_uri": uri(0, None),
        "end": start + max(len(shown) - 1, 0),
        "next_page_uri": uri(paging.number + 1, "PA" + key(shown[-1])) if more and shown else None,
        list_key: [render(record) for record in shown],
        "page": paging.number,
        "page_size": paging.size,
        "previous_page_uri": (
            uri(max(paging.number - 1, 0), "PB" + key(shown[0])) if start > 0 and shown else None
        ),
        "start": start,
        "uri": uri(paging.number, paging.token),
    }


def _page_start(records: Sequence[T], key: Callable[[T], str], paging: Paging) -> int:
    if paging.token is not None and paging.token[:2] in ("PA", "PB"):
        wanted = paging.token[2:]
        for index, record in enumerate(records):
            if key(record) == wanted:
                return index + 1 if paging.token.startswith("PA") else max(index - paging.size, 0)
    return paging.number * paging.size
