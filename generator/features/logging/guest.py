"""Logging and intrusion detection on every instance: the guest files of the spec's ``logging``.

Safespring's GDPR page recommends "established industry tools for intrusion detection and
audit logging" and storing logs "both locally and centrally" (Art. 5(1)(f), 5(2), 32(1)(b)).
This module turns ``logging: {central, retention_days, intrusion_detection}`` into the files,
packages and first-boot commands for that. It is pure: deterministic text out, no disk I/O
beyond reading its own static package data (``generator/data/logging/``).

Local logs (every instance):

- The systemd journal is persistent and keeps at most ``retention_days`` (``MaxRetentionSec``);
  it forwards to rsyslog, whose distribution configuration writes the usual files
  (``/var/log/syslog``, ``auth.log``, ...). The journal is the local copy that lasts the whole
  retention period; journald's disk cap (10 % of the file system, at most 4 GiB) can shorten it.
- A daily ``ssb-log-retention.timer`` deletes rotated files under ``/var/log`` (``*.gz``,
  ``*.1`` ...) older than ``retention_days``, so no local file outlives the period (storage
  limitation) whatever the distribution's logrotate keeps.

Central logs (``central: true``):

- Clients forward everything with rsyslog's ``omfwd`` over TLS (RFC 5425: octet-counted RFC 5424
  messages, port 6514, ``gtls`` driver, TLS 1.2/1.3 with ECDHE and AEAD ciphers only) to the
  collector, behind a disk-assisted queue (saved on shutdown, retried forever), so nothing is
  lost while the collector is unreachable or before certificates exist. Delivery is at least
  once: after an outage a message may arrive twice.
- The collector's listener is an rsyslogd of its own (``ssb-log-collector.service``, next to the
  distribution's rsyslog, which keeps the collector's own local logs): TLS only on 6514 (no
  plaintext UDP/TCP 514 listener at all), writing ``/var/log/remote/<peer IP>/<YYYY-MM-DD>.log``
  on the collector's encrypted volume. It runs only while that volume is unlocked and mounted
  (it is part of ``ssb-volumes.target``): with Tang down the port is closed and the clients keep
  queueing on their own disks, so collected logs never land on the unencrypted boot disk. Files
  are named by the peer's IP address, which an authenticated client cannot forge (a name the
  client reports could be another instance's); every line also carries the name the client
  reports, which nothing checks: read it as a claim.
- Nothing is lost when the log volume fills. ``ssb-log-store write`` (rsyslog's omprog) writes
  the files and confirms a record only once it is written; on a full volume it answers an error,
  rsyslog retries (forever), its queue (``COLLECTOR_QUEUE`` records in memory) fills, enqueueing
  waits instead of dropping, the listener stops reading, and the clients keep their logs in
  their own 2 GB disk queues until the volume has room (rsyslog's omfile dropped every line it
  could not write). Per client address, nftables limits the collector's port to ``RATE_BYTES``
  per second after a burst of ``BURST_BYTES``: packets over it are dropped, so TCP slows that
  client down and its own queue keeps the rest (rsyslog's own rate limit drops messages and
  counts per listener, not per client).
- Retention: hourly, files older than ``retention_days`` go, then, while the volume is more
  than ``SIZE_RETENTION_PERCENT`` full, the oldest day files (never today's or yesterday's).
  Every 15 minutes ``ssb-evidence`` reads the instances' self-check events (``ssb-verify``)
  from the collected files and keeps the latest result and last success of each measure per
  instance on the volume; ``ssb-evidence export`` prints them (docs/evidence.md).
  Every five minutes ``ssb-log-space.service`` alerts from ``ALERT_PERCENT`` on: journal
  priority alert, the instance console (``openstack console log show``) and the login message.

PKI, with no secret in the blueprint or the Terraform state:

- At first boot the collector runs ``ssb-log-pki init``: openssl creates a private CA (P-256;
  key ``0600`` in a ``0700`` directory that rsyslog may not read, and that never leaves the
  collector), its database and CRL, and the collector's certificate for the fixed name
  ``SERVER_NAME`` (90 days; the daily ``ssb-log-pki-refresh.timer`` renews it, expires
  certificates and writes a new CRL).
- An administrator runs ``ssb-log-pki issue <client-hostname> [--client-address ADDR]`` on the
  collector, copies ``ca.pem``, ``client.pem``, ``client.key``, ``collector-address`` to the
  client over SSH and runs ``ssb-log-pki install <dir>`` there, which verifies the bundle and
  places it in ``TLS_DIR`` (key ``0640``, group of the rsyslog user). rsyslog picks the files up
  on its next retry; no restart. The bundle's collector address goes to /etc/hosts;
  ``ssb-log-hosts.service`` puts it back at every boot, after cloud-init (which rewrites
  /etc/hosts on images with ``manage_etc_hosts``, such as Debian's).
- Client certificates last 30 days. The client renews its own (``ssb-log-renew.timer``, daily,
  from 10 days before the end): a key it makes itself, sent as a CSR to the collector's renewal
  service (``ssb-log-renewal``, port ``RENEWAL_PORT``) over mutual TLS with the certificate it
  still holds. The service refuses a certificate on the CRL, one not valid in the CA database,
  and a call from any address but the one the client is bound to (``--client-address`` at
  issue, else its first renewal's); the new certificate carries that address.
- ``ssb-log-pki revoke <host>`` puts the host's certificates on the CRL and takes them out of
  ``clients.pem``, the only certificates the listener trusts (the certificates issued and
  neither revoked nor expired); every change of that list restarts the listener. rsyslog 8.2302
  (Debian 12) has no CRL parameter (``streamDriver.CRLFile`` came with 8.2308).
- Mutual TLS: the collector accepts only certificates on that list with the client-auth
  purpose (``x509/certvalid`` plus the extended-key-usage check); clients require the
  server-auth purpose and the name ``SERVER_NAME`` (``x509/name``). Until the files exist a
  client keeps logging locally and queues; it never sends anything in plaintext (fail closed).
- Why a fixed name and not the collector's address: the generator may only know an IP address
  (or a name that changes), and rsyslog's name check ignores IP subject-alt-names; what the name
  check must prevent is another certificate from the same CA (a client's) posing as the
  collector, and a reserved name ``issue`` refuses to sign does exactly that.
- Limits: the listener cannot tie a certificate to the address it connects from (rsyslog has
  no such check): a stolen client key works from any address the security group admits until
  it is revoked or ends. The first key is generated on the collector and copied once (delete
  the bundle afterwards); renewed keys never leave the client.

Intrusion detection (``intrusion_detection: true``):

- auditd with a rules file (identity files, sudoers, sshd configuration, privileged commands,
  kernel modules, time changes, logins, audit tampering; ``-e 2`` last, so the rules are
  immutable until reboot) and auditd's syslog plug-in, so audit events reach the collector.
- AIDE with its own configuration; the baseline is taken once cloud-init has finished
  (``ssb-aide-init.service``, ordered after ``cloud-final.service``, retried at every boot until
  it exists) and checked daily by
  ``ssb-aide-check.timer``. The report and the database's SHA-256 go to the journal, hence to
  the collector, where a root attacker on the instance cannot rewrite them.

The keyword-only arguments named for tests (``root``, ports, ``bind_address``) exist to run the
real daemons on loopback in a temporary directory; the spec never sets them.
"""

