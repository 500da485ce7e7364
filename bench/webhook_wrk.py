"""What ``make bench`` posts and how: Twilio-signed bodies, and wrk driving them at one target.

Each wrk thread reads the file of signed bodies, pre-formats every request, takes every n-th one
(so two threads never share a CallSid) and counts answers that are not a 200 with a ``<Gather>``;
at the end the script prints one ``BENCH`` line: requests, duration, p99 latency, socket errors,
timeouts and those bad answers.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from twilio.request_validator import RequestValidator

AUTH_TOKEN = "bench-auth-token"
HOTLINE_NUMBER = "+442071000000"  # English prompts in the shipped config
CALLER = "+48601100200"  # has exactly one order in the shipped directory: the menu confirms it
TIMEOUT = "15s"  # Twilio's own webhook timeout: a slower answer is a failed call


def twilio_form(call_sid: str, digits: str | None = None) -> dict[str, str]:
    """The parameters Twilio posts to a Voice webhook (a Gather's action adds ``Digits``)."""
    form = {
        "AccountSid": "AC" + "0" * 32,
        "ApiVersion": "2010-04-01",
        "CallSid": call_sid,
        "CallStatus": "in-progress" if digits is not None else "ringing",
        "CallToken": "",
        "Called": HOTLINE_NUMBER,
        "CalledCity": "",
        "CalledCountry": "GB",
        "CalledState": "London",
        "CalledZip": "",
        "Caller": CALLER,
        "CallerCity": "",
        "CallerCountry": "PL",
        "CallerState": "",
        "CallerZip": "",
        "Direction": "inbound",
        "From": CALLER,
        "FromCity": "",
        "FromCountry": "PL",
        "FromState": "",
        "FromZip": "",
        "To": HOTLINE_NUMBER,
        "ToCity": "",
        "ToCountry": "GB",
        "ToState": "London",
        "ToZip": "",
    }
    if digits is not None:
        form.update(Digits=digits, FinishedOnKey="", msg="Gather End")
    return form


def new_call_sids(count: int) -> list[str]:
    """``count`` CallSids no earlier request used."""
    return ["CA" + secrets.token_hex(16) for _ in range(count)]


def write_bodies(path: Path, url: str, forms: Sequence[dict[str, str]]) -> Path:
    """One line per request, ``signature<TAB>urlencoded body``, signed for ``url``."""
    validator = RequestValidator(AUTH_TOKEN)
    with path.open("w") as fh:
        for form in forms:
            signature = validator.compute_signature(url, form)
            fh.write(f"{signature}\t{urllib.parse.urlencode(form)}\n")
    return path


LUA = r"""
local bodies_file, target, nthreads = %(bodies)s, %(target)s, %(threads)d
local threads, next_id = {}, 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  requests_, bad, bad_status, bad_body = {}, 0, 0, ""
  for line in io.lines(bodies_file) do
    local tab = line:find("\t", 1, true)
    requests_[#requests_ + 1] = wrk.format("POST", target, {
      ["Content-Type"] = "application/x-www-form-urlencoded",
      ["X-Twilio-Signature"] = line:sub(1, tab - 1),
    }, line:sub(tab + 1))
  end
  cursor = id
end

function request()
  local r = requests_[cursor %% #requests_ + 1]
  cursor = cursor + nthreads
  return r
end

function response(status, headers, body)
  if status ~= 200 or not body:find("<Gather", 1, true) then
    bad = bad + 1
    bad_status = status
    bad_body = body:sub(1, 300)
  end
end

function done(summary, latency, requests)
  local total_bad, status, body = 0, 0, ""
  for _, t in ipairs(threads) do
    total_bad = total_bad + t:get("bad")
    if t:get("bad") > 0 then
      status, body = t:get("bad_status"), t:get("bad_body")
    end
  end
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%%d duration_us=%%d p99_us=%%d errors=%%d timeouts=%%d bad=%%d "
    .. "last_bad_status=%%d\n",
    summary.requests, summary.duration, latency:percentile(99.0),
    e.connect + e.read + e.write, e.timeout, total_bad, status))
  if total_bad > 0 then
    io.write("BENCH_BAD_BODY " .. body:gsub("\n", " ") .. "\n")
  end
end
"""

_BENCH_LINE = re.compile(
    r"BENCH requests=(\d+) duration_us=(\d+) p99_us=(\d+) errors=(\d+) timeouts=(\d+) "
    r"bad=(\d+) last_bad_status=(\d+)"
)


@dataclass(frozen=True)
class WrkResult:
    """What one wrk run measured."""

    requests: int
    seconds: float
    p99_ms: float
    errors: int  # connect, read and write errors
    timeouts: int
    bad: int  # answers that were not a 200 with a <Gather>
    bad_answer: str  # the last of those (status and the start of the body)


def lua_string(value: str) -> str:
    """``value`` as a Lua string literal."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def run_wrk(
    wrk: str,
    url: str,
    target: str,
    bodies: Path,
    seconds: float,
    threads: int,
    connections: int,
) -> WrkResult:
    """Post ``bodies`` to ``url`` (path ``target``) for ``seconds`` over ``connections``."""
    script = bodies.with_suffix(f".{connections}.lua")
    script.write_text(
        LUA % {"bodies": lua_string(str(bodies)), "target": lua_string(target), "threads": threads}
    )
    command = [
        wrk,
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--latency",
        "--timeout",
        TIMEOUT,
        "-s",
        str(script),
        url,
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    match = _BENCH_LINE.search(done.stdout)
    if done.returncode != 0 or match is None:
        raise SystemExit(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    requests, duration_us, p99_us, errors, timeouts, bad, status = (int(g) for g in match.groups())
    body = re.search(r"BENCH_BAD_BODY (.*)", done.stdout)
    answer = f"status {status}: {body.group(1) if body else '?'}" if bad else ""
    return WrkResult(requests, duration_us / 1e6, p99_us / 1e3, errors, timeouts, bad, answer)


def ensure_wrk() -> str:
    """The path of wrk, installing the Debian package if it is missing."""
    found = shutil.which("wrk")
    if found:
        return found
    print("wrk is not installed: installing it with apt-get", flush=True)
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    install = [*sudo, "apt-get", "install", "-y", "wrk"]
    if subprocess.run(install, check=False).returncode != 0:
        subprocess.run([*sudo, "apt-get", "update"], check=True)
        subprocess.run(install, check=True)
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("wrk is still not on PATH after apt-get install wrk")
    return found
