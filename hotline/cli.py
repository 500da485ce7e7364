"""The ``hotline`` command: migrate, check flows, list threads and notifications, run the
scheduler, prune old calls, replay calls; serve (server.py)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click
from flask import Flask
from flask.cli import AppGroup, ScriptInfo
from rich.console import Console
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from hotline.agents.figures_tables import queue_tables
from hotline.config.settings import CONFIG_ENV, load_settings
from hotline.errors import ConfigError, HotlineError
from hotline.server import serve

# Lines stay whole when the output goes to a pipe or a log (rich would wrap them at 80 columns).
console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)


def _create_app() -> Flask:
    from hotline import create_app

    return create_app(None)


def _set_config(ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    if value:
        os.environ[CONFIG_ENV] = value
    return value


@click.group(cls=AppGroup)
@click.option(
    "--config",
    metavar="PATH",
    expose_value=False,
    is_eager=True,
    callback=_set_config,
    help="Config file (default: $HOTLINE_CONFIG, else ./config.toml).",
)
@click.pass_context
def cli(ctx: click.Context) -> None:
    """hotline: the marketplace fulfillment hotline on Twilio Voice."""
    # Commands that need the app build it lazily through Flask's ScriptInfo, so --help and the
    # commands that need no app work even when the app could not start.
    if not isinstance(ctx.obj, ScriptInfo):
        ctx.obj = ScriptInfo(
            create_app=_create_app, set_debug_flag=False, load_dotenv_defaults=False
        )


cli.add_command(serve)


@cli.group()
def db() -> None:
    """The database schema."""


@db.command("upgrade", with_appcontext=False)
def db_upgrade() -> None:
    """Apply the migrations, then load the directory (sellers, orders) from the config."""
    from hotline.store.database import Store, sync_directory, upgrade_schema

    settings = load_settings(None)
    upgrade_schema(settings.store_url)
    store = Store(settings.store_url)
    sync_directory(store, settings)
    store.engine.dispose()
    console.print(
        f"database at the newest schema; {len(settings.sellers)} sellers and "
        f"{len(settings.orders)} orders loaded"
    )


@cli.group()
def flows() -> None:
    """The call flows in flows/."""


@flows.command("check", with_appcontext=False)
@click.argument("paths", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
def flows_check(paths: tuple[Path, ...]) -> None:
    """Check flow files (default: flows/*.toml): links, prompts, unreachable steps."""
    import tomllib

    from hotline.ivr.flow_file import check_flow, parse_flow

    if not paths:
        settings = load_settings(None)
        paths = tuple(sorted(settings.flows_folder().glob("*.toml")))
        if not paths:
            raise ConfigError(
                f"{settings.source}: hotline.flows_dir: no flow files (*.toml) in "
                f"{settings.flows_dir}"
            )
    failed = 0
    for path in paths:
        try:
            flow = parse_flow(tomllib.loads(path.read_text(encoding="utf-8")), path)
            problems = check_flow(flow)
        except (HotlineError, tomllib.TOMLDecodeError) as exc:
            problems = [str(exc)]
            flow = None
        if problems:
            failed += 1
            console.print(f"[red]✗[/] {path}")
            for problem in problems:
                console.print(f"    {problem}", markup=False)
        elif flow is not None:
            console.print(
                f"[green]✓[/] {path}: {len(flow.steps)} steps, all reachable; "
                f"languages {', '.join(flow.languages)} complete"
            )
    if failed:
        raise SystemExit(1)


@cli.command(with_appcontext=False)
@click.option("--seller", help="Only this seller's threads.")
@click.option("--party", type=click.Choice(["seller", "warehouse"]), help="Only this party's.")
@click.option("--limit", default=50, show_default=True, type=int)
def threads(seller: str | None, party: str | None, limit: int) -> None:
    """List Message Center threads in a table."""
    from hotline.messages.threads import reference
    from hotline.store.database import Store
    from hotline.store.models import ThreadRow

    # Only the store is needed: no app, so no Twilio auth token either.
    store = Store(load_settings(None).store_url)
    try:
        store.require_current_schema()
    except HotlineError:
        store.engine.dispose()
        raise
    query = select(ThreadRow).order_by(ThreadRow.id.desc()).limit(limit)
    if seller:
        query = query.where(ThreadRow.seller_id == seller)
    if party:
        query = query.where(ThreadRow.party == party)
    table = Table("ref", "opened (UTC)", "party", "seller", "order", "topic", "question")
    with store.session() as session:
        rows = session.scalars(query.options(selectinload(ThreadRow.messages))).all()
        for t in rows:
            first = t.messages[0].body if t.messages else ""
            table.add_row(
                reference(t.id),
                f"{t.created_at:%Y-%m-%d %H:%M}",
                t.party,
                t.seller_id or "-",
                t.order_id or "-",
                t.topic or "-",
                first,
            )
    store.engine.dispose()
    if rows:
        console.print(table)
    else:
        console.print("no threads yet")


@cli.group()
def metrics() -> None:
    """Figures from the store."""


@metrics.command("queue", with_appcontext=False)
@click.option("--from", "from_text", metavar="DATE|TIME", help="Start (default: today).")
@click.option(
    "--to", "to_text", metavar="DATE|TIME", help="End, excluded (default: from's day's end)."
)
def metrics_queue(from_text: str | None, to_text: str | None) -> None:
    """The agents' queue figures per local day and hour (times in the operator's timezone)."""
    from datetime import UTC, datetime

    from hotline.agents.figures import read_report
    from hotline.rules.local_periods import SpanError, parse_span
    from hotline.store.database import Store

    settings = load_settings(None)
    today = datetime.now(UTC).astimezone(settings.timezone).date()
    try:
        start, end = parse_span(from_text, to_text, settings.timezone, today)
    except SpanError as exc:
        raise click.BadParameter(str(exc)) from None
    store = Store(settings.store_url)
    try:
        store.require_current_schema()
        report = read_report(store, settings, start, end)
    finally:
        store.engine.dispose()
    for shown in queue_tables(report, settings.queue):
        _print_whole(shown)


def _print_whole(shown: str | Table) -> None:
    """``shown`` at its natural width, even in a pipe (rich would squeeze it into 80 columns)."""
    natural = Measurement.get(console, console.options.update_width(1000), shown).maximum
    Console(soft_wrap=True, width=max(console.width, natural)).print(shown)


@metrics.command("sales-quality", with_appcontext=False)
@click.option("--seller", metavar="ID", help="Only this seller (default: each, and the warehouse).")
@click.option("--from", "from_text", metavar="DATE|TIME", help="Start (default: --to's window).")
@click.option("--to", "to_text", metavar="DATE|TIME", help="End, excluded (default: now).")
def metrics_sales_quality(seller: str | None, from_text: str | None, to_text: str | None) -> None:
    """Timely responses and average response time per seller, and the warehouse alone."""
    from datetime import UTC, datetime

    from hotline.messages.quality import quality_report
    from hotline.messages.quality_table import quality_table
    from hotline.rules.local_periods import SpanError, parse_window
    from hotline.rules.sales_quality import Window
    from hotline.store.database import Store

    settings = load_settings(None)
    now = datetime.now(UTC)
    days = settings.routing.sales_quality_window_days
    try:
        start, end = parse_window(from_text, to_text, settings.timezone, now, days)
    except SpanError as exc:
        raise click.BadParameter(str(exc)) from None
    known = [s.id for s in settings.sellers]
    if seller is not None and seller not in known:
        raise click.BadParameter(f"no seller {seller!r} (sellers: {', '.join(known)})")
    store = Store(settings.store_url)
    try:
        store.require_current_schema()
        with store.session() as session:
            report = quality_report(
                session,
                [seller] if seller else known,
                Window(start, end),
                now,
                settings.routing.response_hours,
                warehouse=seller is None,
            )
    finally:
        store.engine.dispose()
    _print_whole(quality_table(report))


@cli.group()
def demo() -> None:
    """The demo's data (``make run``)."""


@demo.command("seed", with_appcontext=False)
def demo_seed() -> None:
    """Write the demo seller's Message Center threads, unless already there (idempotent)."""
    from datetime import UTC, datetime

    from hotline.messages.demo import DEMO_SELLER, seed_demo
    from hotline.store.database import Store

    settings = load_settings(None)
    store = Store(settings.store_url)
    try:
        store.require_current_schema()
        with store.session() as session:
            written = seed_demo(session, settings, datetime.now(UTC))
            links = [opened.buyer_link for opened in written]
    finally:
        store.engine.dispose()
    if not links:
        console.print(f"the demo seller {DEMO_SELLER}'s Message Center threads are in place")
        return
    console.print(f"{len(links)} Message Center threads written for the demo seller {DEMO_SELLER}")
    for link in links:
        console.print(f"  a buyer's page: {link}", markup=False)


@cli.command(with_appcontext=False)
def scheduler() -> None:
    """Run the scheduler (notifications); several elect one leader through the database."""
    from hotline.jobs.process import run_scheduler

    scheduler_logging()
    run_scheduler(load_settings(None))


# APScheduler logs every run at INFO, Alembic each plugin as the schema is checked at start,
# twilio every request's headers: their warnings and errors are what an operator needs.
CHATTY_LOGGERS = ("apscheduler", "alembic", "twilio")


def scheduler_logging() -> None:
    """The scheduler's log: hotline's lines at INFO, the libraries' only when they warn."""
    import logging

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    for chatty in CHATTY_LOGGERS:
        logging.getLogger(chatty).setLevel(logging.WARNING)


@cli.command(with_appcontext=False)
@click.option(
    "--before",
    "before_text",
    required=True,
    metavar="DATE",
    help="Delete the calls of the local days before this date (2026-10-25).",
)
def prune(before_text: str) -> None:
    """Delete old calls' rows (events, queue entries, transfers) of days with a roll-up."""
    from datetime import UTC, date, datetime

    from hotline.jobs.prune import PruneRefused
    from hotline.jobs.prune import prune as prune_rows
    from hotline.store.database import Store

    try:
        before = date.fromisoformat(before_text)
    except ValueError:
        raise click.BadParameter(
            f"expected a date like 2026-10-25, got {before_text!r}", param_hint="--before"
        ) from None
    settings = load_settings(None)
    store = Store(settings.store_url)
    try:
        store.require_current_schema()
        result = prune_rows(store, settings, before, datetime.now(UTC))
    except PruneRefused as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        store.engine.dispose()
    deleted = result.deleted
    days = f"{len(result.days)} day(s) newly pruned" if result.days else "no day newly pruned"
    console.print(
        f"{days}; deleted {deleted.call_events} call events, {deleted.queue_entries} queue "
        f"entries, {deleted.transfers} transfers from before {before.isoformat()}",
        markup=False,
    )


@cli.command(with_appcontext=False)
@click.option(
    "--status",
    type=click.Choice(["pending", "sending", "sent", "failed", "skipped"]),
    help="Only rows in this state.",
)
@click.option("--limit", default=50, show_default=True, type=int)
def outbox(status: str | None, limit: int) -> None:
    """The notifications: what is queued, sent, failed (newest first)."""
    from hotline.rules.phones import mask, mask_in_text
    from hotline.store import outbox as rows_of
    from hotline.store.database import Store

    store = Store(load_settings(None).store_url)
    try:
        store.require_current_schema()
        rows = rows_of.rows(store, status, limit)
    finally:
        store.engine.dispose()
    table = Table("id", "kind", "to", "thread", "status", "tries", "next / sent (UTC)", "error")
    for row in rows:
        when = row.sent_at if row.status == "sent" else row.next_attempt_at
        to = mask(row.recipient) if row.recipient.startswith("+") else row.recipient
        table.add_row(
            str(row.id),
            row.kind,
            to,
            str(row.thread_id or "-"),
            row.status,
            str(row.tries),
            f"{when:%Y-%m-%d %H:%M:%S}" if when else "-",
            mask_in_text(row.last_error or ""),  # rows written before errors were kept masked
        )
    if rows:
        # At its natural width, even in a pipe (rich would squeeze it into 80 columns).
        natural = Measurement.get(console, console.options.update_width(1000), table).maximum
        Console(soft_wrap=True, width=max(console.width, natural)).print(table)
    else:
        console.print("no notifications" + (f" {status}" if status else ""))


def _add_sim_commands() -> None:
    from hotline.sim.frontends.replay import call, replay

    cli.add_command(replay)
    cli.add_command(call)


def main(argv: list[str] | None = None) -> Any:
    """Entry point of the ``hotline`` console script: clean one-line errors, no tracebacks."""
    _add_sim_commands()
    try:
        return cli.main(args=argv, prog_name="hotline", standalone_mode=False)
    except click.exceptions.Abort:
        err_console.print("aborted")
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except HotlineError as exc:
        # soft_wrap: one line however long (rich would break it at 80 columns in a pipe or log).
        err_console.print(Text.assemble(("error: ", "red"), str(exc)), soft_wrap=True)
        sys.exit(2)
