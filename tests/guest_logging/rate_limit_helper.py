"""Run inside a network namespace of its own (`unshare --net`): a collector with the generated
per-client rate limit (nftables), one client flooding it from 127.0.0.2 and a real rsyslog client
from 127.0.0.1 logging one line meanwhile. Prints what happened as JSON.

A namespace of its own, so the nftables table never touches the test machine's network.
"""

from __future__ import annotations

import json
import re
import socket
import ssl
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from generator.features.logging.guest import (
    SERVER_NAME,
    TLS_DIR,
    log_collector,
    rate_limit_rules,
)
from tests.guest_logging.harness import (
    free_port,
    logger,
    remote_text,
    rsyslogd,
    run,
    wait_for,
    write_files,
)
from tests.guest_logging.test_logging_e2e import _client_main, _client_root

FLOOD = 600
PAYLOAD = 7000
NOISY, QUIET = "noisy.example", "quiet.example"


def main(work: Path, rate_bytes: int, burst_bytes: int) -> dict[str, object]:
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    port = free_port()
    root = work / "collector"
    root.mkdir()
    config = log_collector(retention_days=7, clients_port=port, root=f"{root}/",
                           bind_address="127.0.0.1")
    write_files(config)
    (init,) = [c for c in config.commands if len(c) > 1 and c[1] == "init"]
    assert run(init).returncode == 0
    (root / "var/lib/ssb-log-collector").mkdir(parents=True)
    pki, tls = root / "usr/local/sbin/ssb-log-pki", root / TLS_DIR
    for host in (NOISY, QUIET):
        issued = run([str(pki), "issue", host, "--dir", str(tls), "--address", "127.0.0.1"])
        assert issued.returncode == 0, issued.stderr
    rules = work / "rate-limit.nft"
    rules.write_text(rate_limit_rules(port, rate_bytes=rate_bytes, burst_bytes=burst_bytes))
    loaded = run(["nft", "-f", str(rules)])
    assert loaded.returncode == 0, loaded.stderr

    quiet = _client_root(work, "quiet", port)
    hosts = quiet / "hosts"
    hosts.write_text("")
    assert run([str(quiet / "usr/local/sbin/ssb-log-pki"), "install", str(tls / "issued" / QUIET),
                "--dir", str(quiet / TLS_DIR), "--hosts", str(hosts)]).returncode == 0
    sock = quiet / "log.sock"
    events: dict[str, float] = {}
    main_conf = root / "etc/safespring-blueprints/logging/collector.conf"
    with rsyslogd(main_conf, listen_port=port), rsyslogd(_client_main(quiet, sock, QUIET)):
        bundle = tls / "issued" / NOISY
        ctx = ssl.create_default_context(cafile=str(tls / "ca.pem"))
        ctx.load_cert_chain(bundle / "client.pem", bundle / "client.key")

        def flood() -> None:
            with socket.create_connection(("127.0.0.1", port), timeout=300,
                                          source_address=("127.0.0.2", 0)) as raw, \
                    ctx.wrap_socket(raw, server_hostname=SERVER_NAME) as conn:
                for i in range(FLOOD):
                    msg = (f"<13>1 2026-11-27T12:00:00Z {NOISY} flood - - - FLOOD-{i:04d}-END "
                           + "x" * PAYLOAD).encode()
                    conn.sendall(str(len(msg)).encode() + b" " + msg)
                    if i == 20:
                        events["flood_started"] = time.monotonic()
            events["flood_sent"] = time.monotonic()

        flooder = threading.Thread(target=flood, daemon=True)
        flooder.start()
        wait_for(lambda: "flood_started" in events, 60)
        logger(sock, "quiet", "QUIET-LINE")
        wait_for(lambda: "QUIET-LINE" in remote_text(root), 120, step=0.2)
        events["quiet_arrived"] = time.monotonic()
        flood_when_quiet = len(set(re.findall(r"FLOOD-(\d{4})-END", remote_text(root))))
        flooder.join(timeout=600)
        wait_for(lambda: len(set(re.findall(r"FLOOD-(\d{4})-END", remote_text(root)))) == FLOOD,
                 120, step=0.5)
        events["flood_arrived"] = time.monotonic()
    text = remote_text(root)
    table = run(["nft", "list", "table", "inet", "ssb_log_collector"]).stdout
    return {
        "flood_when_quiet_arrived": flood_when_quiet,
        "flood_seconds": events["flood_arrived"] - events["flood_started"],
        "quiet_seconds": events["quiet_arrived"] - events["flood_started"],
        "dropped_packets": sum(int(n) for n in re.findall(r"counter packets (\d+)", table)),
        "flood_lines": len(re.findall(r"FLOOD-(\d{4})-END", text)),
        "flood_distinct": len(set(re.findall(r"FLOOD-(\d{4})-END", text))),
        "sources": sorted(p.name for p in (root / "var/log/remote").iterdir()),
    }


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]))))
