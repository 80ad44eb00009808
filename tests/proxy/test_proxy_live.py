"""The generated proxy configuration, run by the real Caddy from Debian on loopback.

One Caddy serves two ``provided``-certificate endpoints, one with ``min_tls: "1.2"`` and one
with ``"1.3"``, each to its own backend; the assertions are made with Python's ssl module
against 127.0.0.1 with SNI (curl --resolve style). Refusals are checked to come from the server
(a TLS alert it sent), with a client that itself allows TLS 1.0 and weak suites.
"""

from __future__ import annotations

import json
import ssl
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from generator.features.endpoints import ProxyConfig, ProxyEndpoint, proxy_config
from tests.proxy.proxy_harness import (
    Pki,
    Proxy,
    as_caddy_user,
    backend,
    caddy_env,
    client_context,
    exec_start,
    free_port,
    guest_root,
    handshake,
    https_get,
    make_pki,
    place_certificates,
    plaintext_exchange,
    raw_tls12_hello,
    run_first_boot,
    start_caddy,
    tcp_refused,
    write_files,
)

TLS12 = "portal.example.se"  # min_tls "1.2"
TLS13 = "api.example.se"  # min_tls "1.3"
DOWN = "down.example.se"  # its backend port has no listener
HSTS_MIN = 31536000
LOOPBACK_HEX = "0100007F"  # 127.0.0.1 as /proc/net/tcp writes it (tests bind loopback only)


@dataclass
class Live:
    config: ProxyConfig
    root: Path
    pki: Pki
    proxy: Proxy
    port: int
    backends: dict[str, int]
    timings: dict[str, float]


@pytest.fixture(scope="module")
def live() -> Iterator[Live]:
    pki = make_pki([TLS12, TLS13, DOWN])
    port = free_port()
    down_port = free_port()
    with backend("portal") as portal_port, backend("api") as api_port, guest_root() as root:
        config = proxy_config(
            [
                ProxyEndpoint("portal", TLS12, portal_port, "provided", "1.2"),
                ProxyEndpoint("api", TLS13, api_port, "provided", "1.3"),
                ProxyEndpoint("down", DOWN, down_port, "provided", "1.2"),
            ],
            None,
            https_port=port,
            root=f"{root}/",
            bind_address="127.0.0.1",
        )
        write_files(config)

        def place() -> None:
            for name, host in (("portal", TLS12), ("api", TLS13), ("down", DOWN)):
                place_certificates(root, name, *pki.leaves[host])

        results = run_first_boot(config, root, before_validate=place)
        for r in results:
            assert r.returncode == 0, f"{r.argv} failed:\n{r.output}"
        validate = next(r for r in results if "validate" in r.argv)
        assert "Valid configuration" in validate.output
        with start_caddy(config, root, port) as proxy:
            yield Live(
                config,
                root,
                pki,
                proxy,
                port,
                {TLS12: portal_port, TLS13: api_port},
                {"validate": validate.seconds, "start": proxy.start_seconds},
            )


def _alert(exc: pytest.ExceptionInfo[ssl.SSLError]) -> str:
    return str(exc.value.reason)


def test_first_boot_commands_and_timings(live: Live) -> None:
    print(
        f"\ncaddy validate {live.timings['validate']:.3f}s, "
        f"start to listening {live.timings['start']:.3f}s"
    )
    assert live.timings["start"] < 10


def test_only_the_tls_port_listens(live: Live) -> None:
    """No port 80, no redirect listener, no HTTP/3 (UDP), no admin TCP port."""
    assert live.proxy.sockets == {("tcp", LOOPBACK_HEX, live.port)}, live.proxy.sockets
    # The admin API is the Unix socket of the drop-in, in a 0700 directory.
    assert (live.root / "run/caddy/admin.sock").is_socket()


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1])
@pytest.mark.parametrize("host", [TLS12, TLS13])
def test_tls10_and_tls11_refused(live: Live, host: str, version: ssl.TLSVersion) -> None:
    ctx = client_context(live.pki.ca_pem, minimum=version, maximum=version)
    with pytest.raises(ssl.SSLError) as exc:
        handshake(live.port, host, ctx)
    assert _alert(exc) == "TLSV1_ALERT_PROTOCOL_VERSION", exc.value  # sent by the server


def test_tls12_accepted_when_min_tls_12(live: Live) -> None:
    ctx = client_context(live.pki.ca_pem, maximum=ssl.TLSVersion.TLSv1_2)
    version, cipher = handshake(live.port, TLS12, ctx)
    assert version == "TLSv1.2"
    assert cipher.startswith("ECDHE-") and ("GCM" in cipher or "CHACHA20" in cipher)


def test_tls12_refused_when_min_tls_13(live: Live) -> None:
    ctx = client_context(live.pki.ca_pem, maximum=ssl.TLSVersion.TLSv1_2)
    with pytest.raises(ssl.SSLError) as exc:
        handshake(live.port, TLS13, ctx)
    assert _alert(exc) == "TLSV1_ALERT_PROTOCOL_VERSION", exc.value


