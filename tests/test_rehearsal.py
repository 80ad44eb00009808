"""Offline rehearsal of day 2 on the bundled example, blueprints/patient-portal.

The blueprint is applied offline: its OpenStack side against the schema-only provider, which
records the planned values into DIR/terraform.tfstate, and its buckets with the real aws
provider against a real S3 API on loopback (moto_server, `apply --offline --s3-endpoint`).
Then the spec is changed, `update` regenerates the blueprint, and Terraform core plans against
that state as it would against Safespring. `plan` (its DATA AT RISK section) and the scan of the
same plan (CKV_GDPR_23) flag exactly the changes that delete or replace data, and `apply`
refuses those (exit 4) without --allow-replace.

Cost: an offline apply of the example takes ~80 s, most of it the aws provider polling after
each lifecycle PUT (TOOLCHAIN.md), so it is applied once per module and each test works on a
copy of the result; a plan of it takes ~20 s, so each change is planned once (`plan -o`) and
the scan reads that plan.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import pytest

from .conftest import FIXTURES, ROOT, run_cli
from .moto_s3 import FAKE_AWS_ENV, moto_server

SPEC = ROOT / "blueprints" / "patient-portal.yaml"
EARLIER = FIXTURES / "earlier"
PREVIOUS = EARLIER / "patient-portal-de643fd"  # the generator before issue 13 (README there)
KEY = ("-var", "key_pair=rehearsal")
VOLUME = "module.volume_web_data.openstack_blockstorage_volume_v3.this"
INSTANCE = "module.instances_web.openstack_compute_instance_v2.this"
BUCKET = "module.bucket_exports.aws_s3_bucket.this"
APPLY_TIMEOUT = 600  # an apply with buckets waits ~55 s on moto's lifecycle read-back


def cli(*args: str, timeout: float = 180) -> str:
    run = run_cli(*args, timeout=timeout)
    assert run.code == 0, f"{args}: {run.code}\n{run.err[-3000:]}\n{run.out[-3000:]}"
    return run.out


class Deployed:
    """An applied blueprint and the S3 API its buckets live on."""

    def __init__(self, directory: Path, endpoint: str) -> None:
        self.directory = directory
        self.endpoint = endpoint

    def apply(self, directory: Path, *extra: str) -> object:
        return run_cli("apply", str(directory), "--offline", "--auto-approve", *KEY,
                       "--s3-endpoint", self.endpoint, *extra, timeout=APPLY_TIMEOUT)


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Deployed]]:
    """The bundled example as generated today, and as the previous generator wrote it, each
    applied offline with its buckets on a moto_server of its own (bucket names are global per
    server). The two applies run at once: each spends most of its time waiting."""
    work = tmp_path_factory.mktemp("rehearsal")
    with ExitStack() as stack:
        current = Deployed(work / "current", stack.enter_context(moto_server(work)))
        (work / "previous-moto").mkdir()
        previous = Deployed(work / "previous",
                            stack.enter_context(moto_server(work / "previous-moto")))
        cli("generate", str(SPEC), "-o", str(current.directory))
        shutil.copytree(PREVIOUS, previous.directory)
        with ThreadPoolExecutor(2) as pool:
            runs = [pool.submit(d.apply, d.directory) for d in (current, previous)]
            for d, future in zip((current, previous), runs, strict=True):
                run = future.result()
                assert run.code == 0, f"apply {d.directory}: {run.code}\n{run.err[-3000:]}"
                assert (d.directory / "terraform.tfstate").is_file()
        for d in (current, previous):  # the buckets are real ones, on the local S3 API
            assert buckets(d.endpoint) == {"patient-portal-backup", "patient-portal-exports"}
        yield {"current": current, "previous": previous}


def buckets(endpoint: str) -> set[str]:
    import boto3

    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                      aws_access_key_id=FAKE_AWS_ENV["AWS_ACCESS_KEY_ID"],
                      aws_secret_access_key=FAKE_AWS_ENV["AWS_SECRET_ACCESS_KEY"])
    return {b["Name"] for b in s3.list_buckets()["Buckets"]}


def changed(deployed: Deployed, tmp_path: Path, edit: tuple[str, str]) -> tuple[Path, str]:
    """A copy of the applied blueprint (state included), its spec edited and `update` run."""
    bp = tmp_path / "bp"
    shutil.copytree(deployed.directory, bp)
    spec = tmp_path / "spec.yaml"
    text = SPEC.read_text("utf-8")
    assert text.count(edit[0]) == 1, edit
    spec.write_text(text.replace(edit[0], edit[1]), "utf-8")
    return bp, cli("update", str(bp), str(spec))


def deletions(planned: str) -> list[str]:
    """The addresses `plan` lists as deleted ("  - delete  ADDRESS")."""
    return [line.split()[-1] for line in planned.splitlines() if line.lstrip().startswith("- delete ")]


def at_risk(bp: Path, tmp_path: Path) -> tuple[list[str], set[str], str]:
    """What `plan` lists under DATA AT RISK, the CKV_GDPR_23 failures of the scan of that same
    plan (`plan -o`, then `scan PLAN.json`), and `plan`'s output."""
    plan_json = tmp_path / "plan.json"
    out = cli("plan", str(bp), "--offline", *KEY, "-o", str(plan_json))
    section = out.split("DATA AT RISK", 1)[1] if "DATA AT RISK" in out else ""
    listed = [line.split()[1] for line in section.splitlines()
              if line.startswith(("  delete ", "  replace ", "  update ", "  create "))]
    scan = run_cli("scan", str(plan_json), "--format", "json")
    assert scan.code in (0, 1), scan.err
    findings = json.loads(scan.out)["findings"]
    failed = {f["resource"] for f in findings
              if f["check_id"] == "CKV_GDPR_23" and f["status"] == "failed"}
    return listed, failed, out


