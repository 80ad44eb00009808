#!/usr/bin/python3
"""ssb-log-store: the log collector's store of collected logs, which never drops a line.

Installed by safespring-blueprints on the central log collector. Subcommands:

  write      run by the collector's rsyslogd (omprog, confirmMessages): one record per line on
             stdin, "<peer IP> <YYYY-MM-DD> <line>", appended to ROOT/<peer IP>/<date>.log. A
             record is confirmed ("OK") only once it is written; when the disk is full the
             partial line is cut off again and the answer is an error, so rsyslog keeps the
             record and retries it. Its queue fills, it stops reading from the clients' TLS
             connections, and the clients keep their logs in their own disk queues until there
             is room again (rsyslog's omfile drops a line it cannot write).
  retention  (timer) delete files older than --days; then, while the file system is fuller
             than --max-percent, the oldest day files, never today's or yesterday's.
  check      (timer) when the file system is --alert-percent full or more: an alert in the
             journal (priority alert), on the instance console (read it with `openstack
             console log show`) and in the login message; exit status 1.

Everything it touches can be redirected for tests through the environment variables in
ENV_DEFAULTS. Python 3.10 standard library only (see ssb_guest/__init__.py).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import errno
import ipaddress
import os
import re
import sys
import syslog
from collections import OrderedDict

PROG = "ssb-log-store"

ENV_DEFAULTS: dict[str, str] = {
    # The kernel log: alert-priority lines there reach the instance console (serial log).
    "SSB_LOG_STORE_CONSOLE": "/dev/kmsg",
    # pam_motd shows files in /run/motd.d at login.
    "SSB_LOG_STORE_MOTD": "/run/motd.d/ssb-log-collector",
}
DATE_RE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
FILE_RE = re.compile(r"^([0-9]{4}-[0-9]{2}-[0-9]{2})\.log$")
OPEN_FILES = 64  # at most this many per-client day files open at once
PRIORITIES = {"alert": 1, "error": 3, "warning": 4, "info": 6}


def env(name: str) -> str:
    """The overridable setting `name`."""
    return os.environ.get(name, ENV_DEFAULTS[name])


def log(message: str, level: str = "info", *, to_syslog: bool = False) -> None:
    """One line to stderr; under systemd with the syslog priority the journal understands.

    `to_syslog` for `write`, whose stderr rsyslog's omprog discards: the line goes to the local
    syslog socket (the journal) instead.
    """
    prefix = f"<{PRIORITIES[level]}>" if os.environ.get("JOURNAL_STREAM") else ""
    print(f"{prefix}{PROG}: {message}", file=sys.stderr, flush=True)
    if to_syslog:
        syslog.openlog(PROG, 0, syslog.LOG_DAEMON)
        syslog.syslog(PRIORITIES[level], message)


# --------------------------------------------------------------------------------------------
# write: rsyslog's omprog protocol (confirmMessages="on").


class Store:
    """Appends records to ROOT/<ip>/<date>.log, whole lines only."""

    def __init__(self, root: str) -> None:
        self.root = root
        self.files: OrderedDict[tuple[str, str], int] = OrderedDict()

    def _fd(self, peer: str, date: str) -> int:
        key = (peer, date)
        if key in self.files:
            self.files.move_to_end(key)
            return self.files[key]
        directory = os.path.join(self.root, peer)
        os.makedirs(directory, mode=0o750, exist_ok=True)
        fd = os.open(os.path.join(directory, f"{date}.log"),
                     os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o640)
        self.files[key] = fd
        while len(self.files) > OPEN_FILES:
            os.close(self.files.popitem(last=False)[1])
        return fd

    def append(self, record: str) -> None:
        """Write one record or nothing of it (OSError: the caller reports it, rsyslog retries)."""
        peer, date, line = [*record.split(" ", 2), "", ""][:3]
        try:
            peer = str(ipaddress.ip_address(peer))
        except ValueError:
            peer = "_unknown-peer"  # rsyslog always gives an address; never a path from data
        if not DATE_RE.match(date):
            date = dt.date.today().isoformat()
        data = (line.rstrip("\n") + "\n").encode("utf-8", "surrogateescape")
        fd = self._fd(peer, date)
        size = os.fstat(fd).st_size
        written = 0
        try:
            while written < len(data):
                written += os.write(fd, data[written:])
        except OSError:
            if written:  # never leave half a line: the whole record is written again later
                with contextlib.suppress(OSError):
                    os.ftruncate(fd, size)
            raise

    def close(self) -> None:
        for fd in self.files.values():
            os.close(fd)
        self.files.clear()


def cmd_write(args: argparse.Namespace) -> int:
    store = Store(args.root)
    reply = sys.stdout
    reply.write("OK\n")  # ready
    reply.flush()
    full = False
    try:
        for raw in sys.stdin.buffer:
            record = raw.decode("utf-8", "surrogateescape").rstrip("\n")
            try:
                store.append(record)
            except OSError as exc:
                if exc.errno in (errno.ENOSPC, errno.EDQUOT) and not full:
                    log(f"{args.root} is full: holding the logs back (the clients queue them) "
                        "until there is room", "alert", to_syslog=True)
                full = exc.errno in (errno.ENOSPC, errno.EDQUOT)
                reply.write(f"cannot write to {args.root}: {exc.strerror}\n")
            else:
                if full:
                    log(f"{args.root} has room again: writing the held-back logs",
                        to_syslog=True)
                    full = False
                reply.write("OK\n")
            reply.flush()
    finally:
        store.close()
    return 0


# --------------------------------------------------------------------------------------------
# retention and check.


def used_percent(path: str) -> float:
    """How full the file system holding `path` is, as df counts it (reserved blocks are used)."""
    st = os.statvfs(path)
    if not st.f_blocks:
        return 0.0
    return 100.0 * (st.f_blocks - st.f_bavail) / st.f_blocks


def _day_files(root: str) -> list[tuple[str, str]]:
    """(date, path) of every collected day file, oldest first."""
    found = []
    for peer in sorted(os.listdir(root)):
        directory = os.path.join(root, peer)
        if not os.path.isdir(directory) or os.path.islink(directory):
            continue
        for name in os.listdir(directory):
            match = FILE_RE.match(name)
            if match:
                found.append((match.group(1), os.path.join(directory, name)))
    return sorted(found)


def _remove_empty_dirs(root: str) -> None:
    for peer in os.listdir(root):
        with contextlib.suppress(OSError):  # not empty, or not a directory
            os.rmdir(os.path.join(root, peer))


def cmd_retention(args: argparse.Namespace) -> int:
    root = args.root
    if not os.path.isdir(root):
        log(f"{root} does not exist yet: nothing to delete")
        return 0
    cutoff = dt.datetime.now().timestamp() - args.days * 86400
    for _, path in _day_files(root):
        if os.stat(path).st_mtime < cutoff:
            os.unlink(path)
            log(f"deleted {path}: older than {args.days} days")
    # Size: the oldest days go first; today's and yesterday's files (still written to, and the
    # first anyone looks at) are never deleted for space: then the disk fills, the clients
    # queue and `check` alerts.
    keep_from = (dt.date.today() - dt.timedelta(days=1)).isoformat()
    for date, path in _day_files(root):
        if used_percent(root) <= args.max_percent or date >= keep_from:
            break
        os.unlink(path)
        log(f"deleted {path}: the log volume was more than {args.max_percent}% full", "warning")
    _remove_empty_dirs(root)
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    root = args.root
    motd = env("SSB_LOG_STORE_MOTD")
    if not os.path.isdir(root):
        log(f"{root} does not exist yet: nothing to check")
        return 0
    percent = used_percent(root)
    if percent < args.alert_percent:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(motd)
        log(f"{root} is {percent:.0f}% full")
        return 0
    st = os.statvfs(root)
    free_mib = st.f_bavail * st.f_frsize // 1048576
    message = (f"ALERT: the log collector's volume ({root}) is {percent:.0f}% full, {free_mib} "
               f"MiB free. When it is full the clients keep their logs in their own queues "
               f"(nothing is lost while those last): grow the volume, or shorten retention.")
    log(message, "alert")
    # The console is a second channel, never the only one.
    with contextlib.suppress(OSError), open(env("SSB_LOG_STORE_CONSOLE"), "w",
                                            encoding="utf-8") as console:
        console.write(f"<1>{PROG}: {message}\n")
    with contextlib.suppress(OSError):
        os.makedirs(os.path.dirname(motd), exist_ok=True)
        with open(motd + ".new", "w", encoding="utf-8") as handle:
            handle.write(f"\n*** {message}\n\n")
        os.replace(motd + ".new", motd)
    return 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n", 1)[0])
    sub = parser.add_subparsers(dest="command", required=True)
    write = sub.add_parser("write", help="append records from rsyslog (omprog)")
    write.add_argument("--root", required=True)
    retention = sub.add_parser("retention", help="delete by age, then by size")
    retention.add_argument("--root", required=True)
    retention.add_argument("--days", type=int, required=True)
    retention.add_argument("--max-percent", type=float, required=True)
    check = sub.add_parser("check", help="alert when the log volume is nearly full")
    check.add_argument("--root", required=True)
    check.add_argument("--alert-percent", type=float, required=True)
    args = parser.parse_args(argv)
    handlers = {"write": cmd_write, "retention": cmd_retention, "check": cmd_check}
    return handlers[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
