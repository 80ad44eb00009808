"""What the blueprints give the instances at first boot: valid cloud-config, and the claims
in each instance's metadata match what its cloud-init actually sets up."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from generator import blueprint
from tests.conftest import ROOT

CLOUD_INIT = sorted((ROOT / "blueprints").glob("*/cloud-init/*.yaml"))


@pytest.mark.parametrize("path", CLOUD_INIT, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_cloud_init_schema_accepts_every_generated_file(path: Path) -> None:
    proc = subprocess.run(["cloud-init", "schema", "--config-file", str(path)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Valid cloud-config" in proc.stdout


def test_user_data_fits_novas_limit_as_terraform_sends_it(tmp_path: Path) -> None:
    """Terraform's own base64gzip() of every bundled group (what Nova receives) fits 65535
    bytes, and the generator's estimate, which refuses a spec before that, is never below it."""
    for path in CLOUD_INIT:
        assert f'base64gzip(file("${{path.module}}/cloud-init/{path.name}"))' in (
            path.parent.parent / "main.tf").read_text()
    expr = "jsonencode([" + ", ".join(f'length(base64gzip(file("{p}")))'
                                      for p in CLOUD_INIT) + "])\n"
    proc = subprocess.run(["terraform", "console"], input=expr, capture_output=True, text=True,
                          cwd=tmp_path, timeout=120, check=True)  # hang guard only
    sizes = json.loads(json.loads(proc.stdout))
    assert len(sizes) == len(CLOUD_INIT), proc.stdout
    for path, size in zip(CLOUD_INIT, sizes, strict=True):
        assert size <= blueprint.USER_DATA_LIMIT, (path, size)
        assert blueprint.user_data_estimate(path.read_bytes()) >= size, (path, size)


def _metadata_measures(main_tf: str) -> dict[str, set[str]]:
    """Instance group -> the measures its metadata claims (from main.tf)."""
    out = {}
    for block in re.finditer(
            r'module "(?:instances_([a-z0-9-]+)|(log_collector)|(egress_proxy))" \{(.*?)\n\}',
            main_tf, re.S):
        group = block.group(1) or ("log-collector" if block.group(2) else "egress-proxy")
        claimed = re.search(r'ssb_measures\s*=\s*"([^"]*)"', block.group(4))
        assert claimed, f"no ssb_measures for {group}"
        out[group] = set(claimed.group(1).split(","))
    return out


def _files(config: dict) -> dict[str, str]:
    return {f["path"]: f["content"] for f in config.get("write_files", [])}


@pytest.mark.parametrize("blueprint", ["patient-portal", "minimal"])
def test_claimed_measures_are_implemented_by_the_guest_configuration(blueprint: str) -> None:
    """A tag is only a claim: each claimed guest measure has its implementation in cloud-init
    (and tests/vm boots it)."""
    root = ROOT / "blueprints" / blueprint
    claims = _metadata_measures((root / "main.tf").read_text())
    assert claims
    for group, measures in claims.items():
        config = yaml.safe_load((root / "cloud-init" / f"{group}.yaml").read_text())
        files = _files(config)
        commands = [" ".join(c) for c in config.get("runcmd", [])]
        if "luks-tang" in measures:
            settings = json.loads(files["/etc/safespring-blueprints/luks-tang.json"])
            assert settings["tang_servers"] and settings["volumes"]
            assert "ssb-luks-tang" in files["/etc/systemd/system/ssb-volumes.service"]
            assert "systemctl enable ssb-volumes.service" in commands
        if "tls-endpoint" in measures:
            caddyfile = files["/etc/safespring-blueprints/proxy/Caddyfile"]
            assert "protocols tls1.2 tls1.3" in caddyfile or "protocols tls1.3" in caddyfile
            assert "Strict-Transport-Security" in caddyfile
        if "log-shipping-tls" in measures:
            forward = files["/etc/rsyslog.d/60-safespring-blueprints-forward.conf"]
            assert "6514" in forward and "gtls" in forward
        if "log-collector-tls" in measures:
            assert "gtls" in files["/etc/safespring-blueprints/logging/collector.conf"]
            assert "systemctl enable ssb-log-collector.service" in commands
        if "audit" in measures:
            assert "/etc/audit/rules.d/60-safespring-blueprints.rules" in files
        if "file-integrity" in measures:
            assert "/etc/safespring-blueprints/aide/aide.conf" in files
        if "backup-restic" in measures:
            backup = json.loads(files["/etc/safespring-blueprints/backup/config.json"])
            assert backup["endpoint"].startswith("https://s3.") and backup["bucket"]
        if "egress-proxy-client" in measures:
            assert "Proxy-Auto-Detect" in files["/etc/apt/apt.conf.d/90ssb-egress-proxy"]
            assert "systemctl enable --now ssb-egress-proxy.service" in commands
        if "egress-allow-list" in measures:
            squid = files["/etc/safespring-blueprints/egress/squid.conf"]
            assert "acl ssb_allowed dstdomain -n " in squid and "http_access deny all" in squid
        if "egress-log" in measures:
            assert "access_log syslog:" in files["/etc/safespring-blueprints/egress/squid.conf"]
        if "time-server" in measures:
            assert "allow 10.0.0.0/8" in files["/etc/chrony/conf.d/ssb-egress-serve.conf"]
        if "logins" in measures:
            assert "AuthorizedKeysFile /etc/ssh/authorized_keys.d/%u" in files[
                "/etc/ssh/sshd_config.d/60-safespring-blueprints-logins.conf"]
            assert config["users"][0] == "default"
            assert any(c.startswith("usermod --expiredate ") for c in commands)
        # and nothing is claimed that no capability produced
        known = {"anti-affinity", "central-storage", "security-group-explicit", "ssh-keys-only",
                 "luks-tang", "tls-endpoint", "local-logs", "log-shipping-tls",
                 "log-collector-tls", "audit", "file-integrity", "backup-restic",
                 "backup-cross-site", "backup-client-side-encryption", "backup-freshness-check",
                 "egress-proxy-client", "egress-allow-list", "egress-log", "time-server",
                 "logins"}
        assert measures <= known, measures - known


def test_backups_go_to_the_other_site() -> None:
    config = yaml.safe_load((ROOT / "blueprints/patient-portal/cloud-init/db.yaml").read_text())
    backup = json.loads(_files(config)["/etc/safespring-blueprints/backup/config.json"])
    assert backup["endpoint"] == "https://s3.sto1.safedc.net"  # data lives in sto2
    assert backup["paths"] == ["/srv/pgdata"]
