"""The command line as a user meets it: exit codes, messages, nothing written on rejection."""

from __future__ import annotations

import base64
import json
import random
import re
import shutil
import subprocess
from pathlib import Path

from generator import __version__
from generator.spec.schema import schema
from tests.conftest import FIXTURES, ROOT, run_cli


def test_version_and_help() -> None:
    assert run_cli("--version").out.strip() == f"safespring-blueprints {__version__}"
    helped = run_cli("--help")
    assert helped.code == 0
    assert "generate" in helped.out and "schema" in helped.out and "examples:" in helped.out
    assert run_cli().code == 2


def test_schema_prints_the_published_schema() -> None:
    run = run_cli("schema")
    assert run.code == 0
    assert json.loads(run.out) == schema()


def test_rejected_spec_exits_2_lists_every_problem_and_writes_nothing(
        tmp_path: Path, valid_spec_text: str) -> None:
    spec = tmp_path / "bad.yaml"
    spec.write_text(valid_spec_text.replace("site: sto2", "site: sto9")
                    .replace("[192.0.2.0/24]", "[0.0.0.0/0]"))
    out = tmp_path / "out"
    run = run_cli("generate", str(spec), "-o", str(out))
    assert run.code == 2
    lines = run.err.strip().splitlines()
    assert lines[0] == (f"{spec}:11:7: site: 'sto9' is not one of: sto1, sto2, osl2 "
                        "(did you mean 'sto2'?)")
    assert lines[1].startswith(f"{spec}:37:16: instances[0].ssh_from[0]: SSH may not be open")
    assert lines[-1] == f"{spec}: rejected (2 problems); nothing was written"
    assert "Traceback" not in run.err
    assert not out.exists()


def test_user_data_nova_would_refuse_is_a_spec_error_at_the_group(
        tmp_path: Path, valid_spec_text: str) -> None:
    """Sixty admins with 4096-bit RSA keys: every group's logins alone pass Nova's 64 KiB."""
    rng = random.Random(7)

    def rsa_key() -> str:  # the wire form of an RSA public key: type, e, a 4096-bit n
        def field(data: bytes) -> bytes:
            return len(data).to_bytes(4, "big") + data
        modulus = b"\x00\xc0" + rng.randbytes(511)
        return base64.b64encode(field(b"ssh-rsa") + field(b"\x01\x00\x01")
                                + field(modulus)).decode()

    people = "".join(
        f"  - name: admin.{i:02d}\n    kind: person\n    role: admin\n"
        f"    expires: 2027-06-30\n    ssh_key: ssh-rsa {rsa_key()} admin{i}\n"
        for i in range(60))
    spec = tmp_path / "big-team.yaml"
    spec.write_text(valid_spec_text.replace("access:\n", "access:\n" + people, 1))
    out = tmp_path / "out"
    run = run_cli("generate", str(spec), "-o", str(out))
    assert run.code == 2, run.err
    first = run.err.strip().splitlines()[0]
    assert first.startswith(f"{spec}:") and ": instances[0]: the group's user data would be" \
        in first, first
    assert "over the 65535 that Nova accepts" in first and "access[].ssh_key" in first
    assert "nothing was written" in run.err and "Traceback" not in run.err
    assert not out.exists()


def test_failed_generation_leaves_an_existing_blueprint_byte_identical(
        tmp_path: Path, valid_spec_text: str) -> None:
    spec = tmp_path / "clinic.yaml"
    spec.write_text(valid_spec_text)
    out = tmp_path / "clinic"
    assert run_cli("generate", str(spec), "-o", str(out)).code == 0
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    spec.write_text(valid_spec_text.replace("count: 2", "count: 0"))
    run = run_cli("generate", str(spec), "-o", str(out))
    assert run.code == 2
    after = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".clinic.")]


def test_default_output_is_named_after_the_deployment(tmp_path: Path) -> None:
    spec = FIXTURES / "specs" / "valid.yaml"
    run = run_cli("generate", str(spec), cwd=tmp_path)
    assert run.code == 0, run.err
    assert (tmp_path / "clinic" / "main.tf").is_file()


