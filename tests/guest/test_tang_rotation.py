"""ssb-verify's luks-tang check against a real Tang whose keys rotate, on a real LUKS volume.

Real: Tang (tangd, tangd-keygen), clevis (luks bind, list, report, regen), cryptsetup, the guest
script that formats the volume. Stand-in: the dm-crypt mapping (fake_dm_clevis.py), which the
check only looks for. The same check runs booted in tests/vm/test_app_group.py.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from guest_harness import Guest, TangServer

from ssb_guest import verify


def _check(guest: Guest, monkeypatch: pytest.MonkeyPatch) -> verify.Result:
    for name in ("SSB_LUKS_CONFIG", "SSB_BY_ID_DIR", "SSB_MAPPER_DIR"):
        monkeypatch.setenv(name, guest.env()[name])
    return verify.check_luks_tang({"meta": {"ssb_volume_data": guest.volume.id}})


def test_a_rotated_tang_key_fails_until_the_volume_is_rebound(
        guest_factory, tang: TangServer, monkeypatch: pytest.MonkeyPatch) -> None:
    guest: Guest = guest_factory([tang.url])
    first = guest.run()
    assert first.returncode == 0, first.stdout + first.stderr

    bound = _check(guest, monkeypatch)
    assert (bound.result, bound.detail) == ("ok", "data: open, bound to a key Tang advertises")

    tang.rotate_keys()
    rotated = _check(guest, monkeypatch)
    assert rotated.result == "fail", rotated.detail
    assert "slot 1 is bound to a Tang key the server no longer advertises" in rotated.detail
    assert "clevis luks regen" in rotated.detail

    # Tang unreachable: whether the key is advertised cannot be known, and the check says so.
    tang.stop()
    down = _check(guest, monkeypatch)
    assert down.result == "unknown", down.detail
    assert "is Tang reachable?" in down.detail
    tang.start()

    # The remedy the detail names: rebind to the advertised key while the old one still works.
    device = str(Path(guest.volume.device).resolve())
    subprocess.run(["clevis", "luks", "regen", "-q", "-d", device, "-s", "1"], check=True,
                   capture_output=True, timeout=120)
    again = _check(guest, monkeypatch)
    assert (again.result, again.detail) == ("ok", "data: open, bound to a key Tang advertises")

    # The harness's undo (the VM suite's): the first keys advertised again, the rotated ones
    # gone; the volume was rebound to those, so it is now the one out of date.
    first = sorted(k.name for k in tang.keydir.glob("*.jwk") if k.name.startswith("."))
    tang.unrotate_keys()
    assert sorted(k.name for k in tang.keydir.glob("*.jwk")) == [n[1:] for n in first]