from __future__ import annotations

import ipaddress
import re
from importlib import resources

import ssb_guest
from generator.render.cloudinit import GuestConfig

COLLECTOR_PORT = 6514
# Clients renew their certificates here (ssb-log-renewal, mutual TLS with the current one).
RENEWAL_PORT = 6515
SERVER_NAME = "collector.logging.safespring-blueprints.internal"
# GnuTLS: TLS 1.2 and 1.3 only, ECDHE key exchange, AEAD ciphers only (no CBC, no RSA kx).
GNUTLS_PRIORITY = (
    "SECURE128:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-CIPHER-ALL:+AES-256-GCM:+AES-128-GCM:"
    "+CHACHA20-POLY1305:-MAC-ALL:+AEAD:-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA"
)
QUEUE_MAX_DISK = "2g"
# The collector's store (ssb-log-store): it alerts from this fill level on, deletes the oldest
# day files (never today's or yesterday's) above the next, and when the volume is full anyway it
# holds the logs back, so the clients keep them in their own queues.
ALERT_PERCENT = 80
SIZE_RETENTION_PERCENT = 90
# Records the collector holds in memory while its store cannot write (at most these can be lost
# if its rsyslogd is killed while the volume is full; the rest wait on the clients' disks).
COLLECTOR_QUEUE = 1000
# Per-source rate limit on the collector's port (nftables, per client address): packets over it
# are dropped, so TCP slows that client down and its own queue holds the rest. Nothing is lost,
# and one client cannot take the collector from the others.
RATE_BYTES = 1024 * 1024
BURST_BYTES = 32 * 1024 * 1024

TLS_DIR = "etc/safespring-blueprints/logging"
PKI_SCRIPT = "usr/local/sbin/ssb-log-pki"
STORE_PROGRAM = "usr/local/sbin/ssb-log-store"
RENEWAL_PROGRAM = "usr/local/sbin/ssb-log-renewal"
EVIDENCE_PROGRAM = "usr/local/sbin/ssb-evidence"
RATE_LIMIT_RULES = "etc/safespring-blueprints/logging/rate-limit.nft"
NFT_TABLE = "ssb_log_collector"
JOURNALD_DROPIN = "etc/systemd/journald.conf.d/60-safespring-blueprints.conf"
FORWARD_CONF = "etc/rsyslog.d/60-safespring-blueprints-forward.conf"
# The collector's rsyslogd runs on this file alone (its own main configuration).
COLLECTOR_CONF = "etc/safespring-blueprints/logging/collector.conf"
COLLECTOR_STATE = "var/lib/ssb-log-collector"
APPARMOR_SNIPPET = "etc/apparmor.d/rsyslog.d/safespring-blueprints-logging"
SPOOL_DIR = "var/spool/rsyslog"
REMOTE_DIR = "var/log/remote"
UNIT_DIR = "etc/systemd/system"
AUDIT_RULES = "etc/audit/rules.d/60-safespring-blueprints.rules"
AUDIT_SYSLOG_PLUGIN = "etc/audit/plugins.d/ssb-syslog.conf"
AIDE_CONF = "etc/safespring-blueprints/aide/aide.conf"
AIDE_DB_DIR = "var/lib/aide/safespring-blueprints"

_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOSTNAME = re.compile(rf"(?:{_LABEL}\.)*{_LABEL}")
_ROOT = re.compile(r"/(?:[A-Za-z0-9._-]+/)*")
_HEADER = "Generated by safespring-blueprints. Do not edit: regenerate the blueprint."


