#!/usr/bin/python3
"""ssb-evidence: the log collector's evidence store of the instances' self-checks.

Installed by safespring-blueprints on the central log collector. Every instance's ssb-verify
writes one event per check of a measure to its journal; the events travel with the other logs
to the collector, where ssb-log-store writes them into ROOT/<peer IP>/<date>.log. This program
reads them from there and keeps, per instance and measure, the latest result and the last
success, in a state file on the same encrypted volume (ROOT/.ssb-evidence.json), so the last
success outlives the log files' retention. Subcommands:

  update  (timer) read what arrived since the last run (it remembers how far it read in each
          file), and with --journal also this collector's own ssb-verify events
  export  update, then print the store as one JSON document: format `ssb-evidence/1`,
          documented in docs/evidence.md; `report --evidence FILE` reads it

What an instance reports is a claim by a holder of that instance's log certificate: the peer
address (which the TLS connection proves) is kept next to the name the event carries, and an
instance is keyed by both, so another client cannot overwrite an instance's results.

Python 3.10 standard library only (see ssb_guest/__init__.py).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import fcntl
import json
import os
import re
import socket
import subprocess
import sys
from typing import Any

PROG = "ssb-evidence"
FORMAT = "ssb-evidence/1"
STATE_FORMAT = "ssb-evidence-state/1"
EVENT_PREFIX = "ssb-verify/1 "  # ssb-verify's MESSAGE (ssb_guest/verify.py FORMAT)
MESSAGE_ID = "5f1c3a0e8b9d4c6fa2e7b1d09c3e4a51"  # ssb-verify's journal MESSAGE_ID
STATE_NAME = ".ssb-evidence.json"
LOCK_NAME = ".ssb-evidence.lock"
LOCAL = "local"  # the address recorded for this collector's own events
RESULTS = ("ok", "fail", "unknown")
FILE_RE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}\.log$")
TAG_RE = re.compile(r"^ssb-verify(\[[0-9]+\])?:?$")
TIME_RE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$")
MEASURE_RE = re.compile(r"^[a-z][a-z0-9-]{0,62}$")
JOURNAL_TIMEOUT = 300  # hang guard for journalctl; it answers in seconds


def log(message: str) -> None:
    print(f"{PROG}: {message}", file=sys.stderr, flush=True)


def parse_event(text: str) -> dict[str, Any] | None:
    """The event in a MESSAGE (`ssb-verify/1 {json}`), checked field by field; None if it is
    not one or is malformed (a malformed event is never taken as a result)."""
    text = text.lstrip("\ufeff ")
    if not text.startswith(EVENT_PREFIX):
        return None
    try:
        raw = json.loads(text[len(EVENT_PREFIX):])
    except ValueError:
        return None
    if not isinstance(raw, dict):
        return None
    measure, result, at = raw.get("measure"), raw.get("result"), raw.get("at")
    period = raw.get("period")
    if not (isinstance(measure, str) and MEASURE_RE.match(measure) and result in RESULTS
            and isinstance(at, str) and TIME_RE.match(at)
            and isinstance(period, int) and not isinstance(period, bool) and period > 0):
        return None
    return {
        "measure": measure, "result": result, "at": at, "period": period,
        "detail": str(raw.get("detail", ""))[:2000],
        "instance": str(raw.get("instance", ""))[:64],
        "name": str(raw.get("name", ""))[:253],
    }


def parse_line(line: str) -> tuple[str, str, dict[str, Any]] | None:
    """(peer address, reported host, event) of a collected line (ssb-log-store's format:
    `<time reported> <peer IP> <host> <tag> <message>`), None when it is no ssb-verify event."""
    parts = line.rstrip("\n").split(" ", 4)
    if len(parts) < 5 or not TAG_RE.match(parts[3]):
        return None
    event = parse_event(parts[4])
    if event is None:
        return None
    return parts[1], parts[2], event


def empty_state() -> dict[str, Any]:
    return {"format": STATE_FORMAT, "offsets": {}, "journal_cursor": None, "instances": {}}


def load_state(path: str) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as handle:
            state = json.load(handle)
    except FileNotFoundError:
        return empty_state()
    if not isinstance(state, dict) or state.get("format") != STATE_FORMAT:
        raise SystemExit(f"{PROG}: {path} is not an {STATE_FORMAT} state file; refusing to "
                         "overwrite it")
    return state


def save_state(path: str, state: dict[str, Any]) -> None:
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(state, handle, sort_keys=True)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def record(state: dict[str, Any], address: str, host: str, event: dict[str, Any]) -> None:
    """Merge one event: the latest result per measure (by its check time) and the last ok."""
    name = event["name"] or host
    key = f"{address} {name}"
    entry = state["instances"].setdefault(
        key, {"address": address, "name": name, "instance_id": "", "measures": {}})
    measures = entry["measures"]
    current = measures.get(event["measure"])
    if current is None:
        current = measures[event["measure"]] = {"last_ok": None}
    if current.get("checked_at", "") <= event["at"]:
        current.update(result=event["result"], detail=event["detail"],
                       checked_at=event["at"], period_seconds=event["period"])
        if event["instance"]:
            entry["instance_id"] = event["instance"]
    if event["result"] == "ok" and (current["last_ok"] or "") < event["at"]:
        current["last_ok"] = event["at"]


def _day_files(root: str) -> list[str]:
    out = []
    for peer in sorted(os.listdir(root)):
        directory = os.path.join(root, peer)
        if not os.path.isdir(directory) or os.path.islink(directory):
            continue
        out += [os.path.join(directory, n) for n in sorted(os.listdir(directory))
                if FILE_RE.match(n)]
    return out


def read_files(state: dict[str, Any], root: str) -> int:
    """Read every day file from where the last run stopped; returns the events taken."""
    taken = 0
    offsets: dict[str, list[int]] = {}
    for path in _day_files(root):
        try:
            handle = open(path, "rb")  # noqa: SIM115 (closed below)
        except OSError as exc:
            log(f"cannot read {path}: {exc}")
            continue
        with handle:
            info = os.fstat(handle.fileno())
            inode, done = state["offsets"].get(path, [info.st_ino, 0])
            if inode != info.st_ino or done > info.st_size:
                done = 0  # a new file under the same name: read it whole
            handle.seek(done)
            data = handle.read()
            complete = data.rfind(b"\n") + 1  # a partly written last line waits for next time
            for raw in data[:complete].splitlines():
                parsed = parse_line(raw.decode("utf-8", "replace"))
                if parsed is not None:
                    record(state, *parsed)
                    taken += 1
            offsets[path] = [info.st_ino, done + complete]
    state["offsets"] = offsets  # files deleted by retention drop out
    return taken


def read_journal(state: dict[str, Any]) -> int:
    """This collector's own ssb-verify events (its journal; they are not shipped to itself)."""
    argv = ["journalctl", "--output=json", "--no-pager", f"MESSAGE_ID={MESSAGE_ID}"]
    if state.get("journal_cursor"):
        argv.append(f"--after-cursor={state['journal_cursor']}")
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=JOURNAL_TIMEOUT,
                              check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        log(f"cannot read the journal: {exc}")
        return 0
    taken = 0
    host = socket.gethostname()
    for line in proc.stdout.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        message = entry.get("MESSAGE")
        event = parse_event(message) if isinstance(message, str) else None
        if event is not None:
            record(state, LOCAL, host, event)
            taken += 1
        if isinstance(entry.get("__CURSOR"), str):
            state["journal_cursor"] = entry["__CURSOR"]
    return taken


