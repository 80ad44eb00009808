"""The builder's contract: strict inputs, deterministic output, the promised files and measures."""

from __future__ import annotations

import re

import pytest

from generator.features.logging.guest import (
    COLLECTOR_PORT,
    GNUTLS_PRIORITY,
    SERVER_NAME,
    check_collector,
    log_client,
    log_collector,
)
from tests.guest_logging.harness import file_content


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("logs.example.se", "logs.example.se"),
        ("log-collector", "log-collector"),
        ("10.0.0.5", "10.0.0.5"),
        ("2001:db8::10", "2001:db8::10"),
        ("2001:DB8:0:0::10", "2001:db8::10"),
    ],
)
def test_collector_accepts_names_and_addresses(value: str, expected: str) -> None:
    assert check_collector(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "",
        "Logs.example.se",
        "logs.example.se.",
        "-logs.example",
        "logs_1.example",
        "10.0.0",
        "10.0.0.256",
        "fe80::1%eth0",
        "[2001:db8::1]",
        "logs.example.se:6514",
        'x" port="514',
        "a\nb",
        "a" * 64 + ".example",
        ".".join(["a" * 60] * 5),
        "example.123",
        "https://logs.example.se",
    ],
)
def test_collector_rejects_anything_else(value: str) -> None:
    with pytest.raises(ValueError):
        check_collector(value)
    with pytest.raises(ValueError):
        log_client(value, retention_days=30, intrusion_detection=False)


@pytest.mark.parametrize("bad", [0, -1, 36501, True, "30", 1.5, None])
def test_retention_is_bounded(bad: object) -> None:
    with pytest.raises(ValueError):
        log_client(None, retention_days=bad, intrusion_detection=False)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        log_collector(retention_days=bad)  # type: ignore[arg-type]


def test_other_arguments_are_checked() -> None:
    with pytest.raises(ValueError):
        log_client(None, retention_days=30, intrusion_detection="yes")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        log_client("logs.example.se", retention_days=30, intrusion_detection=False,
                   collector_port=0)
    with pytest.raises(ValueError):
        log_collector(retention_days=30, clients_port=70000)
    with pytest.raises(ValueError):
        log_collector(retention_days=30, root="relative/")
    with pytest.raises(ValueError):
        log_collector(retention_days=30, bind_address="localhost")


def test_deterministic() -> None:
    a = log_client("logs.example.se", retention_days=180, intrusion_detection=True)
    b = log_client("logs.example.se", retention_days=180, intrusion_detection=True)
    assert a == b
    assert log_collector(retention_days=180) == log_collector(retention_days=180)


def test_local_only_client() -> None:
    c = log_client(None, retention_days=30, intrusion_detection=False)
    assert c.measures == ("local-logs",)
    assert c.packages == ("rsyslog",)
    paths = {p for p, _, _ in c.files}
    assert "/etc/systemd/journald.conf.d/60-safespring-blueprints.conf" in paths
    assert not any("rsyslog.d" in p for p in paths)  # nothing is shipped anywhere
    journald = file_content(c, "journald.conf.d/60-safespring-blueprints.conf")
    assert "Storage=persistent" in journald
    assert "MaxRetentionSec=30d" in journald
    assert "ForwardToSyslog=yes" in journald
    service = file_content(c, "ssb-log-retention.service")
    assert f"-mmin +{30 * 1440}" in service


def test_shipping_client() -> None:
    c = log_client("10.0.0.5", retention_days=180, intrusion_detection=False)
    assert c.measures == ("local-logs", "log-shipping-tls")
    assert set(c.packages) == {"rsyslog", "rsyslog-gnutls", "openssl", "curl"}
    conf = file_content(c, "rsyslog.d/60-safespring-blueprints-forward.conf")
    for needle in (
        'target="10.0.0.5"',
        f'port="{COLLECTOR_PORT}"',
        'StreamDriver="gtls"',
        'StreamDriverMode="1"',
        'StreamDriverAuthMode="x509/name"',
        f'StreamDriverPermittedPeers="{SERVER_NAME}"',
        'TCP_Framing="octet-counted"',
        'queue.type="LinkedList"',
        'queue.filename="ssb-collector"',
        'queue.saveOnShutdown="on"',
        'action.resumeRetryCount="-1"',
        'StreamDriver.KeyFile="/etc/safespring-blueprints/logging/client.key"',
    ):
        assert needle in conf
    assert "anon" not in conf
    assert ("/usr/local/sbin/ssb-log-pki", "init", "--dir",
            "/etc/safespring-blueprints/logging") not in c.commands
    assert ("systemctl", "restart", "rsyslog.service") in c.commands