def test_log_retention_changes_no_data(deployed: dict[str, Deployed], tmp_path: Path) -> None:
    bp, update = changed(deployed["current"], tmp_path, ("retention_days: 180", "retention_days: 90"))
    # The guest configuration changed: running instances keep theirs, and update says so.
    assert "reprovision: group log-collector" in update
    listed, failed, _ = at_risk(bp, tmp_path)
    assert (listed, failed) == ([], set())


def test_a_renamed_volume_is_flagged_and_refused(deployed: dict[str, Deployed],
                                                 tmp_path: Path) -> None:
    bp, _ = changed(deployed["current"], tmp_path, ("- name: data", "- name: files"))
    expected = [f"{VOLUME}[0]", f"{VOLUME}[1]"]
    listed, failed, _ = at_risk(bp, tmp_path)
    assert listed == expected and failed == set(expected)
    state = (bp / "terraform.tfstate").read_text()
    refused = deployed["current"].apply(bp)
    assert refused.code == 4 and all(a in refused.err for a in expected), refused.err[-3000:]
    assert (bp / "terraform.tfstate").read_text() == state


def test_a_lower_count_is_flagged_and_refused_unless_allowed(deployed: dict[str, Deployed],
                                                             tmp_path: Path) -> None:
    bp, _ = changed(deployed["current"], tmp_path, ("count: 2", "count: 1"))
    expected = [f"{INSTANCE}[1]", f"{VOLUME}[1]"]
    listed, failed, _ = at_risk(bp, tmp_path)
    assert listed == expected and failed == set(expected)
    # Allowing one of the two is not enough.
    partly = deployed["current"].apply(bp, "--allow-replace", expected[0])
    assert partly.code == 4 and expected[1] in partly.err, partly.err[-3000:]
    refused = partly.err.split("apply refused", 1)[1].split("Nothing was applied", 1)[0]
    assert [line.split(":")[0].strip() for line in refused.splitlines()[1:]] == [expected[1]]
    allowed = deployed["current"].apply(bp, "--actor", "rehearsal",
                                        *[a for address in expected for a in ("--allow-replace", address)])
    assert allowed.code == 0 and "ALLOWED DATA LOSS" in allowed.out, allowed.err[-3000:]
    record = [json.loads(line) for line in (bp / "allowed-replacements.jsonl").read_text().splitlines()]
    assert [r["kind"] for r in record] == ["allowed", "outcome"]
    assert sorted(a["address"] for a in record[0]["allowed"]) == sorted(expected)
    assert record[0]["actor"]["name"] == "rehearsal" and record[1]["exit_code"] == 0