@pytest.mark.parametrize("host", [TLS12, TLS13])
def test_tls13_accepted(live: Live, host: str) -> None:
    ctx = client_context(live.pki.ca_pem, minimum=ssl.TLSVersion.TLSv1_3)
    assert handshake(live.port, host, ctx)[0] == "TLSv1.3"


@pytest.mark.parametrize(
    "suite",
    [
        "ECDHE-RSA-AES128-SHA",  # CBC with SHA-1
        "ECDHE-RSA-AES128-SHA256",  # CBC with SHA-256
        "AES256-SHA",  # static RSA key exchange, CBC, SHA-1
        "AES128-GCM-SHA256",  # static RSA key exchange: no forward secrecy
    ],
)
def test_weak_tls12_suites_refused(live: Live, suite: str) -> None:
    """The control is test_tls12_accepted_when_min_tls_12: same RSA certificate, same client,
    only the offered suite differs."""
    ctx = client_context(
        live.pki.ca_pem, maximum=ssl.TLSVersion.TLSv1_2, ciphers=f"{suite}:@SECLEVEL=0"
    )
    assert [c["name"] for c in ctx.get_ciphers() if not c["name"].startswith("TLS_")] == [suite]
    with pytest.raises(ssl.SSLError) as exc:
        handshake(live.port, TLS12, ctx)
    assert _alert(exc) == "SSLV3_ALERT_HANDSHAKE_FAILURE", exc.value


# IANA code points. OpenSSL 3 cannot offer RC4 or 3DES any more, so these go in a hand-made
# ClientHello; the control shows the same hello with a good suite gets a ServerHello.
RC4_SHA = 0x0005  # TLS_RSA_WITH_RC4_128_SHA
DES3_SHA = 0x000A  # TLS_RSA_WITH_3DES_EDE_CBC_SHA
ECDHE_RSA_RC4 = 0xC011  # TLS_ECDHE_RSA_WITH_RC4_128_SHA
ECDHE_RSA_3DES = 0xC012  # TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA
ECDHE_RSA_AES128_GCM = 0xC02F


@pytest.mark.parametrize(
    "suites", [[RC4_SHA, ECDHE_RSA_RC4], [DES3_SHA, ECDHE_RSA_3DES]], ids=["RC4", "3DES"]
)
def test_rc4_and_3des_refused(live: Live, suites: list[int]) -> None:
    kind, body = raw_tls12_hello(live.port, TLS12, suites)
    assert kind == 21, (kind, body)  # an alert ...
    assert body[:2] == bytes([2, 40]), body  # ... fatal handshake_failure


def test_raw_hello_control_good_suite_gets_server_hello(live: Live) -> None:
    kind, body = raw_tls12_hello(live.port, TLS12, [ECDHE_RSA_AES128_GCM])
    assert kind == 22 and body[0] == 2, (kind, body)  # handshake record, ServerHello


@pytest.mark.parametrize("sni", [None, "unknown.example.se"])
def test_no_certificate_for_unknown_or_missing_sni(live: Live, sni: str | None) -> None:
    ctx = client_context(None)
    with pytest.raises(ssl.SSLError) as exc:
        handshake(live.port, sni, ctx)
    assert _alert(exc) == "TLSV1_ALERT_INTERNAL_ERROR", exc.value


@pytest.mark.parametrize("host", [TLS12, TLS13])
def test_routes_by_hostname_with_hsts_and_no_server_header(live: Live, host: str) -> None:
    ctx = client_context(live.pki.ca_pem)
    resp = https_get(live.port, host, ctx, path="/hello?x=1")
    assert resp.status == 200
    seen = resp.json()
    assert seen["backend"] == host.split(".")[0]
    assert seen["host"] == host
    assert seen["path"] == "/hello?x=1"
    (hsts,) = resp.header("Strict-Transport-Security")
    directives = [d.strip().lower() for d in hsts.split(";")]
    max_age = int(next(d for d in directives if d.startswith("max-age="))[8:])
    assert max_age >= HSTS_MIN
    assert "includesubdomains" in directives
    assert resp.header("Server") == [], resp.headers  # the backend sends one; it is removed
    assert resp.header("Via") == []


def test_proxy_errors_carry_hsts_and_no_server_header(live: Live) -> None:
    """A backend that is down: the 502 comes from the proxy itself."""
    resp = https_get(live.port, DOWN, client_context(live.pki.ca_pem))
    assert resp.status == 502
    assert resp.header("Server") == [], resp.headers
    assert int(resp.header("Strict-Transport-Security")[0].split("=")[1].split(";")[0]) >= HSTS_MIN


def test_host_not_matching_sni_is_refused(live: Live) -> None:
    """strict_sni_host: a request for one endpoint on another's connection is never routed."""
    resp = https_get(live.port, TLS12, client_context(live.pki.ca_pem), host=TLS13)
    assert resp.status == 421
    assert b"backend" not in resp.body
    # Caddy writes this response before any route runs; it may say "Caddy", never a version.
    assert all("/" not in v and not any(c.isdigit() for c in v) for v in resp.header("Server"))


