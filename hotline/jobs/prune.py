"""``hotline prune --before DATE``: delete the calls' rows of the local days before ``DATE``, only
when every one of those days has its roll-up (``hotline.jobs.rollup``), so no figure is lost.

In one transaction: each day not pruned before has its queue roll-up written again from the
rows as they are now (what the API showed until now, late callbacks included), and marked
pruned; then the rows of the calls wholly before the cutoff go (``store.pruning``). From then on
the queue figures of those days are read from their roll-ups: they do not change. The Message
Center's threads and messages are not pruned.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from hotline.agents.figures import read_live_report
from hotline.config.settings import Settings
from hotline.errors import HotlineError
from hotline.rules.local_periods import day_start
from hotline.rules.queue_rollup import rollup_as_json
from hotline.store import daily_figures
from hotline.store.daily_figures import QUEUE
from hotline.store.database import Store
from hotline.store.pruning import Pruned, prune_before

_SHOWN_MISSING = 5  # days named in the refusal; the rest are counted


class PruneRefused(HotlineError):
    """Pruning would lose figures (a day without its roll-up) or asks for a day not over yet."""


@dataclass(frozen=True)
class PruneResult:
    """The days newly pruned (ISO dates) and the rows deleted."""

    days: list[str]
    deleted: Pruned


def prune(store: Store, settings: Settings, before: date, now: datetime) -> PruneResult:
    """Delete the rows of the calls before ``before``'s local midnight (see the module)."""
    tz = settings.timezone
    cutoff = day_start(before, tz)
    if cutoff > now:
        today = now.astimezone(tz).date().isoformat()
        raise PruneRefused(f"--before {before.isoformat()} is after today ({today})")
    with store.engine.begin() as conn:
        earliest = daily_figures.earliest_record(conn, before=cutoff)
        if earliest is None:
            return PruneResult([], prune_before(conn, cutoff))
        first, last = earliest.astimezone(tz).date(), before - timedelta(days=1)
        days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
        have = daily_figures.days_rolled_up(conn, QUEUE, settings.queue, first, last)
        missing = [day for day in days if day not in have]
        if missing:
            named = ", ".join(d.isoformat() for d in missing[:_SHOWN_MISSING])
            more = f" and {len(missing) - _SHOWN_MISSING} more" if len(missing) > 5 else ""
            raise PruneRefused(
                f"nothing pruned: {len(missing)} day(s) before {before.isoformat()} have no "
                f"roll-up yet ({named}{more}); the scheduler's rollup job writes each day's at "
                f"scheduler.rollup_at of the day after (run `hotline scheduler`)"
            )
        done = daily_figures.pruned(conn, QUEUE, settings.queue, first, last)
        fresh = {}
        for day in days:
            if day not in done:
                start, end = day_start(day, tz), day_start(day + timedelta(days=1), tz)
                fresh[day] = rollup_as_json(read_live_report(conn, settings, start, end))
        daily_figures.mark_pruned(conn, QUEUE, settings.queue, fresh, now)
        deleted = prune_before(conn, cutoff)
    return PruneResult([day.isoformat() for day in sorted(fresh)], deleted)