def test_data_lost_in_place_is_flagged_and_refused(deployed: dict[str, Deployed],
                                                   tmp_path: Path) -> None:
    """Hand edits that delete data without deleting its holder: a bucket's expiry and lock cut to
    a day, versioning suspended, force_destroy on, and the web group's volumes detached."""
    bp = tmp_path / "bp"
    shutil.copytree(deployed["current"].directory, bp)
    storage = (bp / "storage.tf").read_text()
    for old, new in (("retention_days = 2555", "retention_days = 1"),
                     ("\n    days = 30\n", "\n    days = 1\n")):
        assert storage.count(old) == 1, old
        storage = storage.replace(old, new)
    (bp / "storage.tf").write_text(storage)
    main = (bp / "main.tf").read_text()
    start = main.index("  volume_ids = {", main.index('module "instances_web"'))
    end = main.index("  }\n", start) + 4
    (bp / "main.tf").write_text(main[:start] + "  volume_ids = {}\n" + main[end:])
    listed, failed, planned = at_risk(bp, tmp_path)
    lifecycle = "module.bucket_exports.aws_s3_bucket_lifecycle_configuration.this"
    lock = "module.bucket_exports.aws_s3_bucket_object_lock_configuration.this[0]"
    attach = "module.instances_web.openstack_compute_volume_attach_v2.this"
    assert lifecycle in failed and lock in failed, planned
    detached = {a for a in failed if a.startswith(attach)}
    assert detached == {f'{attach}["data-1"]', f'{attach}["data-2"]'}, failed
    assert "current objects expire after 1 day (was after 2555 days)" in planned
    assert "object lock is shortened from 30 to 1 days" in planned
    assert "detached from instance" in planned
    assert set(listed) == failed
    refused = deployed["current"].apply(bp)
    assert refused.code == 4 and lifecycle in refused.err and "Nothing was applied" in refused.err


def test_a_renamed_bucket_is_flagged(deployed: dict[str, Deployed], tmp_path: Path) -> None:
    bp, _ = changed(deployed["current"], tmp_path, ("- name: exports", "- name: archive"))
    listed, failed, _ = at_risk(bp, tmp_path)
    assert listed == [BUCKET] and failed == {BUCKET}


def test_the_previous_generators_blueprint_updates_without_loss(deployed: dict[str, Deployed],
                                                                tmp_path: Path) -> None:
    bp = tmp_path / "bp"
    shutil.copytree(deployed["previous"].directory, bp)
    cli("update", str(bp), str(SPEC))
    listed, failed, planned = at_risk(bp, tmp_path)
    assert (listed, failed) == ([], set())
    # moved.tf carries the old addresses over. The only deletions are the world-egress rules of
    # the `db` group, which is on `private` and since the egress proxy goes out through it alone.
    deleted = deletions(planned)
    world_egress = re.compile(r'module\.security_groups\.openstack_networking_secgroup_rule_v2'
                              r'\.cidr\["db/egress-(tcp|udp)-[0-9]+-world-ipv[46]"\]')
    assert deleted and all(world_egress.fullmatch(a) for a in deleted), planned


def test_the_first_generators_minimal_blueprint_updates_without_loss(tmp_path: Path) -> None:
    """The first generator's patient-portal is invalid under Terraform 1.11, its minimal example
    is not: the moved blocks for its addresses (per-group security-group modules) are rehearsed
    on that (OpenStack only, no buckets)."""
    bp = tmp_path / "minimal"
    shutil.copytree(EARLIER / "minimal-be6fc72", bp)
    cli("apply", str(bp), "--offline", "--auto-approve", *KEY)
    cli("update", str(bp), str(ROOT / "blueprints" / "minimal.yaml"))
    listed, failed, planned = at_risk(bp, tmp_path)
    assert (listed, failed) == ([], set())
    assert "Plan: " in planned and not deletions(planned), planned
    cli("apply", str(bp), "--offline", "--auto-approve", *KEY)


def test_s3_endpoint_is_for_the_offline_rehearsal_only() -> None:
    """Online, providers.tf names Safespring Storage; the option must not silently redirect it."""
    run = run_cli("apply", str(ROOT / "blueprints" / "patient-portal"), "--s3-endpoint",
                  "http://127.0.0.1:9")
    assert run.code == 2 and "--s3-endpoint applies with --offline only" in run.err
