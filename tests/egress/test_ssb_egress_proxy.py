"""ssb-egress-proxy, the guest program, run as the guest runs it (a subprocess, its own env)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import ssb_guest

PROGRAM = Path(ssb_guest.__file__).parent / "egress_proxy.py"


def _run(tmp_path: Path, meta: dict, *args: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "client.json").write_text(json.dumps(
        {"port": 3128, "metadata_key": "ssb_egress_proxy", "no_proxy": ["localhost", "::1"]}))
    # cloud-init's instance data, as written for an OpenStack datasource.
    (tmp_path / "instance-data.json").write_text(json.dumps({"ds": {"meta_data": {"meta": meta}}}))
    env = {**os.environ, "SSB_EGRESS_CONFIG": str(tmp_path / "client.json"),
           "SSB_METADATA_SOURCES": str(tmp_path / "instance-data.json"),
           "SSB_EGRESS_RUN_DIR": str(tmp_path / "run")}
    return subprocess.run([sys.executable, str(PROGRAM), *args], capture_output=True, text=True,
                          env=env, timeout=60)


def test_apt_gets_the_first_proxy_that_answers(tmp_path: Path) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        run = _run(tmp_path, {"ssb_egress_proxy": "127.0.0.2 127.0.0.1"}, "http://deb.debian.org/")
        # Port 3128 answers on neither: the first listed is given.
        assert run.returncode == 0 and run.stdout == "http://127.0.0.2:3128\n", run.stderr
        cfg = json.loads((tmp_path / "client.json").read_text())
        cfg["port"] = port
        (tmp_path / "client.json").write_text(json.dumps(cfg))
        env = {**os.environ, "SSB_EGRESS_CONFIG": str(tmp_path / "client.json"),
               "SSB_METADATA_SOURCES": str(tmp_path / "instance-data.json")}
        run = subprocess.run([sys.executable, str(PROGRAM), "url"], capture_output=True,
                             text=True, env=env, timeout=60)
        # 127.0.0.2 does not listen on that port, 127.0.0.1 does: the answering one is chosen.
        assert run.stdout == f"http://127.0.0.1:{port}\n", run.stderr


def test_env_writes_the_units_proxy_and_the_time_servers(tmp_path: Path) -> None:
    run = _run(tmp_path, {"ssb_egress_proxy": "10.0.2.100 10.0.2.101"}, "env")
    assert run.returncode == 0, run.stderr
    env = (tmp_path / "run" / "egress-proxy.env").read_text()
    assert "https_proxy=http://10.0.2.100:3128\n" in env and "no_proxy=localhost,::1\n" in env
    sources = (tmp_path / "run" / "chrony" / "ssb-egress-proxy.sources").read_text()
    assert sources == "server 10.0.2.100 iburst\nserver 10.0.2.101 iburst\n"


def test_addresses_that_are_not_addresses_are_ignored(tmp_path: Path) -> None:
    run = _run(tmp_path, {"ssb_egress_proxy": "evil;rm -rf / 10.0.0.5"}, "url")
    assert run.stdout == "http://10.0.0.5:3128\n"
    assert "not an IP address" in run.stderr


def test_no_address_fails_loudly_and_writes_nothing(tmp_path: Path) -> None:
    run = _run(tmp_path, {}, "url")
    assert run.returncode == 1 and run.stdout == ""
    assert "no proxy address" in run.stderr
    assert not (tmp_path / "run").exists()


def test_the_proxy_serves_only_private_networks_from_the_metadata(tmp_path: Path) -> None:
    run = _run(tmp_path, {"ssb_egress_clients": "10.20.30.0/24 0.0.0.0/1 8.8.8.0/24 fd00:1::/64 x"},
               "clients")
    assert run.returncode == 0, run.stderr
    acl = (tmp_path / "run" / "egress-clients.acl").read_text().splitlines()
    assert [line for line in acl if not line.startswith("#")] == ["10.20.30.0/24", "fd00:1::/64"]
    assert "0.0.0.0/1 is not private address space" in run.stderr
    # Nothing (an offline rehearsal, an older blueprint): Squid is not started on a guess.
    empty = _run(tmp_path, {"ssb_egress_clients": ""}, "clients")
    assert empty.returncode == 1 and "serves nobody" in empty.stderr
    acl = (tmp_path / "run" / "egress-clients.acl").read_text().splitlines()
    assert [line for line in acl if not line.startswith("#")] == []
