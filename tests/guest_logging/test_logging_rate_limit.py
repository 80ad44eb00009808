"""The per-client rate limit on the collector's port delays a flooding client and loses none of
its lines, while another client's line gets through (real rsyslogd, real nftables, in a network
namespace of its own: see rate_limit_helper.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from generator.features.logging.guest import log_collector, rate_limit_rules
from tests.guest_logging.harness import file_content, need

HELPER = Path(__file__).with_name("rate_limit_helper.py")


def test_one_client_is_slowed_down_not_dropped_and_the_others_get_through(tmp_path: Path
                                                                          ) -> None:
    for tool in ("unshare", "nft", "ip", "rsyslogd", "openssl"):
        need(tool)
    # 256 KiB/s per client: the flood (600 x 7 KB, about 4 MB) takes a quarter of a minute.
    proc = subprocess.run([need("unshare"), "--net", sys.executable, str(HELPER), str(tmp_path),
                           str(256 * 1024), str(256 * 1024)],
                          capture_output=True, text=True, timeout=900)  # hang guard only
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    print(f"\nrate limit: the flood arrived in {result['flood_seconds']:.1f} s, the other "
          f"client's line after {result['quiet_seconds']:.1f} s")
    assert result["dropped_packets"] > 0, result  # the limit slowed the flooding client down
    # ... and not the other: its line was in while most of the flood was still on its way.
    assert result["flood_when_quiet_arrived"] < 600 // 2, result
    assert result["flood_distinct"] == result["flood_lines"] == 600, result  # none lost
    assert result["sources"] == ["127.0.0.1", "127.0.0.2"]


def test_the_generated_rules_are_the_ones_tested() -> None:
    config = log_collector(retention_days=7)
    assert file_content(config, "logging/rate-limit.nft") == rate_limit_rules()
    unit = file_content(config, "ssb-log-rate-limit.service")
    assert "ExecStart=/usr/sbin/nft -f /etc/safespring-blueprints/logging/rate-limit.nft" in unit
    assert "limit rate over 1048576 bytes/second" in rate_limit_rules()
    check = subprocess.run([need("nft"), "-c", "-f", "-"], input=rate_limit_rules(),
                           capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stderr
