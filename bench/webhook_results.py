"""What ``make bench`` reports: per-round ratios, p99 latencies and errors, printed and as JSON.

Every wrk run is one ``Run``. The throughput rounds give, per endpoint, the ratio of hotline to
the floor app, of hotline to the bare app and of the floor to the bare app *within each round*
(the targets take turns, so a noisy neighbour hits a round's targets alike), and the same for
hotline to the state floor and the state floor to the floor; the report gives the minimum, the
median and the maximum of those per-round ratios. The p99 latency at a concurrency is
the median over the runs at that concurrency (with their minimum and maximum); errors are the
runs' socket errors plus answers that were not a 200 with a ``<Gather>``, timeouts are counted
apart.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HOTLINE, FLOOR, STATE_FLOOR, BARE = "hotline", "floor", "state_floor", "bare"
SERVERS = (HOTLINE, FLOOR, STATE_FLOOR, BARE)
# The JSON's per-round ratios: key -> (top, bottom).
RATIOS = {
    "ratio_to_floor": (HOTLINE, FLOOR),
    "ratio_to_bare": (HOTLINE, BARE),
    "floor_ratio_to_bare": (FLOOR, BARE),
    "ratio_to_state_floor": (HOTLINE, STATE_FLOOR),
    "state_floor_ratio_to_floor": (STATE_FLOOR, FLOOR),
}
# What the report calls each server.
_NAMES = {HOTLINE: "hotline", FLOOR: "floor", STATE_FLOOR: "state floor", BARE: "bare"}
# The JSON's p99 tables: server -> key.
P99_KEYS = {
    HOTLINE: "p99_ms",
    FLOOR: "floor_p99_ms",
    STATE_FLOOR: "state_floor_p99_ms",
    BARE: "bare_p99_ms",
}
# JSON key -> what the table calls it.
ENDPOINTS = {"voice": "POST /voice", "menu_step": "menu step"}


@dataclass(frozen=True)
class Run:
    """One wrk run against one target at one concurrency."""

    server: str  # one of SERVERS
    endpoint: str  # a key of ENDPOINTS
    connections: int
    round: int
    requests: int
    seconds: float
    p99_ms: float
    errors: int = 0  # connect, read and write errors
    timeouts: int = 0
    bad: int = 0  # answers that were not a 200 with a <Gather>
    cpu_us: float | None = None  # the server's workers' CPU time per request
    bad_answer: str = ""  # the last bad answer's status and body, when there was one

    @property
    def rate(self) -> float:
        """Requests per second."""
        return self.requests / self.seconds if self.seconds else 0.0


@dataclass(frozen=True)
class Spread:
    """The minimum, median and maximum of some figures."""

    min: float
    median: float
    max: float
    count: int

    @classmethod
    def of(cls, values: Iterable[float]) -> Spread | None:
        """The spread of ``values`` (None when there are none)."""
        ordered = sorted(values)
        if not ordered:
            return None
        return cls(ordered[0], statistics.median(ordered), ordered[-1], len(ordered))

    def as_json(self, digits: int) -> dict[str, float | int]:
        """``{"min", "median", "max", "runs"}``, rounded."""
        return {
            "min": round(self.min, digits),
            "median": round(self.median, digits),
            "max": round(self.max, digits),
            "runs": self.count,
        }

    def text(self, spec: str) -> str:
        """``min–median–max`` formatted with ``spec``."""
        return f"{self.min:{spec}}–{self.median:{spec}}–{self.max:{spec}}"


def _chosen(runs: Sequence[Run], endpoint: str, connections: int, server: str) -> list[Run]:
    return [
        r
        for r in runs
        if r.server == server and r.endpoint == endpoint and r.connections == connections
    ]


def _rates(runs: Sequence[Run], endpoint: str, connections: int, server: str) -> dict[int, float]:
    return {r.round: r.rate for r in _chosen(runs, endpoint, connections, server)}


def ratio_spread(
    runs: Sequence[Run], endpoint: str, connections: int, top: str, bottom: str
) -> Spread | None:
    """The spread of ``top``'s rate over ``bottom``'s, taken within each round."""
    tops = _rates(runs, endpoint, connections, top)
    bottoms = _rates(runs, endpoint, connections, bottom)
    return Spread.of(tops[k] / bottoms[k] for k in tops if bottoms.get(k))


def latency(runs: Sequence[Run], endpoint: str, connections: int, server: str) -> dict[str, Any]:
    """p99 (median, min, max over the runs), errors and timeouts of one server at one load."""
    chosen = _chosen(runs, endpoint, connections, server)
    spread = Spread.of(r.p99_ms for r in chosen)
    return {
        **(spread.as_json(1) if spread else {"runs": 0}),
        "errors": sum(r.errors + r.bad for r in chosen),
        "timeouts": sum(r.timeouts for r in chosen),
    }


def summary(
    runs: Sequence[Run], throughput_connections: int, concurrencies: Sequence[int], **settings: Any
) -> dict[str, Any]:
    """The benchmark's result as the JSON document ``make bench BENCH_JSON=FILE`` writes."""
    doc: dict[str, Any] = {"settings": {"connections": throughput_connections, **settings}}
    c = throughput_connections
    for endpoint in ENDPOINTS:
        entry: dict[str, Any] = {}
        for key, (top, bottom) in RATIOS.items():
            spread = ratio_spread(runs, endpoint, c, top, bottom)
            entry[key] = spread.as_json(3) if spread else None
        entry["requests_per_s"] = {}
        entry["cpu_us_per_request"] = {}
        for server in SERVERS:
            chosen = _chosen(runs, endpoint, c, server)
            rate = Spread.of(r.rate for r in chosen)
            entry["requests_per_s"][server] = rate.as_json(0) if rate else None
            cpu = Spread.of(r.cpu_us for r in chosen if r.cpu_us is not None)
            entry["cpu_us_per_request"][server] = cpu.as_json(0) if cpu else None
        for server, key in P99_KEYS.items():
            entry[key] = {str(n): latency(runs, endpoint, n, server) for n in concurrencies}
        doc[endpoint] = entry
    return doc


