"""proxy_config() without starting anything: input re-validation (nothing but plain tokens
reaches the Caddyfile), determinism, and the production output read back by the real
``caddy adapt`` and ``systemd-analyze verify``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from generator.features.endpoints import (
    HSTS,
    TLS12_CIPHERS,
    ProxyConfig,
    ProxyEndpoint,
    proxy_config,
    tls_paths,
)

PORTAL = ProxyEndpoint("portal", "portal.example.se", 8080, "acme", "1.2")
API = ProxyEndpoint("api", "api.example.se", 8081, "provided", "1.3")


def _ep(**changes: object) -> ProxyEndpoint:
    fields = {
        "name": "portal",
        "hostname": "portal.example.se",
        "backend_port": 8080,
        "certificate": "provided",
        "min_tls": "1.2",
        **changes,
    }
    return ProxyEndpoint(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "hostname",
    [
        "a.se { }",
        "a.se {",
        "a.se}",
        "a.se\n",
        "a.se\nrespond 200",
        "a.se\r",
        "a.se;",
        "a.se;rm -rf /",
        "a.se #",
        "a.se:443",
        "a.se/x",
        "a.se\t",
        " a.se",
        'a.se"',
        "a.se\x00",
        "*.example.se",
        "Portal.example.se",
        "localhost",
        "1.2.3.4",
        "a..se",
        "-a.se",
        "a-.se",
        "a.se.",
        "ex\u00e4mple.se",
        "",
        "a" * 64 + ".se",
        ".".join(["a" * 63] * 4) + ".se",  # 257 characters
        None,
        42,
    ],
)
def test_hostname_that_is_not_a_plain_dns_name_is_rejected(hostname: object) -> None:
    with pytest.raises(ValueError, match="hostname"):
        proxy_config([_ep(hostname=hostname)], None)


@pytest.mark.parametrize(
    "hostname",
    [
        "a.se",
        "portal.example.se",
        "x-1.a-b.example.se",
        "a1.b2.se",
        ".".join(["a" * 63] * 3) + ".se",
    ],
)
def test_plain_dns_names_are_accepted(hostname: str) -> None:
    config = proxy_config([_ep(hostname=hostname)], None)
    assert f"\n{hostname}:443 {{\n" in config.files[0][1]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "Portal"),
        ("name", "p"),
        ("name", "portal-"),
        ("name", "a" * 41),
        ("name", "por tal"),
        ("name", "portal\n"),
        ("name", "1portal"),
        ("backend_port", 0),
        ("backend_port", 65536),
        ("backend_port", 80),
        ("backend_port", 443),
        ("backend_port", True),
        ("backend_port", "8080"),
        ("backend_port", 8080.0),
        ("certificate", "self-signed"),
        ("certificate", "ACME"),
        ("min_tls", "1.1"),
        ("min_tls", "1.0"),
        ("min_tls", 1.2),
        ("min_tls", "1.2\n"),
    ],
)
def test_invalid_fields_are_rejected(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=field.split("_")[0]):
        proxy_config([_ep(**{field: value})], None)


@pytest.mark.parametrize(
    "email", ["a@b.se\n}", "a@b.se {", "a b@c.se", "a@b", "@b.se", "a@b.se;x", "a@B.se\n"]
)
def test_acme_email_injection_is_rejected(email: str) -> None:
    with pytest.raises(ValueError, match="acme_email"):
        proxy_config([PORTAL], email)


def test_backend_port_may_not_be_the_proxy_port() -> None:
    with pytest.raises(ValueError, match="backend_port"):
        proxy_config([_ep(backend_port=8443)], None, https_port=8443)


@pytest.mark.parametrize("root", ["", "relative/", "/no-trailing-slash", "/a b/", "/a\n/"])
def test_test_root_must_be_a_plain_absolute_directory(root: str) -> None:
    with pytest.raises(ValueError, match="root"):
        proxy_config([PORTAL], None, root=root)


def test_duplicates_are_rejected() -> None:
    with pytest.raises(ValueError, match="duplicate endpoint name"):
        proxy_config([PORTAL, _ep(hostname="other.example.se")], None)
    with pytest.raises(ValueError, match="duplicate endpoint hostname"):
        proxy_config([PORTAL, _ep(name="other")], None)


def test_no_endpoints_means_nothing_to_install_or_open() -> None:
    assert proxy_config([], "ops@example.se") == ProxyConfig((), (), (), ())


def test_deterministic_and_order_preserving() -> None:
    a = proxy_config([PORTAL, API], "ops@example.se")
    assert a == proxy_config([PORTAL, API], "ops@example.se")
    text = a.files[0][1]
    assert text.index("portal.example.se:443") < text.index("api.example.se:443")


def test_production_shape() -> None:
    config = proxy_config([PORTAL, API], "ops@example.se")
    assert config.packages == ("caddy",)
    assert config.world_tcp_ports == (443,)
    paths = [p for p, _, _ in config.files]
    assert paths == [
        "/etc/safespring-blueprints/proxy/Caddyfile",
        "/etc/systemd/system/caddy.service.d/safespring-blueprints.conf",
        "/etc/safespring-blueprints/proxy/endpoints.json",  # what ssb-verify checks
    ]
    assert json.loads(config.files[2][1]) == {"port": 443, "endpoints": [
        {"name": "api", "hostname": "api.example.se", "certificate": "provided"},
        {"name": "portal", "hostname": "portal.example.se", "certificate": "acme"}]}
    assert all(mode == "0644" for _, _, mode in config.files)
    for _, content, _ in config.files:
        assert "BEGIN" not in content and "PRIVATE" not in content  # no key material, ever
    caddyfile = config.files[0][1]
    crt, key = tls_paths("api")
    assert (crt, key) == (
        "/etc/safespring-blueprints/tls/api.crt",
        "/etc/safespring-blueprints/tls/api.key",
    )
    assert f"tls {crt} {key} {{" in caddyfile
    assert "email ops@example.se" in caddyfile


def test_acme_email_left_out_when_no_endpoint_uses_acme() -> None:
    assert "ops@example.se" not in proxy_config([API], "ops@example.se").files[0][1]


def test_first_boot_commands_fail_closed_in_order() -> None:
    cmds = proxy_config([PORTAL, API], None).commands
    assert cmds[0] == ("systemctl", "daemon-reload")
    assert (
        "install",
        "-d",
        "-m",
        "0750",
        "-o",
        "root",
        "-g",
        "caddy",
        "/etc/safespring-blueprints/tls",
    ) in cmds
    stop = cmds.index(("systemctl", "stop", "caddy.service"))
    validate = next(i for i, c in enumerate(cmds) if "validate" in c)
    start = cmds.index(("systemctl", "start", "caddy.service"))
    assert stop < validate < start == len(cmds) - 1
    assert cmds[validate][:4] == ("runuser", "-u", "caddy", "--")
    assert not any(c[0] == "install" for c in proxy_config([PORTAL], None).commands)


def _tool(name: str) -> str:
    path = shutil.which(name)
    assert path, f"{name} is not installed (apt-get install {name.replace('-analyze', '')})"
    return path


def test_caddy_reads_production_config_as_intended(tmp_path: Path) -> None:
    """`caddy adapt` (the real parser) on the production output: one TLS listener on :443,
    no redirects, no HTTP/3, admin on a Unix socket, the TLS policy of each endpoint."""
    config = proxy_config([PORTAL, API], "ops@example.se")
    src = tmp_path / "Caddyfile"
    src.write_text(config.files[0][1])
    proc = subprocess.run(
        [_tool("caddy"), "adapt", "--config", str(src), "--adapter", "caddyfile"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        env={**os.environ, "HOME": str(tmp_path)},
    )
    assert proc.returncode == 0, proc.stderr
    assert "warn" not in proc.stderr.replace("automatic HTTP->HTTPS redirects are disabled", "")
    cfg = json.loads(proc.stdout)
    assert cfg["admin"] == {"listen": "unix//run/caddy/admin.sock"}
    servers = cfg["apps"]["http"]["servers"]
    assert list(servers) == ["srv0"]
    srv = servers["srv0"]
    assert srv["listen"] == [":443"]
    assert srv["automatic_https"] == {"disable_redirects": True}
    assert srv["protocols"] == ["h1", "h2"]
    assert srv["strict_sni_host"] is True
    policies = {p["match"]["sni"][0]: p for p in srv["tls_connection_policies"] if p}
    assert policies["portal.example.se"]["protocol_min"] == "tls1.2"
    assert policies["portal.example.se"]["cipher_suites"] == list(TLS12_CIPHERS)
    assert policies["api.example.se"]["protocol_min"] == "tls1.3"
    # The catch-all policy Caddy adds has no certificate to offer: see the live SNI tests.
    issuers = cfg["apps"]["tls"]["automation"]["policies"][0]["issuers"]
    assert issuers == [
        {
            "ca": "https://acme-v02.api.letsencrypt.org/directory",
            "challenges": {"http": {"disabled": True}},
            "email": "ops@example.se",
            "module": "acme",
        }
    ]
    assert HSTS in proc.stdout
    for route in srv["routes"]:
        upstreams = json.dumps(route)
        assert '"dial": "127.0.0.1:808' in upstreams


def test_systemd_accepts_the_drop_in(tmp_path: Path) -> None:
    """`systemd-analyze verify` on the Debian unit plus our drop-in: no unknown keys."""
    unit = Path("/lib/systemd/system/caddy.service")
    assert unit.is_file(), "the caddy package is not installed"
    shutil.copy(unit, tmp_path / "caddy.service")
    dropin_path, dropin, _ = proxy_config([PORTAL], None).files[1]
    d = tmp_path / "caddy.service.d"
    d.mkdir()
    (d / Path(dropin_path).name).write_text(dropin)
    proc = subprocess.run(
        [_tool("systemd-analyze"), "verify", str(tmp_path / "caddy.service")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "SYSTEMD_UNIT_PATH": f"{tmp_path}:"},
    )
    assert proc.returncode == 0, proc.stderr
    assert "safespring-blueprints.conf" not in proc.stderr, proc.stderr
    assert "Unknown" not in proc.stderr, proc.stderr
