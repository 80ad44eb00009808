"""The evidence bundle: what it holds (and never holds), that it is reproducible, and that
`verify-bundle` names every change to it, a wrong signer and a blueprint that moved on."""

from __future__ import annotations

import datetime as dt
import gzip
import io
import json
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from generator import api, bundle
from tests.conftest import ROOT, TODAY, run_cli

CREATED = dt.datetime(2026, 11, 27, 12, tzinfo=dt.UTC)
SECRET = "s3cr3t-application-credential"


def _keygen(path: Path, comment: str) -> Path:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)],
                   check=True, timeout=60)
    return path


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The minimal example copied beside its spec, with what a working directory also holds:
    state, credentials, a key, Terraform's cache and an allowance record. Scanned and reported
    once for the module."""
    root = tmp_path_factory.mktemp("bundle")
    shutil.copytree(ROOT / "blueprints" / "minimal", root / "minimal")
    shutil.copy2(ROOT / "blueprints" / "minimal.yaml", root / "minimal.yaml")
    directory = root / "minimal"
    (directory / "terraform.tfstate").write_text(json.dumps({"secret": SECRET}))
    (directory / "clouds.yaml").write_text(f"password: {SECRET}\n")
    (directory / "admin.pem").write_text(SECRET)
    (directory / ".terraform").mkdir()
    (directory / ".terraform" / "x").write_text(SECRET)
    from generator import record

    record.append(directory / "allowed-replacements.jsonl", record.allowed_entry(
        [], directory, record.Actor("anna", "--actor"), "00" * 32))
    result = api.scan(directory)
    built = api.build_report(directory, on=TODAY, result=result)
    keys = {"dpo": _keygen(root / "dpo", "dpo@example.se"),
            "other": _keygen(root / "other", "other@example.se")}
    signers = root / "allowed_signers"
    signers.write_text(f"dpo@example.se {(root / 'dpo.pub').read_text()}")
    return {"root": root, "dir": directory, "result": result, "built": built, "keys": keys,
            "signers": signers}


def _bundle(made: dict, out: Path, **kwargs: object) -> str:
    return api.bundle(made["dir"], out, made["built"], made["result"], created=CREATED, **kwargs)


def _rewrite(source: Path, target: Path, change: dict[str, bytes | None]) -> None:
    """A copy of a bundle with members replaced (bytes), removed (None) or added."""
    members = bundle.read(source)
    for name, data in change.items():
        if data is None:
            members.pop(name, None)
        else:
            members[name] = data
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    target.write_bytes(gzip.compress(raw.getvalue()))


def test_a_bundle_holds_the_evidence_and_no_secret(made: dict, tmp_path: Path) -> None:
    plan = {"format_version": "1.2", "planned_values": {"root_module": {"resources": [{
        "address": "openstack_identity_application_credential_v3.ci", "type": "x", "name": "ci",
        "values": {"secret": SECRET}, "sensitive_values": {"secret": True}}]}}}
    out = tmp_path / "evidence.tar.gz"
    digest = _bundle(made, out, plan=plan)
    members = bundle.read(out)
    assert sorted(members) == [
        "MANIFEST.json", "blueprint/files.json", "plan/plan.json", "record/allowed-replacements.jsonl",
        "report/report.html", "report/report.json", "report/report.md", "scan/findings.json",
        "scan/gdpr.sarif", "spec/minimal.yaml"]
    index = json.loads(members["MANIFEST.json"])
    assert index["format"] == bundle.FORMAT and index["created"] == "2026-11-27T12:00:00+00:00"
    assert bundle.hashlib.sha256(members["MANIFEST.json"]).hexdigest() == digest
    for name, entry in index["members"].items():
        assert bundle.hashlib.sha256(members[name]).hexdigest() == entry["sha256"], name
    assert members["spec/minimal.yaml"] == (ROOT / "blueprints" / "minimal.yaml").read_bytes()
    files = json.loads(members["blueprint/files.json"])
    assert "main.tf" in files["files"] and files["edited_since_generated"] == []
    assert files["added_by_hand"] == ["allowed-replacements.jsonl"]
    for name in files["files"]:
        assert not name.startswith(".terraform/") and name not in (
            "terraform.tfstate", "clouds.yaml", "admin.pem"), name
    assert json.loads(members["scan/findings.json"])["summary"] == {
        "passed": made["result"].summary.passed, "failed": made["result"].summary.failed,
        "skipped": made["result"].summary.skipped, "unknown": made["result"].summary.unknown}
    for name, data in members.items():
        assert SECRET.encode() not in data, f"{name} holds the secret"


def test_the_same_evidence_gives_the_same_bytes(made: dict, tmp_path: Path) -> None:
    """Signed too: an Ed25519 SSH signature has no timestamp or randomness."""
    first, second = tmp_path / "a.tar.gz", tmp_path / "b.tar.gz"
    _bundle(made, first, sign_key=made["keys"]["dpo"])
    _bundle(made, second, sign_key=made["keys"]["dpo"])
    assert first.read_bytes() == second.read_bytes()


def test_verify_names_every_change_to_an_unsigned_bundle(made: dict, tmp_path: Path) -> None:
    out = tmp_path / "evidence.tar.gz"
    _bundle(made, out)
    found = bundle.verify(out)
    assert found.ok and not found.signed
    assert any("unsigned" in note for note in found.notes)
    changed = tmp_path / "changed.tar.gz"
    _rewrite(out, changed, {"report/report.md": b"# all fine\n", "spec/minimal.yaml": None,
                            "notes.txt": b"added later\n"})
    found = bundle.verify(changed)
    assert found.problems == ["report/report.md: changed (its SHA-256 is not the manifest's)",
                              "spec/minimal.yaml: listed in the manifest but missing",
                              "notes.txt: in the bundle but not in the manifest"]


def test_verify_walks_the_allowance_record_in_the_bundle(made: dict, tmp_path: Path) -> None:
    """A record whose chain was broken before it was bundled is named, though its hash matches."""
    directory = tmp_path / "minimal"
    shutil.copytree(made["dir"], directory)
    kept = directory / "allowed-replacements.jsonl"
    entry = json.loads(kept.read_text())
    entry["actor"]["name"] = "the-dpo"
    kept.write_text(json.dumps(entry) + "\n" + kept.read_text())
    out = tmp_path / "evidence.tar.gz"
    api.bundle(directory, out, made["built"], made["result"], created=CREATED)
    found = bundle.verify(out)
    assert found.problems == [
        "record/allowed-replacements.jsonl: line 2: says it is entry 1: an entry before it was "
        "removed or inserted",
        "record/allowed-replacements.jsonl: line 2: does not follow line 1 (the line before it was "
        "changed, removed or inserted)"]


def test_verify_checks_the_signature_and_the_signer(made: dict, tmp_path: Path) -> None:
    signed = tmp_path / "signed.tar.gz"
    _bundle(made, signed, sign_key=made["keys"]["dpo"])
    found = bundle.verify(signed, allowed_signers=made["signers"])
    assert found.ok and found.signer == "dpo@example.se"
    assert bundle.verify(signed, allowed_signers=made["signers"], identity="dpo@example.se").ok
    wrong_name = bundle.verify(signed, allowed_signers=made["signers"], identity="boss@example.se")
    assert not wrong_name.ok and "not a valid signature by boss@example.se" in wrong_name.problems[0]
    unchecked = bundle.verify(signed)
    assert unchecked.ok and any("who signed was not checked" in n for n in unchecked.notes)

    by_other = tmp_path / "other.tar.gz"
    _bundle(made, by_other, sign_key=made["keys"]["other"])
    found = bundle.verify(by_other, allowed_signers=made["signers"])
    assert found.problems == [f"no key in {made['signers']} made the signature"]

    # A rewritten member and manifest no longer match the signature.
    rewritten = tmp_path / "rewritten.tar.gz"
    members = bundle.read(signed)
    index = json.loads(members["MANIFEST.json"])
    index["members"]["report/report.md"]["sha256"] = bundle.hashlib.sha256(b"# fine\n").hexdigest()
    _rewrite(signed, rewritten, {"report/report.md": b"# fine\n",
                                 "MANIFEST.json": json.dumps(index).encode()})
    assert bundle.verify(rewritten).problems == ["the signature does not match the manifest"]
    assert not bundle.verify(rewritten, allowed_signers=made["signers"]).ok


def test_verify_names_what_changed_in_the_blueprint_since(made: dict, tmp_path: Path) -> None:
    out = tmp_path / "evidence.tar.gz"
    _bundle(made, out)
    copy = tmp_path / "minimal"
    shutil.copytree(made["dir"], copy)
    assert bundle.verify(out, blueprint=copy).ok
    with (copy / "main.tf").open("a") as handle:
        handle.write("# edited\n")
    (copy / "README.md").unlink()
    (copy / "extra.tf").write_text("# mine\n")
    (copy / "terraform.tfstate").write_text("{}")  # state is never compared
    assert bundle.verify(out, blueprint=copy).problems == [
        "blueprint: README.md was removed since the bundle was made",
        "blueprint: extra.tf was added since the bundle was made",
        "blueprint: main.tf changed since the bundle was made"]


@pytest.mark.parametrize("kind", ["symlink", "traversal", "absolute", "duplicate", "not-gzip"])
def test_a_hostile_bundle_is_refused_without_extracting(kind: str, tmp_path: Path) -> None:
    out = tmp_path / "hostile.tar.gz"
    if kind == "not-gzip":
        out.write_bytes(b"PK\x03\x04 not a bundle")
    else:
        raw = io.BytesIO()
        with tarfile.open(fileobj=raw, mode="w") as tar:
            info = tarfile.TarInfo({"symlink": "link", "traversal": "../../etc/x",
                                    "absolute": "/etc/x", "duplicate": "a"}[kind])
            if kind == "symlink":
                info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
                tar.addfile(info)
            else:
                for _ in range(2 if kind == "duplicate" else 1):
                    tar.addfile(info, io.BytesIO(b""))
        out.write_bytes(gzip.compress(raw.getvalue()))
    with pytest.raises(bundle.BundleError):
        bundle.verify(out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hostile.tar.gz"]


def test_report_writes_a_signed_bundle_and_verify_bundle_checks_it(made: dict, tmp_path: Path) -> None:
    """As a user runs it: exit codes, and nothing written when the key cannot sign."""
    directory = made["dir"]
    out = tmp_path / "evidence.tar.gz"
    done = run_cli("report", str(directory), "-o", str(tmp_path / "report"), "--bundle", str(out),
                   "--sign-key", str(made["keys"]["dpo"]), "--today", TODAY.isoformat())
    assert done.code == 0, done.err
    assert "signed" in done.err and (tmp_path / "report" / "report.md").is_file()
    checked = run_cli("verify-bundle", str(out), "--signers", str(made["signers"]),
                      "--blueprint", str(directory))
    assert checked.code == 0, checked.out + checked.err
    assert "signed by dpo@example.se" in checked.out
    assert "OK: every member is what the manifest lists" in checked.out

    not_a_key = tmp_path / "not-a-key"
    not_a_key.write_text("nothing\n")
    refused = run_cli("report", str(directory), "-o", str(tmp_path / "second"), "--bundle",
                      str(tmp_path / "second.tar.gz"), "--sign-key", str(not_a_key))
    assert refused.code == 1 and "could not sign" in refused.err and "Traceback" not in refused.err
    assert not (tmp_path / "second").exists() and not (tmp_path / "second.tar.gz").exists()
    usage = run_cli("report", str(directory), "--sign-key", str(not_a_key))
    assert usage.code == 2 and "give --bundle FILE too" in usage.err

    changed = tmp_path / "changed.tar.gz"
    _rewrite(out, changed, {"scan/gdpr.sarif": b"{}"})
    failed = run_cli("verify-bundle", str(changed))
    assert failed.code == 1 and "MISMATCH scan/gdpr.sarif: changed" in failed.out
    garbage = tmp_path / "garbage.tar.gz"
    garbage.write_bytes(b"\x00" * 64)
    unreadable = run_cli("verify-bundle", str(garbage))
    assert unreadable.code == 1 and "not a readable bundle" in unreadable.err
    assert "Traceback" not in unreadable.err


def test_report_plan_goes_into_the_bundle_redacted(made: dict, tmp_path: Path) -> None:
    """`report --plan PLAN.json --bundle FILE`: the plan the report read is in the bundle, with
    what Terraform marks sensitive redacted; a plan that is not JSON is a usage error."""
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"format_version": "1.2", "resource_changes": [{
        "address": "openstack_identity_application_credential_v3.ci", "type": "x", "name": "ci",
        "change": {"actions": ["create"], "before": None, "after": {"secret": SECRET},
                   "after_sensitive": {"secret": True}, "after_unknown": {}}}]}))
    out = tmp_path / "evidence.tar.gz"
    done = run_cli("report", str(made["dir"]), "-o", str(tmp_path / "report"), "--plan", str(plan),
                   "--bundle", str(out), "--today", TODAY.isoformat())
    assert done.code == 0, done.err
    members = bundle.read(out)
    assert "plan/plan.json" in members and SECRET.encode() not in members["plan/plan.json"]
    assert b"openstack_identity_application_credential_v3.ci" in members["plan/plan.json"]
    plan.write_text("not json")
    bad = run_cli("report", str(made["dir"]), "--plan", str(plan), "--bundle",
                  str(tmp_path / "second.tar.gz"))
    assert bad.code == 2 and "Traceback" not in bad.err, bad.err
    assert not (tmp_path / "second.tar.gz").exists()