def test_client_cannot_spoof_forwarded_for(live: Live) -> None:
    ctx = client_context(live.pki.ca_pem)
    resp = https_get(live.port, TLS12, ctx, headers=[("X-Forwarded-For", "203.0.113.9")])
    assert resp.json()["x_forwarded_for"] == ["127.0.0.1"]


def test_plain_http_on_tls_port_not_served(live: Live) -> None:
    answer = plaintext_exchange(
        live.port, f"GET / HTTP/1.1\r\nHost: {TLS12}\r\nConnection: close\r\n\r\n".encode()
    )
    assert b'"backend"' not in answer
    assert answer == b"" or answer.startswith(b"HTTP/1.0 400 "), answer[:200]


def test_access_log_is_json_on_stderr_with_credentials_redacted(live: Live) -> None:
    ctx = client_context(live.pki.ca_pem)
    https_get(
        live.port,
        TLS13,
        ctx,
        path="/logged",
        headers=[("Authorization", "Bearer secret-token-1"), ("Cookie", "session=secret-cookie-2")],
    )
    deadline = time.monotonic() + 5
    while True:
        entries = [
            json.loads(line) for line in live.proxy.log().splitlines() if line.startswith("{")
        ]
        access = [
            e
            for e in entries
            if e.get("logger", "").startswith("http.log.access")
            and e.get("request", {}).get("uri") == "/logged"
        ]
        if access or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert access, live.proxy.log()[-2000:]
    req = access[0]["request"]
    assert req["host"] == TLS13 and access[0]["status"] == 200
    # Caddy 2.6 logs redacted credentials as an empty list (later versions as "REDACTED").
    assert req["headers"]["Authorization"] in ([], ["REDACTED"]), json.dumps(access[0])
    assert req["headers"]["Cookie"] in ([], ["REDACTED"]), json.dumps(access[0])
    assert "secret-token-1" not in live.proxy.log()
    assert "secret-cookie-2" not in live.proxy.log()


def test_reload_through_admin_socket(live: Live) -> None:
    """The drop-in's ExecReload works, over the Unix socket (there is no admin TCP port)."""
    dropin = next(c for p, c, _ in live.config.files if p.endswith(".conf"))
    line = next(x for x in dropin.splitlines() if x.startswith("ExecReload=/"))
    argv = line.split("=", 1)[1].split()
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
    assert proc.returncode == 0, proc.stderr
    ctx = client_context(live.pki.ca_pem)
    assert https_get(live.port, TLS12, ctx).status == 200


# --- fail closed ----------------------------------------------------------------------------


@pytest.mark.parametrize("problem", ["missing", "unreadable by caddy"])
def test_provided_certificate_problem_fails_closed(problem: str) -> None:
    pki = make_pki([TLS12])
    port = free_port()
    with guest_root() as root:
        config = proxy_config(
            [ProxyEndpoint("portal", TLS12, 18080, "provided", "1.2")],
            None,
            https_port=port,
            root=f"{root}/",
            bind_address="127.0.0.1",
        )
        write_files(config)

        def place() -> None:
            if problem != "missing":
                place_certificates(root, "portal", *pki.leaves[TLS12], key_mode=0o600)

        results = run_first_boot(config, root, before_validate=place)
        validate = next(r for r in results if "validate" in r.argv)
        assert validate.returncode != 0
        assert "portal.key" in validate.output or "portal.crt" in validate.output, validate.output
        # The service itself refuses to start: nothing listens, nothing is served.
        proc = subprocess.run(
            [*as_caddy_user(), *exec_start(config)],
            capture_output=True,
            text=True,
            env=caddy_env(root),
            timeout=20,
            check=False,
        )
        assert proc.returncode != 0
        assert tcp_refused(port)


# --- ACME: configuration loads, only 443 listens, no certificate means no TLS --------------


def test_acme_endpoint_listens_only_on_tls_port_and_fails_closed_without_certificate() -> None:
    port = free_port()
    dead_ca = free_port()  # nothing listens here: the ACME order cannot succeed
    with guest_root() as root:
        config = proxy_config(
            [ProxyEndpoint("portal", TLS12, 18080, "acme", "1.3")],
            "ops@example.se",
            https_port=port,
            root=f"{root}/",
            bind_address="127.0.0.1",
            acme_directory=f"https://127.0.0.1:{dead_ca}/directory",
        )
        write_files(config)
        results = run_first_boot(config, root)
        assert all(r.returncode == 0 for r in results), [r.output for r in results]
        with start_caddy(config, root, port) as proxy:
            assert proxy.sockets == {("tcp", LOOPBACK_HEX, port)}, proxy.sockets
            with pytest.raises(ssl.SSLError) as exc:
                handshake(port, TLS12, client_context(None))
            assert _alert(exc) == "TLSV1_ALERT_INTERNAL_ERROR"
            assert plaintext_exchange(port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")[:13] in (
                b"",
                b"HTTP/1.0 400 ",
            )