def test_bad_today_option_is_a_usage_error(tmp_path: Path) -> None:
    run = run_cli("generate", str(FIXTURES / "specs" / "valid.yaml"), "--today", "tomorrow",
                  cwd=tmp_path)
    assert run.code == 2 and "not a date" in run.err


def test_missing_spec_file_is_a_clean_error(tmp_path: Path) -> None:
    run = run_cli("generate", str(tmp_path / "nope.yaml"))
    assert run.code == 2
    assert "cannot read the spec" in run.err and "Traceback" not in run.err


def test_scan_cli_exit_codes_and_formats(tmp_path: Path) -> None:
    ok = run_cli("scan", "blueprints/minimal", "--format", "json")
    assert ok.code == 0, ok.err
    doc = json.loads(ok.out)
    assert doc["summary"]["failed"] == 0 and doc["summary"]["passed"] > 0
    repo = tmp_path / "repo"
    bad = repo / "blueprints" / "minimal"
    shutil.copytree(ROOT / "blueprints" / "minimal", bad)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    main = bad / "main.tf"
    open_rule = ('      direction        = "egress"\n      ethertype        = "IPv4"\n'
                 '      protocol         = "tcp"\n      port_range_min   = 443\n'
                 '      port_range_max   = 443\n')
    text = main.read_text()
    assert open_rule in text
    main.write_text(text.replace(open_rule, open_rule.replace("egress", "ingress")
                                 .replace("443", "22"), 1))
    # Without DIR inside a blueprint: that blueprint. -o FILE still prints the summary.
    failed = run_cli("scan", "--format", "sarif", "-o", str(tmp_path / "out.sarif"), cwd=bad)
    assert failed.code == 1
    assert re.search(r"^1 failed, [0-9]+ passed, [0-9]+ skipped; wrote .*out\.sarif$",
                     failed.err, re.M), failed.err
    sarif = json.loads((tmp_path / "out.sarif").read_text())
    results = sarif["runs"][0]["results"]
    assert results, "a failed scan writes its findings"
    uris = {loc["physicalLocation"]["artifactLocation"]["uri"]
            for r in results for loc in r["locations"]}
    # From the repository root, where code scanning looks for them:
    assert uris and all(u.startswith("blueprints/minimal/") and (repo / u).is_file() for u in uris)
    assert run_cli("scan", str(tmp_path / "nope")).code == 2
    outside = run_cli("scan", cwd=tmp_path)  # no blueprint here: no tree walk, a usage error
    assert outside.code == 2 and "give PATH" in outside.err and not outside.out


def test_controls_cli_lists_the_catalogue() -> None:
    run = run_cli("controls", "--format", "json")
    assert run.code == 0
    ids = {c["id"] for c in json.loads(run.out)}
    assert {"GDPR-ENC-1", "GDPR-RES-1", "GDPR-LIM-1"} <= ids


def test_the_process_ends_with_mains_code_after_exit_handlers_and_threads(tmp_path: Path) -> None:
    """`run` skips only the interpreter's freeing of objects: a non-daemon thread is joined, the
    exit handlers run, the output is flushed and the exit code is main()'s."""
    import sys
    from importlib.metadata import entry_points

    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 2\n", "utf-8")
    script = (
        "import atexit, sys, threading, time\n"
        "atexit.register(lambda: print('handler ran'))\n"
        "threading.Thread(target=lambda: (time.sleep(0.3), print('thread done'))).start()\n"
        "print('buffered', end='')\n"
        "from generator.cli import run\n"
        f"sys.argv = ['safespring-blueprints', 'generate', {str(bad)!r}]\n"
        "run()\n")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == "bufferedthread done\nhandler ran\n"
    assert "rejected" in proc.stderr
    # The installed command and `python -m generator` both end this way.
    (command,) = [e for e in entry_points(group="console_scripts")
                  if e.name == "safespring-blueprints"]
    assert command.value == "generator.cli:run"
    assert "run()" in (ROOT / "generator" / "__main__.py").read_text("utf-8")