def _pki_script() -> str:
    return ssb_guest.program(f"/{PKI_SCRIPT}")[1]


def _store_program() -> str:
    return ssb_guest.program(f"/{STORE_PROGRAM}")[1]


def _evidence_program() -> str:
    return ssb_guest.program(f"/{EVIDENCE_PROGRAM}")[1]


def _renewal_program() -> str:
    return ssb_guest.program(f"/{RENEWAL_PROGRAM}")[1]


def _data(name: str) -> str:
    """A static file shipped in ``generator/data/logging/``."""
    return resources.files("generator").joinpath(f"data/logging/{name}").read_text("utf-8")


def check_collector(collector: str) -> str:
    """The collector address, if it is a plain DNS name or an IPv4/IPv6 literal (else ValueError).

    Names are lowercase, labels of letters, digits and inner hyphens, at most 253 characters,
    and the last label is not all digits (so ``10.0.0`` is neither a name nor an address).
    """
    if not isinstance(collector, str) or not collector or len(collector) > 253:
        raise ValueError(f"collector {collector!r} must be a host name or an IP address")
    if ":" in collector or collector.replace(".", "").isdigit():
        if "%" in collector:  # a scoped IPv6 address names an interface of the client
            raise ValueError(f"collector {collector!r}: scoped IPv6 addresses are not allowed")
        try:
            return str(ipaddress.ip_address(collector))
        except ValueError:
            raise ValueError(f"collector {collector!r} is not a valid IP address") from None
    if not _HOSTNAME.fullmatch(collector) or collector.rsplit(".", 1)[-1].isdigit():
        raise ValueError(f"collector {collector!r} is not a plain lowercase DNS name")
    return collector