@contextlib.contextmanager
def locked(root: str):  # type: ignore[no-untyped-def]
    with open(os.path.join(root, LOCK_NAME), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def update(root: str, state_path: str, *, journal: bool) -> dict[str, Any]:
    state = load_state(state_path)
    taken = read_files(state, root)
    if journal:
        taken += read_journal(state)
    save_state(state_path, state)
    log(f"{taken} new self-check events; {len(state['instances'])} instances in the store")
    return state


def document(state: dict[str, Any], *, now: dt.datetime, collector: str) -> dict[str, Any]:
    """The export (format ssb-evidence/1, docs/evidence.md)."""
    instances = []
    for entry in sorted(state["instances"].values(), key=lambda e: (e["name"], e["address"])):
        instances.append({
            "name": entry["name"], "address": entry["address"],
            "instance_id": entry["instance_id"],
            "measures": {m: {k: v[k] for k in ("result", "detail", "checked_at",
                                               "period_seconds", "last_ok")}
                         for m, v in sorted(entry["measures"].items()) if "result" in v},
        })
    return {"format": FORMAT, "exported_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "collector": collector, "instances": instances}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=("update", "export"))
    parser.add_argument("--root", default="/var/log/remote", help="the collected logs")
    parser.add_argument("--state", help=f"the store (default ROOT/{STATE_NAME})")
    parser.add_argument("--journal", action="store_true",
                        help="also read this collector's own ssb-verify events")
    args = parser.parse_args(argv)
    if not os.path.isdir(args.root):
        log(f"{args.root} does not exist (the log volume is not mounted): nothing to read")
        return 1
    state_path = args.state or os.path.join(args.root, STATE_NAME)
    with locked(args.root):
        state = update(args.root, state_path, journal=args.journal)
    if args.command == "export":
        doc = document(state, now=dt.datetime.now(dt.timezone.utc), collector=socket.gethostname())
        print(json.dumps(doc, indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
