"""A real Tang server on loopback and the real clevis client: the network-bound key the LUKS
volumes depend on. If Tang is unreachable the key cannot be recovered."""

from __future__ import annotations

import json
import subprocess
import time

from guest_harness import TangServer, require

SECRET = b"personal data key material stand-in"


def encrypt(pin: str, config: dict) -> bytes:
    proc = subprocess.run(
        [require("clevis"), "encrypt", pin, json.dumps(config), "-y"],
        input=SECRET,
        capture_output=True,
        check=True,
        timeout=60,
    )
    assert proc.stdout.count(b".") == 4, "clevis encrypt should emit a compact JWE"
    return proc.stdout


def decrypt(jwe: bytes) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [require("clevis"), "decrypt"], input=jwe, capture_output=True, check=False, timeout=60
    )


def test_tang_round_trip_and_no_decrypt_while_tang_is_down(tang: TangServer) -> None:
    started = time.monotonic()
    jwe = encrypt("tang", {"url": tang.url})
    assert SECRET not in jwe
    assert decrypt(jwe).stdout == SECRET
    assert tang.requests >= 2  # advertisement + recovery both went to our server
    print(f"tang encrypt+decrypt: {time.monotonic() - started:.2f} s")

    tang.stop()
    down = decrypt(jwe)
    assert down.returncode != 0
    assert down.stdout == b""

    tang.start()  # same port, same keys: the key is recoverable again
    assert decrypt(jwe).stdout == SECRET


def test_sss_threshold_over_two_tang_servers(tang: TangServer, tang2: TangServer) -> None:
    both = {"t": 2, "pins": {"tang": [{"url": tang.url}, {"url": tang2.url}]}}
    either = {"t": 1, "pins": {"tang": [{"url": tang.url}, {"url": tang2.url}]}}
    jwe_both = encrypt("sss", both)
    jwe_either = encrypt("sss", either)

    tang2.stop()
    assert decrypt(jwe_either).stdout == SECRET, "t=1: one reachable server is enough"
    assert decrypt(jwe_both).returncode != 0, "t=2: one server down must block decryption"

    tang.stop()
    assert decrypt(jwe_either).returncode != 0, "no server reachable: nothing decrypts"


def test_tang_pin_with_thumbprint_refuses_a_different_server(
    tang: TangServer, tang2: TangServer
) -> None:
    """A pinned thumbprint (the optional 'thp' in the config) stops trust-on-first-use: a Tang
    server with other keys at the configured URL is refused at bind time."""
    signing = [
        path
        for path in sorted(tang.keydir.glob("*.jwk"))
        if "verify" in json.loads(path.read_text()).get("key_ops", [])
    ]
    assert len(signing) == 1
    thp = subprocess.run(
        [require("jose"), "jwk", "thp", "-i", str(signing[0])],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    ok = subprocess.run(
        ["clevis", "encrypt", "tang", json.dumps({"url": tang.url, "thp": thp})],
        input=SECRET,
        capture_output=True,
        check=False,
        timeout=60,
    )
    wrong = subprocess.run(
        ["clevis", "encrypt", "tang", json.dumps({"url": tang2.url, "thp": thp})],
        input=SECRET,
        capture_output=True,
        check=False,
        timeout=60,
    )
    assert ok.returncode == 0, ok.stderr.decode()
    assert wrong.returncode != 0