def _check_int(name: str, value: object, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{name} {value!r} must be an integer {low}..{high}")
    return value


def _check_root(root: str) -> str:
    if not isinstance(root, str) or not _ROOT.fullmatch(root):
        raise ValueError(f"root {root!r} must be an absolute path ending in '/'")
    return root


def _unit(sections: list[tuple[str, list[str]]]) -> str:
    """A systemd unit file from ``[(section, ["Key=value", ...]), ...]``."""
    out = [f"# {_HEADER}"]
    for name, lines in sections:
        out += ["", f"[{name}]", *lines]
    return "\n".join(out) + "\n"


def _timer(description: str, calendar: str = "daily") -> str:
    return _unit(
        [
            ("Unit", [f"Description={description}"]),
            (
                "Timer",
                [f"OnCalendar={calendar}", "RandomizedDelaySec=1h", "Persistent=true"],
            ),
            ("Install", ["WantedBy=timers.target"]),
        ]
    )


_HARDENING = [
    "NoNewPrivileges=true",
    "PrivateNetwork=true",
    "PrivateTmp=true",
    "ProtectSystem=strict",
    "Nice=19",
    "IOSchedulingClass=idle",
]


def _local(root: str, retention_days: int) -> tuple[list[tuple[str, str, str]], list[tuple[str, ...]]]:
    """Persistent journal with the retention period, and the cleanup timer for rotated files."""
    journald = "\n".join(
        [
            f"# {_HEADER}",
            "# Local logs: a persistent journal kept at most retention_days, forwarded to rsyslog.",
            "[Journal]",
            "Storage=persistent",
            "Compress=yes",
            f"MaxRetentionSec={retention_days}d",
            "ForwardToSyslog=yes",
            "",
        ]
    )
    minutes = retention_days * 1440
    log = f"{root}var/log"
    service = _unit(
        [
            (
                "Unit",
                [
                    f"Description=Delete rotated logs older than {retention_days} days "
                    "(safespring-blueprints)",
                ],
            ),
            (
                "Service",
                [
                    "Type=oneshot",
                    # The journal has its own retention; the collector's files have their timer.
                    f"ExecStart=/usr/bin/find {log} -xdev -type f -not -path {log}/journal/* "
                    f"-not -path {root}{REMOTE_DIR}/* ( -name *.gz -o -name *.xz -o -name *.zst "
                    f"-o -name *.bz2 -o -name *.[0-9] -o -name *.old ) -mmin +{minutes} "
                    "-print -delete",
                    f"ReadWritePaths={log}",
                    *_HARDENING,
                ],
            ),
        ]
    )
    files = [
        (f"{root}{JOURNALD_DROPIN}", journald, "0644"),
        (f"{root}{UNIT_DIR}/ssb-log-retention.service", service, "0644"),
        (
            f"{root}{UNIT_DIR}/ssb-log-retention.timer",
            _timer("Daily deletion of logs past their retention period"),
            "0644",
        ),
    ]
    commands = [
        ("systemctl", "daemon-reload"),
        ("systemctl", "restart", "systemd-journald.service"),
        ("systemctl", "enable", "--now", "ssb-log-retention.timer"),
    ]
    return files, commands


def _apparmor(root: str, *, collector: bool = False) -> tuple[str, str, str]:
    """Ubuntu confines rsyslogd: allow it to read the TLS files (never ``private/``) and, on the
    collector, its own configuration and state directory."""
    d = f"/{TLS_DIR}"
    # The store (omprog) runs in rsyslogd's profile: its program and Python, the volume.
    extra = [f"/{COLLECTOR_CONF} r,", f"/{COLLECTOR_STATE}/ rw,", f"/{COLLECTOR_STATE}/** rwk,",
             f"/{REMOTE_DIR}/ rw,", f"/{REMOTE_DIR}/** rw,", f"/{STORE_PROGRAM} rix,",
             "/usr/bin/python3* rix,", "/usr/lib/python3*/** mr,",
             "/usr/lib/python3/dist-packages/** mr,", "/etc/python3*/** r,",
             "/run/motd.d/ rw,", "/run/motd.d/** rw,"] if collector else []
    text = "\n".join(
        [
            f"# {_HEADER}",
            "# rsyslogd reads its log-shipping TLS material here; private/ (the CA key) is not listed.",
            f"{d}/ r,",
            f"{d}/*.pem r,",
            f"{d}/*.key r,",
            *extra,
            "",
        ]
    )
    return (f"{root}{APPARMOR_SNIPPET}", text, "0644")


def _forward_conf(collector: str, *, root: str, port: int) -> str:
    tls = f"{root}{TLS_DIR}"
    return "\n".join(
        [
            f"# {_HEADER}",
            "# Ship every message to the central log collector over TLS (RFC 5425), mutual",
            "# certificate authentication, behind a disk-assisted queue. Until the certificate",
            f"# files exist in {tls} nothing is sent (never in plaintext) and messages queue.",
            "action(",
            '    type="omfwd"',
            '    name="ssb-collector"',
            f'    target="{collector}"',
            f'    port="{port}"',
            '    protocol="tcp"',
            '    TCP_Framing="octet-counted"',
            '    template="RSYSLOG_SyslogProtocol23Format"',
            '    StreamDriver="gtls"',
            '    StreamDriverMode="1"',
            '    StreamDriverAuthMode="x509/name"',
            f'    StreamDriverPermittedPeers="{SERVER_NAME}"',
            '    StreamDriver.CheckExtendedKeyPurpose="on"',
            '    StreamDriver.PrioritizeSAN="on"',
            f'    StreamDriver.CAFile="{tls}/ca.pem"',
            f'    StreamDriver.CertFile="{tls}/client.pem"',
            f'    StreamDriver.KeyFile="{tls}/client.key"',
            f'    gnutlsPriorityString="{GNUTLS_PRIORITY}"',
            '    queue.type="LinkedList"',
            '    queue.filename="ssb-collector"',
            f'    queue.spoolDirectory="{root}{SPOOL_DIR}"',
            f'    queue.maxDiskSpace="{QUEUE_MAX_DISK}"',
            '    queue.saveOnShutdown="on"',
            '    action.resumeRetryCount="-1"',
            '    action.resumeInterval="10"',
            ")",
            "",
        ]
    )


def _collector_conf(*, root: str, port: int, bind_address: str | None) -> str:
    tls = f"{root}{TLS_DIR}"
    remote = f"{root}{REMOTE_DIR}"
    address = [f'    address="{bind_address}"'] if bind_address is not None else []
    return "\n".join(
        [
            f"# {_HEADER}",
            "# Central log collector: TLS only (RFC 5425) on one port, clients authenticated by",
            "# certificates this collector's CA issued; no plaintext listener exists. The main",
            "# configuration of ssb-log-collector.service's own rsyslogd (not the system's).",
            f'global(workDirectory="{root}{COLLECTOR_STATE}")',
            'module(load="imtcp" maxSessions="1000")',
            'module(load="omprog")',
            "",
            "# <peer IP> <YYYY-MM-DD> (the store's file), then the line:",
            "# <time reported> <peer IP> <host> <tag> <message>. The peer IP names the file (a",
            "# client cannot forge it); the host name is what the client says, never checked.",
            'template(name="ssb-remote-record" type="list") {',
            '    property(name="fromhost-ip")',
            '    constant(value=" ")',
            '    property(name="$year")',
            '    constant(value="-")',
            '    property(name="$month")',
            '    constant(value="-")',
            '    property(name="$day")',
            '    constant(value=" ")',
            '    property(name="timereported" dateFormat="rfc3339")',
            '    constant(value=" ")',
            '    property(name="fromhost-ip")',
            '    constant(value=" ")',
            '    property(name="hostname")',
            '    constant(value=" ")',
            '    property(name="syslogtag")',
            '    property(name="msg" spIfNo1stSp="on")',
            '    property(name="msg" dropLastLf="on")',
            '    constant(value="\\n")',
            "}",
            "",
            "# ssb-log-store confirms a record only once it is written. When the volume is full it",
            "# answers an error: the action is retried (forever), the queue fills, enqueueing waits",
            "# (timeoutEnqueue: 24 days) instead of dropping, the listener stops reading and the",
            "# clients queue on their own disks. rsyslog's omfile would drop what it cannot write.",
            f'ruleset(name="ssb-remote" queue.type="LinkedList" queue.size="{COLLECTOR_QUEUE}"',
            '        queue.timeoutEnqueue="2147483647" queue.timeoutShutdown="60000") {',
            '    action(type="omprog" name="ssb-log-store"',
            f'           binary="{root}{STORE_PROGRAM} write --root {remote}"',
            '           template="ssb-remote-record" confirmMessages="on" confirmTimeout="60000"',
            '           reportFailures="on" action.resumeRetryCount="-1"',
            '           action.resumeInterval="10")',
            "    stop",
            "}",
            "",
            "input(",
            '    type="imtcp"',
            f'    port="{port}"',
            *address,
            '    ruleset="ssb-remote"',
            '    streamDriver.name="gtls"',
            '    streamDriver.mode="1"',
            '    streamDriver.authMode="x509/certvalid"',
            '    streamDriver.CheckExtendedKeyPurpose="on"',
            "    # Trusted: the client certificates issued and neither revoked nor expired (ssb-log-pki",
            "    # writes the list and restarts this listener when it changes), not the whole CA.",
            f'    streamDriver.CAFile="{tls}/clients.pem"',
            f'    streamDriver.CertFile="{tls}/server.pem"',
            f'    streamDriver.KeyFile="{tls}/server.key"',
            f'    gnutlsPriorityString="{GNUTLS_PRIORITY}"',
            ")",
            "",
        ]
    )


def rate_limit_rules(port: int = COLLECTOR_PORT, *, rate_bytes: int = RATE_BYTES,
                     burst_bytes: int = BURST_BYTES) -> str:
    """nftables rules: per client address, at most `rate_bytes`/s (after a burst) to `port`.

    Packets over the limit are dropped, so TCP backs off and the client's queue keeps the
    rest: a limit that delays, never one that loses lines (rsyslog's own rate limit drops
    messages, and counts per listener, not per client). Loaded as a table of its own, so the
    instance's other firewall rules (if any) stay as they are.
    """
    limit = f"limit rate over {rate_bytes} bytes/second burst {burst_bytes} bytes"
    return "\n".join([
        f"# {_HEADER}",
        f"# Per-client rate limit on the log collector's port {port}: delays, never drops lines.",
        f"table inet {NFT_TABLE}",
        f"delete table inet {NFT_TABLE}",
        f"table inet {NFT_TABLE} {{",
        "    set clients4 { type ipv4_addr; flags dynamic; timeout 10m; }",
        "    set clients6 { type ipv6_addr; flags dynamic; timeout 10m; }",
        "    chain input {",
        "        type filter hook input priority filter; policy accept;",
        # `nft list table inet ssb_log_collector` shows how often a client was slowed down.
        f"        tcp dport {port} update @clients4 {{ ip saddr {limit} }} counter drop",
        f"        tcp dport {port} update @clients6 {{ ip6 saddr {limit} }} counter drop",
        "    }",
        "}",
        "",
    ])


def _aide_conf(root: str) -> str:
    r = root.replace(".", "\\.")  # selection lines are regular expressions
    db = f"{root}{AIDE_DB_DIR}"
    return "\n".join(
        [
            f"# {_HEADER}",
            "# File-integrity monitoring: system binaries, libraries, configuration, root's SSH keys.",
            f"database_in=file:{db}/aide.db.gz",
            f"database_out=file:{db}/aide.db.new.gz",
            "gzip_dbout=yes",
            "report_url=stdout",
            "report_summarize_changes=yes",
            "report_grouped=yes",
            "report_level=changed_attributes",
            "log_level=warning",
            "SSB = p+n+u+g+s+m+c+ftype+acl+xattrs+sha512",
            f"{r}boot SSB",
            f"{r}etc SSB",
            f"{r}usr/bin SSB",
            f"{r}usr/sbin SSB",
            f"{r}usr/lib SSB",
            f"{r}usr/libexec SSB",
            f"{r}usr/local SSB",
            f"{r}opt SSB",
            f"{r}root/\\.ssh SSB",
            f"{r}var/spool/cron SSB",
            # Rewritten at every boot or by the network, with no security meaning.
            f"!{r}etc/mtab$",
            f"!{r}etc/adjtime$",
            f"!{r}etc/resolv\\.conf$",
            "",
        ]
    )


def _intrusion_detection(root: str) -> tuple[list[tuple[str, str, str]], list[tuple[str, ...]]]:
    conf = f"{root}{AIDE_CONF}"
    db = f"{root}{AIDE_DB_DIR}"
    plugin = "\n".join(
        [
            f"# {_HEADER}",
            "# Audit events to syslog, hence to the local files and the central collector.",
            "active = yes",
            "direction = out",
            "path = /sbin/audisp-syslog",
            "type = always",
            "args = LOG_INFO LOG_LOCAL6",
            "format = string",
            "",
        ]
    )
    aide_limits = [
        "NoNewPrivileges=true",
        "PrivateNetwork=true",
        "ProtectSystem=strict",
        "CapabilityBoundingSet=CAP_DAC_READ_SEARCH",
        "Nice=19",
        "IOSchedulingClass=idle",
    ]
    init = _unit(
        [
            (
                "Unit",
                [
                    "Description=AIDE baseline of system files (safespring-blueprints)",
                    # Take the baseline once cloud-init has installed and configured everything.
                    "After=cloud-final.service",
                    f"ConditionPathExists=!{db}/aide.db.gz",
                ],
            ),
            (
                "Service",
                [
                    "Type=oneshot",
                    # Made before the service's read-only namespace is set up (ReadWritePaths=
                    # of a directory that does not exist yet fails with 226/NAMESPACE).
                    f"StateDirectory={AIDE_DB_DIR.removeprefix('var/lib/')}",
                    "StateDirectoryMode=0700",
                    f"ExecStart=/usr/bin/aide --init --config={conf}",
                    f"ExecStart=/usr/bin/mv -f {db}/aide.db.new.gz {db}/aide.db.gz",
                    # The database's hash goes to the central log: a rewritten baseline shows.
                    f"ExecStartPost=/usr/bin/sha256sum {db}/aide.db.gz",
                    "SyslogIdentifier=ssb-aide",
                    *aide_limits,
                ],
            ),
            # Tried again at every boot until the baseline exists (the condition above), after
            # cloud-init's last stage: cloud-init.target, since cloud-final.service is ordered
            # after multi-user.target (wanted by that, the start job would be an ordering cycle).
            ("Install", ["WantedBy=cloud-init.target"]),
        ]
    )
    check = _unit(
        [
            (
                "Unit",
                [
                    "Description=AIDE file-integrity check (safespring-blueprints)",
                    "After=ssb-aide-init.service",
                ],
            ),
            (
                "Service",
                [
                    "Type=oneshot",
                    f"ExecStartPre=/usr/bin/sha256sum {db}/aide.db.gz",
                    # Exit status 1-7 means files were added, removed or changed: the unit fails.
                    f"ExecStart=/usr/bin/aide --check --config={conf}",
                    "SyslogIdentifier=ssb-aide",
                    *aide_limits,
                ],
            ),
        ]
    )
    files = [
        (f"{root}{AUDIT_RULES}", _data("60-safespring-blueprints.rules"), "0640"),
        (f"{root}{AUDIT_SYSLOG_PLUGIN}", plugin, "0640"),
        (conf, _aide_conf(root), "0600"),
        (f"{root}{UNIT_DIR}/ssb-aide-init.service", init, "0644"),
        (f"{root}{UNIT_DIR}/ssb-aide-check.service", check, "0644"),
        (
            f"{root}{UNIT_DIR}/ssb-aide-check.timer",
            _timer("Daily AIDE file-integrity check"),
            "0644",
        ),
    ]
    commands = [
        ("systemctl", "daemon-reload"),
        # Re-reads plugins.d and loads rules.d (augenrules, ending in -e 2) in case auditd was
        # running before its files were written; a no-op for rules already immutable.
        ("systemctl", "restart", "auditd.service"),
        # Debian's own daily check would run on the distribution's configuration, uninitialised.
        ("systemctl", "mask", "--now", "dailyaidecheck.timer"),
        ("systemctl", "enable", "ssb-aide-check.timer", "ssb-aide-init.service"),
        ("systemctl", "start", "ssb-aide-check.timer"),
        ("systemctl", "start", "--no-block", "ssb-aide-init.service"),
    ]
    return files, commands


def _hosts_unit(root: str) -> str:
    return _unit([
        ("Unit", [
            "Description=Point the log collector's name at its address (safespring-blueprints)",
            # cloud-init rewrites /etc/hosts at every boot where it manages the file.
            "After=cloud-init.service",
            f"ConditionPathExists={root}{TLS_DIR}/collector-address",
        ]),
        ("Service", ["Type=oneshot", f"ExecStart={root}{PKI_SCRIPT} hosts --dir {root}{TLS_DIR}"]),
        ("Install", ["WantedBy=multi-user.target"]),
    ])


def _collector_unit(root: str, *, encrypted_volume: bool) -> str:
    """The collector's own rsyslogd: while the encrypted log volume is mounted, and only then."""
    volume = (["Requires=ssb-volumes.target", "After=ssb-volumes.target network-online.target"]
              if encrypted_volume else ["After=network-online.target"])
    return _unit([
        ("Unit", [
            "Description=Central log collector: TLS listener (safespring-blueprints)",
            "Documentation=man:rsyslogd(8)",
            "Wants=network-online.target ssb-log-rate-limit.service",
            "After=ssb-log-rate-limit.service",
            *volume,
        ]),
        ("Service", [
            "Type=notify",
            f"ExecStart=/usr/sbin/rsyslogd -n -iNONE -f {root}{COLLECTOR_CONF}",
            f"StateDirectory={COLLECTOR_STATE.removeprefix('var/lib/')}",
            "StateDirectoryMode=0700",
            "Restart=on-failure",
            "RestartSec=10s",
            # Held-back records are written out before it stops (queue.timeoutShutdown).
            "TimeoutStopSec=90s",
        ]),
        ("Install", ["WantedBy=" + ("ssb-volumes.target" if encrypted_volume
                                    else "multi-user.target")]),
    ])


def _rate_limit_unit(root: str) -> str:
    return _unit([
        ("Unit", [
            "Description=Per-client rate limit on the log collector's port (safespring-blueprints)",
            # After the distribution's nftables.service, whose configuration flushes the ruleset.
            "After=nftables.service network-pre.target",
            "Before=ssb-log-collector.service",
        ]),
        ("Service", [
            "Type=oneshot",
            "RemainAfterExit=yes",
            f"ExecStart=/usr/sbin/nft -f {root}{RATE_LIMIT_RULES}",
            f"ExecStop=/usr/sbin/nft delete table inet {NFT_TABLE}",
        ]),
        ("Install", ["WantedBy=multi-user.target"]),
    ])


def _pki_units_collector(root: str, renewal_port: int, bind_address: str | None
                         ) -> list[tuple[str, str, str]]:
    """The renewal service, and the daily refresh (expiry, CRL, the collector's certificate)."""
    pki, tls = f"{root}{PKI_SCRIPT}", f"{root}{TLS_DIR}"
    bind = f" --bind {bind_address}" if bind_address is not None else ""
    renewal = _unit([
        ("Unit", [
            "Description=Log certificate renewal over mutual TLS (safespring-blueprints)",
            "Wants=network-online.target",
            "After=network-online.target",
        ]),
        ("Service", [
            f"ExecStart={root}{RENEWAL_PROGRAM} --dir {tls} --port {renewal_port}{bind}",
            "Restart=always",
            "RestartSec=10s",
            "NoNewPrivileges=true",
            "PrivateTmp=true",
            "ProtectHome=true",
            "ProtectSystem=strict",
            # The CA database and the trust list; systemctl restarts the listener.
            f"ReadWritePaths={tls}",
        ]),
        ("Install", ["WantedBy=multi-user.target"]),
    ])
    refresh = _unit([
        ("Unit", ["Description=Log CA: expiry, CRL, collector certificate (safespring-blueprints)"]),
        ("Service", [
            "Type=oneshot",
            # init first: it adds what an older collector's CA lacks (database, CRL, trust list).
            f"ExecStart={pki} init --dir {tls}",
            f"ExecStart={pki} refresh --dir {tls}",
        ]),
    ])
    return [
        (f"{root}{RENEWAL_PROGRAM}", _renewal_program(), "0755"),
        (f"{root}{UNIT_DIR}/ssb-log-renewal.service", renewal, "0644"),
        (f"{root}{UNIT_DIR}/ssb-log-pki-refresh.service", refresh, "0644"),
        (f"{root}{UNIT_DIR}/ssb-log-pki-refresh.timer",
         _timer("Daily log CA refresh: expiry, CRL, collector certificate"), "0644"),
    ]


def _renew_units(root: str) -> list[tuple[str, str, str]]:
    """The client renews its certificate itself (daily, acting from RENEW_DAYS before its end)."""
    service = _unit([
        ("Unit", [
            "Description=Renew the log-shipping certificate (safespring-blueprints)",
            "Wants=network-online.target",
            "After=network-online.target",
            f"ConditionPathExists={root}{TLS_DIR}/client.pem",
        ]),
        ("Service", [
            "Type=oneshot",
            f"ExecStart={root}{PKI_SCRIPT} renew --dir {root}{TLS_DIR}",
            "NoNewPrivileges=true",
            "PrivateTmp=true",
            "ProtectSystem=strict",
            f"ReadWritePaths={root}{TLS_DIR}",
        ]),
    ])
    return [
        (f"{root}{UNIT_DIR}/ssb-log-renew.service", service, "0644"),
        (f"{root}{UNIT_DIR}/ssb-log-renew.timer",
         _timer("Daily check whether the log-shipping certificate needs renewing"), "0644"),
    ]


def _store_units(root: str, retention_days: int) -> list[tuple[str, str, str]]:
    """Retention (age, then size) hourly; the free-space check every five minutes."""
    remote = f"{root}{REMOTE_DIR}"
    program = f"{root}{STORE_PROGRAM}"
    retention = _unit([
        ("Unit", [
            f"Description=Delete collected logs older than {retention_days} days, and the oldest "
            f"while the log volume is over {SIZE_RETENTION_PERCENT}% full (safespring-blueprints)",
            f"ConditionPathIsDirectory={remote}",
        ]),
        ("Service", [
            "Type=oneshot",
            f"ExecStart={program} retention --root {remote} --days {retention_days} "
            f"--max-percent {SIZE_RETENTION_PERCENT}",
            f"ReadWritePaths={remote}",
            "SyslogIdentifier=ssb-log-store",
            *_HARDENING,
        ]),
    ])
    check = _unit([
        ("Unit", [
            f"Description=Alert when the log volume is {ALERT_PERCENT}% full (safespring-blueprints)",
            f"ConditionPathIsDirectory={remote}",
        ]),
        ("Service", [
            "Type=oneshot",
            f"ExecStart={program} check --root {remote} --alert-percent {ALERT_PERCENT}",
            "SyslogIdentifier=ssb-log-store",
            # The alert goes to the console (/dev/kmsg) and the login message (/run/motd.d).
            "NoNewPrivileges=true",
            "PrivateNetwork=true",
            "ProtectSystem=strict",
            "ReadWritePaths=/run",
        ]),
    ])
    check_timer = _unit([
        ("Unit", ["Description=Check the log volume's free space every five minutes"]),
        ("Timer", ["OnBootSec=2min", "OnUnitActiveSec=5min"]),
        ("Install", ["WantedBy=timers.target"]),
    ])
    evidence = _unit([
        ("Unit", [
            "Description=Keep the instances' latest self-check results and last successes "
            "(safespring-blueprints)",
            f"ConditionPathIsDirectory={remote}",
        ]),
        ("Service", [
            "Type=oneshot",
            f"ExecStart={root}{EVIDENCE_PROGRAM} update --root {remote} --journal",
            f"ReadWritePaths={remote}",
            "SyslogIdentifier=ssb-evidence",
            *_HARDENING,
        ]),
    ])
    evidence_timer = _unit([
        ("Unit", ["Description=Read the instances' self-check results every 15 minutes"]),
        ("Timer", ["OnBootSec=10min", "OnUnitActiveSec=15min"]),
        ("Install", ["WantedBy=timers.target"]),
    ])
    return [
        (f"{root}{EVIDENCE_PROGRAM}", _evidence_program(), "0755"),
        (f"{root}{UNIT_DIR}/ssb-evidence.service", evidence, "0644"),
        (f"{root}{UNIT_DIR}/ssb-evidence.timer", evidence_timer, "0644"),
        (f"{root}{UNIT_DIR}/ssb-log-remote-retention.service", retention, "0644"),
        (f"{root}{UNIT_DIR}/ssb-log-remote-retention.timer",
         _timer("Hourly deletion of collected logs past their retention", "hourly"), "0644"),
        (f"{root}{UNIT_DIR}/ssb-log-space.service", check, "0644"),
        (f"{root}{UNIT_DIR}/ssb-log-space.timer", check_timer, "0644"),
    ]


def log_client(
    collector: str | None,
    *,
    retention_days: int,
    intrusion_detection: bool,
    root: str = "/",
    collector_port: int = COLLECTOR_PORT,
) -> GuestConfig:
    """Local logs on every instance; shipping to ``collector`` over mutual TLS when given.

    ``collector`` is the collector's DNS name or IP address as the client reaches it; the
    certificate name checked is always ``SERVER_NAME``. ``log_client(None, ...)`` writes the
    same local-log files as :func:`log_collector`, so both can be merged for the collector.
    """
    _check_int("retention_days", retention_days, 1, 36500)
    _check_int("collector_port", collector_port, 1, 65535)
    _check_root(root)
    if not isinstance(intrusion_detection, bool):
        raise ValueError("intrusion_detection must be a boolean")
    target = None if collector is None else check_collector(collector)

    packages = {"rsyslog"}
    files, commands = _local(root, retention_days)
    measures = ["local-logs"]
    if target is not None:
        packages |= {"rsyslog-gnutls", "openssl", "curl"}
        files += [
            (
                f"{root}{FORWARD_CONF}",
                _forward_conf(target, root=root, port=collector_port),
                "0644",
            ),
            _apparmor(root),
            (f"{root}{PKI_SCRIPT}", _pki_script(), "0755"),
            (f"{root}{UNIT_DIR}/ssb-log-hosts.service", _hosts_unit(root), "0644"),
            *_renew_units(root),
        ]
        commands += [
            ("install", "-d", "-m", "0755", f"{root}{TLS_DIR}"),
            ("systemctl", "daemon-reload"),
            ("systemctl", "enable", "ssb-log-hosts.service"),
            ("systemctl", "enable", "--now", "ssb-log-renew.timer"),
            ("systemctl", "restart", "rsyslog.service"),
        ]
        measures.append("log-shipping-tls")
    if intrusion_detection:
        packages |= {"auditd", "aide"}
        id_files, id_commands = _intrusion_detection(root)
        files += id_files
        commands += [c for c in id_commands if c not in commands]
        measures += ["audit", "file-integrity"]
    return GuestConfig(
        packages=tuple(sorted(packages)),
        files=tuple(files),
        commands=tuple(commands),
        measures=tuple(measures),
    )


def log_collector(
    *,
    retention_days: int,
    encrypted_volume: bool = True,
    clients_port: int = COLLECTOR_PORT,
    renewal_port: int = RENEWAL_PORT,
    root: str = "/",
    bind_address: str | None = None,
) -> GuestConfig:
    """The central log collector: TLS-only listener, per-client daily files, its own CA.

    The security group must open ``clients_port``/TCP to the client instances only. In
    production rsyslog listens on every address (``bind_address`` is for loopback tests).
    With ``encrypted_volume`` the listener runs only while the LUKS volume holding
    ``/var/log/remote`` is unlocked and mounted (``ssb-volumes.target``).
    """
    _check_int("retention_days", retention_days, 1, 36500)
    _check_int("clients_port", clients_port, 1, 65535)
    _check_int("renewal_port", renewal_port, 1, 65535)
    _check_root(root)
    if bind_address is not None:
        bind_address = str(ipaddress.ip_address(bind_address))  # ValueError if not an address
    files, commands = _local(root, retention_days)
    files += [
        (
            f"{root}{COLLECTOR_CONF}",
            _collector_conf(root=root, port=clients_port, bind_address=bind_address),
            "0644",
        ),
        _apparmor(root, collector=True),
        (f"{root}{PKI_SCRIPT}", _pki_script(), "0755"),
        (f"{root}{STORE_PROGRAM}", _store_program(), "0755"),
        (f"{root}{RATE_LIMIT_RULES}", rate_limit_rules(clients_port), "0644"),
        (f"{root}{UNIT_DIR}/ssb-log-rate-limit.service", _rate_limit_unit(root), "0644"),
        (f"{root}{UNIT_DIR}/ssb-log-collector.service",
         _collector_unit(root, encrypted_volume=encrypted_volume), "0644"),
        *_store_units(root, retention_days),
        *_pki_units_collector(root, renewal_port, bind_address),
    ]
    commands += [
        (f"{root}{PKI_SCRIPT}", "init", "--dir", f"{root}{TLS_DIR}"),
        ("systemctl", "daemon-reload"),
        ("systemctl", "enable", "--now", "ssb-log-renewal.service", "ssb-log-pki-refresh.timer"),
        ("systemctl", "enable", "--now", "ssb-log-rate-limit.service"),
        ("systemctl", "enable", "--now", "ssb-log-remote-retention.timer",
         "ssb-log-space.timer", "ssb-evidence.timer"),
        ("systemctl", "enable", "ssb-log-collector.service"),
        # Without waiting: it starts when the log volume is mounted (Tang may be down).
        ("systemctl", "start", "--no-block", "ssb-log-collector.service"),
    ]
    return GuestConfig(
        packages=("nftables", "openssl", "python3", "rsyslog", "rsyslog-gnutls"),
        files=tuple(files),
        commands=tuple(commands),
        measures=("local-logs", "log-collector-tls"),
    )