def _cell(value: dict[str, Any] | None, spec: str) -> str:
    if not value:
        return "-"
    return f"{value['min']:{spec}}–{value['median']:{spec}}–{value['max']:{spec}}"


def _ratio_table(doc: dict[str, Any], keys: Sequence[str], cpu_of: Sequence[str]) -> list[str]:
    """A header and a line per endpoint: the ratios ``keys``, then the CPU per request of
    ``cpu_of`` (medians, in that order)."""
    names = ["/".join(_NAMES[s] for s in RATIOS[key]) for key in keys]
    initials = "·".join(_NAMES[s][0] for s in cpu_of)
    lines = [
        f"  {'':14}" + "".join(f"{n:>20}" for n in names) + f"{'CPU µs/request ' + initials:>26}"
    ]
    for endpoint, label in ENDPOINTS.items():
        entry = doc[endpoint]
        cpu = entry["cpu_us_per_request"]
        cpus = "·".join(f"{cpu[s]['median']:.0f}" if cpu.get(s) else "-" for s in cpu_of)
        ratios = "".join(f"{_cell(entry[key], '.2f'):>20}" for key in keys)
        lines.append(f"  {label:14}{ratios}{cpus:>26}")
    return lines


def report(doc: dict[str, Any]) -> str:
    """The summary as the table ``make bench`` prints."""
    settings = doc["settings"]
    rounds = settings.get("rounds", "?")
    lines = [
        f"Throughput at {settings['connections']} connections, min–median–max of the per-round "
        f"ratios over {rounds} rounds:",
        *_ratio_table(
            doc,
            ("ratio_to_floor", "ratio_to_bare", "floor_ratio_to_bare"),
            (HOTLINE, FLOOR, BARE),
        ),
        "Against the state floor (the floor plus a call's state read back and appended by key), "
        "same rounds:",
        *_ratio_table(
            doc, ("ratio_to_state_floor", "state_floor_ratio_to_floor"), (HOTLINE, STATE_FLOOR)
        ),
    ]
    concurrencies = list(doc["voice"]["p99_ms"])
    lines.append(
        "Latency p99 in ms (median of the runs [min–max]; errors/timeouts when any), "
        "by concurrent connections:"
    )
    lines.append(f"  {'':24}" + "".join(f"{n:>24}" for n in concurrencies))
    for endpoint, label in ENDPOINTS.items():
        for server, key in P99_KEYS.items():
            cells = []
            for n in concurrencies:
                cell = doc[endpoint][key][n]
                if not cell.get("runs"):
                    cells.append("-")
                    continue
                text = f"{cell['median']:.0f} [{cell['min']:.0f}–{cell['max']:.0f}]"
                if cell["errors"] or cell["timeouts"]:
                    text += f" E{cell['errors']}/T{cell['timeouts']}"
                cells.append(text)
            lines.append(
                f"  {label + ' ' + _NAMES[server]:24}" + "".join(f"{c:>24}" for c in cells)
            )
    return "\n".join(lines)


def write_json(path: Path, doc: dict[str, Any]) -> None:
    """Write the summary to ``path`` as indented JSON."""
    path.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