def test_intrusion_detection() -> None:
    c = log_client(None, retention_days=30, intrusion_detection=True)
    assert c.measures == ("local-logs", "audit", "file-integrity")
    assert {"auditd", "aide"} <= set(c.packages)
    rules = file_content(c, "audit/rules.d/60-safespring-blueprints.rules")
    lines = [ln for ln in rules.splitlines() if ln.strip() and not ln.startswith("#")]
    assert lines[-1] == "-e 2"
    assert sum(ln.startswith("-e") for ln in lines) == 1
    for key in ("identity", "sudoers", "sshd", "privileged", "modules", "time-change",
                "audit-log", "audit-config"):
        assert f"-k {key}" in rules
    plugin = file_content(c, "audit/plugins.d/ssb-syslog.conf")
    assert "active = yes" in plugin
    assert "-e 2" not in file_content(c, "ssb-aide-check.service")
    # commands run once, each at most once
    assert len(set(c.commands)) == len(c.commands)


def test_client_local_files_merge_with_the_collector() -> None:
    """cloudinit.merge refuses a path written twice with different content."""
    client = {p: (t, m) for p, t, m in log_client(None, retention_days=90,
                                                   intrusion_detection=True).files}
    collector = {p: (t, m) for p, t, m in log_collector(retention_days=90).files}
    shipping = {p: (t, m) for p, t, m in log_client("logs.example.se", retention_days=90,
                                                     intrusion_detection=False).files}
    for other in (client, shipping):
        for path in set(other) & set(collector):
            if other is shipping and path.endswith("rsyslog.d/safespring-blueprints-logging"):
                continue  # the collector's snippet grants more; a collector never ships
            assert other[path] == collector[path], path


def test_collector() -> None:
    c = log_collector(retention_days=180)
    assert c.measures == ("local-logs", "log-collector-tls")
    conf = file_content(c, "safespring-blueprints/logging/collector.conf")
    # Files by the peer's address (the record's first field), never by the name a client
    # reports; written by the store, which confirms each record only once it is written.
    record = conf.split('template(name="ssb-remote-record" type="list") {', 1)[1]
    assert record.lstrip().startswith('property(name="fromhost-ip")')
    assert 'type="omprog"' in conf and 'confirmMessages="on"' in conf
    assert 'action.resumeRetryCount="-1"' in conf and 'queue.timeoutEnqueue="2147483647"' in conf
    assert 'type="omfile"' not in conf
    unit = file_content(c, "ssb-log-collector.service")
    assert "Requires=ssb-volumes.target" in unit and "WantedBy=ssb-volumes.target" in unit
    assert "-f /etc/safespring-blueprints/logging/collector.conf" in unit
    plain = file_content(log_collector(retention_days=180, encrypted_volume=False),
                         "ssb-log-collector.service")
    assert "ssb-volumes" not in plain and "WantedBy=multi-user.target" in plain
    assert ("systemctl", "restart", "rsyslog.service") not in c.commands
    assert 'streamDriver.mode="1"' in conf
    assert 'streamDriver.authMode="x509/certvalid"' in conf
    assert 'streamDriver.CheckExtendedKeyPurpose="on"' in conf
    assert f'gnutlsPriorityString="{GNUTLS_PRIORITY}"' in conf
    assert f'port="{COLLECTOR_PORT}"' in conf
    assert "address=" not in conf  # every address; the security group decides who connects
    assert "imudp" not in conf and "514\"" not in conf.replace(f'"{COLLECTOR_PORT}"', "")
    assert ("/usr/local/sbin/ssb-log-pki", "init", "--dir",
            "/etc/safespring-blueprints/logging") in c.commands
    remote = file_content(c, "ssb-log-remote-retention.service")
    assert "retention --root /var/log/remote --days 180 --max-percent 90" in remote
    assert "nftables" in c.packages
    assert "check --root /var/log/remote --alert-percent 80" in file_content(
        c, "ssb-log-space.service")


def test_pki_script_reserves_the_server_name() -> None:
    script = file_content(log_collector(retention_days=1), "usr/local/sbin/ssb-log-pki")
    assert re.search(rf"^SERVER_NAME={re.escape(SERVER_NAME)}$", script, re.M)
    assert script.startswith("#!/bin/sh\n")


def test_apparmor_snippet_never_allows_the_ca_key() -> None:
    snippet = file_content(log_collector(retention_days=1), "apparmor.d/rsyslog.d/"
                           "safespring-blueprints-logging")
    assert "private" not in snippet.split("\n", 2)[2]
    assert "/etc/safespring-blueprints/logging/*.key r," in snippet
