"""Mutation test of the policy pack: one GDPR violation at a time must make the scan fail.

Each mutation edits one generated file of a scratch copy of a committed, compliant blueprint
the way a person editing the blueprint by hand (or a broken generator) could, and names the
control the violation breaks. A mutation is killed when the scan reports a failed pack finding
mapped to that control which the unmutated blueprint does not have. The kill rate must be 100%.

Scans run in-process (Checkov imported once) in a small fork pool; "today" is pinned to the
suite's date because application credentials are judged against it.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import tempfile
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from .conftest import ROOT, TODAY_EPOCH

BLUEPRINTS = ("patient-portal", "minimal")


@dataclass(frozen=True)
class Mutation:
    """Replace `old` (which must occur in `file`) by `new`, once; `control` must catch it."""

    blueprint: str
    name: str
    file: str
    old: str
    new: str
    control: str


PP, MIN = "patient-portal", "minimal"

MUTATIONS: tuple[Mutation, ...] = (
    # GDPR-ACC-2: closed by default
    Mutation(PP, "ssh open to the world", "main.tf",
             'remote_ip_prefix = "192.0.2.0/24"', 'remote_ip_prefix = "0.0.0.0/0"', "GDPR-ACC-2"),
    Mutation(PP, "default allow-all rules kept", "modules/security-groups/main.tf",
             "delete_default_rules = true", "delete_default_rules = false", "GDPR-ACC-2"),
    Mutation(PP, "group rule without a remote", "modules/security-groups/main.tf",
             "  remote_group_id   = openstack_networking_secgroup_v2.this[each.value.remote_group].id\n",
             "", "GDPR-ACC-2"),
    Mutation(PP, "bucket allows public ACLs", "modules/bucket/main.tf",
             "block_public_acls       = true", "block_public_acls       = false", "GDPR-ACC-2"),
    Mutation(MIN, "port 80 open to the world", "main.tf",
             '"app/egress-tcp-80-world-ipv4" = {\n      group            = "app"\n'
             '      direction        = "egress"',
             '"app/egress-tcp-80-world-ipv4" = {\n      group            = "app"\n'
             '      direction        = "ingress"', "GDPR-ACC-2"),
    # GDPR-ENC-2: TLS only
    Mutation(PP, "TLS-only bucket policy statement dropped", "modules/bucket/main.tf",
             'Sid       = "DenyInsecureTransport"\n        Effect    = "Deny"',
             'Sid       = "DenyInsecureTransport"\n        Effect    = "Allow"', "GDPR-ENC-2"),
    # GDPR-ENC-1: volumes encrypted in the guest
    # (The check reads what the guest runs: a volume declared "none" that the guest program
    # still encrypts is encrypted; a guest that never runs the program is the violation.)
    Mutation(PP, "web never runs the LUKS program (written where no unit starts it)",
             "cloud-init/web.yaml", "- path: /usr/local/sbin/ssb-luks-tang\n",
             "- path: /usr/local/share/doc/ssb-luks-tang\n", "GDPR-ENC-1"),
    # GDPR-RED-1: resilience
    Mutation(PP, "web group on a local-disk l2 flavor", "main.tf",
             'flavor               = "b2.c2r4"', 'flavor               = "l2.c2r4.100"', "GDPR-RED-1"),
    Mutation(PP, "anti-affinity scheduler hint removed", "modules/instance-group/main.tf",
             '  dynamic "scheduler_hints" {', '  dynamic "no_scheduler_hints" {', "GDPR-RED-1"),
    Mutation(MIN, "personal data on a single local copy", "main.tf",
             'ssb_classification = "non-personal"', 'ssb_classification = "personal"', "GDPR-RED-1"),
    # GDPR-BAK-1: versions, write-once backups on another site
    Mutation(PP, "bucket versioning suspended", "modules/bucket/main.tf",
             'status = "Enabled"\n  }\n}', 'status = "Suspended"\n  }\n}', "GDPR-BAK-1"),
    Mutation(MIN, "state bucket versioning suspended", "modules/state-bucket/main.tf",
             'status = "Enabled"\n  }\n}', 'status = "Suspended"\n  }\n}', "GDPR-BAK-1"),
    Mutation(PP, "backup bucket without Object Lock", "modules/backup-bucket/main.tf",
             "object_lock_enabled = true", "object_lock_enabled = false", "GDPR-BAK-1"),
    Mutation(PP, "backup bucket lock without default retention", "modules/backup-bucket/main.tf",
             "  rule {\n    default_retention {\n      mode = var.lock_mode\n      days = var.lock_days\n"
             "    }\n  }\n", "", "GDPR-BAK-1"),
    Mutation(PP, "backup provider on the data's site", "providers.tf",
             's3 = "https://s3.sto1.safedc.net"', 's3 = "https://s3.sto2.safedc.net"', "GDPR-BAK-1"),
    Mutation(PP, "backup bucket on the default provider", "storage.tf",
             "  providers = {\n    aws = aws.backup\n  }\n", "", "GDPR-BAK-1"),
    # GDPR-LIM-1: storage limitation
    Mutation(PP, "bucket lifecycle expiration removed", "modules/bucket/main.tf",
             "    expiration {\n      days = var.retention_days\n    }\n", "", "GDPR-LIM-1"),
    # GDPR-ACC-1: individual, timed access; no secrets in code
    Mutation(PP, "credential expiry beyond the window", "access.tf",
             'expires = "2027-09-30"', 'expires = "2028-06-30"', "GDPR-ACC-1"),
    Mutation(PP, "credential without expiry", "modules/access/main.tf",
             '  expires_at   = "${each.value.expires}T23:59:59Z"\n', "", "GDPR-ACC-1"),
    Mutation(PP, "unrestricted credential", "modules/access/main.tf",
             "unrestricted = false", "unrestricted = true", "GDPR-ACC-1"),
    Mutation(PP, "password in the openstack provider", "providers.tf",
             'cloud = "safespring-sto2"', 'cloud    = "safespring-sto2"\n  password = "hunter2"',
             "GDPR-ACC-1"),
    Mutation(PP, "the key pair's default user neither dated nor locked", "cloud-init/web.yaml",
             "- - usermod\n  - --expiredate\n  - '1'\n  - ubuntu\n", "", "GDPR-ACC-1"),
    Mutation(PP, "sshd reads keys from the home directory only", "cloud-init/db.yaml",
             "AuthorizedKeysFile /etc/ssh/authorized_keys.d/%u .ssh/authorized_keys",
             "AuthorizedKeysFile .ssh/authorized_keys", "GDPR-ACC-1"),
    Mutation(MIN, "instance declares no individual logins", "main.tf",
             '"local-logs,logins,security-group-explicit,ssh-keys-only"',
             '"local-logs,security-group-explicit,ssh-keys-only"', "GDPR-ACC-1"),
    # GDPR-BAK-2: a backup bucket without a lock is no protection against anyone
    Mutation(PP, "backup bucket without Object Lock (BAK-2)", "modules/backup-bucket/main.tf",
             "object_lock_enabled = true", "object_lock_enabled = false", "GDPR-BAK-2"),
    Mutation(MIN, "token in the openstack provider", "providers.tf",
             'cloud = "safespring-sto1"', 'cloud = "safespring-sto1"\n  token = "gAAAA-example"',
             "GDPR-ACC-1"),
    # GDPR-RES-1: no transfer to a third country (Art. 44)
    Mutation(PP, "aws provider talks to AWS in us-east-1", "providers.tf",
             'endpoints {\n    s3 = "https://s3.sto2.safedc.net"\n  }', "", "GDPR-RES-1"),
    # GDPR-RES-2: everything on Safespring (this project's policy)
    # (A clouds.yaml entry of another name cannot be placed: UNKNOWN, not a failure.)
    Mutation(PP, "openstack auth_url outside Safespring", "providers.tf",
             'cloud = "safespring-sto2"', 'auth_url = "https://auth.cloud.ovh.net/v3"',
             "GDPR-RES-2"),
    Mutation(PP, "aws provider endpoint outside Safespring", "providers.tf",
             'endpoints {\n    s3 = "https://s3.sto2.safedc.net"',
             'endpoints {\n    s3 = "https://s3.eu-north-1.amazonaws.com"', "GDPR-RES-2"),
    Mutation(PP, "state backend at AWS", "backend.tf",
             's3 = "https://s3.sto2.safedc.net"', 's3 = "https://s3.eu-north-1.amazonaws.com"',
             "GDPR-RES-2"),
    Mutation(PP, "state lock table in DynamoDB", "backend.tf",
             "use_lockfile                = true",
             'use_lockfile                = true\n    dynamodb_table              = "locks"', "GDPR-RES-2"),
    Mutation(MIN, "state backend endpoint removed", "backend.tf",
             's3 = "https://s3.sto1.safedc.net"', 'iam = "https://s3.sto1.safedc.net"', "GDPR-RES-2"),
    Mutation(MIN, "openstack auth_url outside Safespring", "providers.tf",
             'cloud = "safespring-sto1"', 'auth_url = "https://api.pub1.infomaniak.cloud/identity"',
             "GDPR-RES-2"),
    # GDPR-LOG-1: logging and intrusion detection
    Mutation(PP, "web does not ship its logs", "main.tf",
             "local-logs,log-shipping-tls,logins,luks-tang,security-group-explicit,ssh-keys-only,"
             "tls-endpoint",
             "local-logs,logins,luks-tang,security-group-explicit,ssh-keys-only,tls-endpoint",
             "GDPR-LOG-1"),
    Mutation(PP, "web log forwarding without TLS", "cloud-init/web.yaml",
             'StreamDriverMode="1"', 'StreamDriverMode="0"', "GDPR-LOG-1"),
    Mutation(PP, "db without AIDE", "cloud-init/db.yaml", "- aide\n", "", "GDPR-LOG-1"),
    # GDPR-EGR-1: out of the private network only through the allow-list proxy
    Mutation(PP, "db's apt not sent through the proxy", "cloud-init/db.yaml",
             '    Acquire::http::Proxy-Auto-Detect "/usr/local/sbin/ssb-egress-proxy";\n'
             '    Acquire::https::Proxy-Auto-Detect "/usr/local/sbin/ssb-egress-proxy";\n',
             "", "GDPR-EGR-1"),
    Mutation(PP, "the proxy lets everything through", "cloud-init/egress-proxy.yaml",
             "    http_access deny all\n", "    http_access allow all\n", "GDPR-EGR-1"),
    Mutation(PP, "collector accepts unauthenticated clients", "cloud-init/log-collector.yaml",
             'streamDriver.authMode="x509/certvalid"', 'streamDriver.authMode="anon"', "GDPR-LOG-1"),
    Mutation(MIN, "journal not persistent", "cloud-init/app.yaml",
             "Storage=persistent", "Storage=volatile", "GDPR-LOG-1"),
)

# GDPR-REV-1 (regular testing and evaluation) is a process control: no file edit violates it.
# GDPR-LIM-2 (data on volumes) has no check: what an application deletes cannot be scanned.
# GDPR-BAK-2 has no check that can pass it; its failing check is mutated above.
UNMUTATED_CONTROLS = {"GDPR-REV-1", "GDPR-LIM-2", "GDPR-BAK-2"}
# Judged on what a plan changes against a state: an HCL scan of an edited file cannot show it.
# Its mutations are changes to an applied deployment (tests/policies/test_data_at_risk.py).
PLAN_CHANGE_CONTROLS = {"GDPR-CHG-1"}

Row = tuple[str, str, str, tuple[str, ...], tuple[str, ...]]


def _scan_rows(path: str) -> list[Row]:
    """Pack findings of one scan as plain tuples (cheap to send back from a worker)."""
    from generator.scan import scan

    return [(f.check_id, f.resource, f.status, f.controls, f.details)
            for f in scan(path).findings if f.custom]


def _apply(mutation: Mutation, workdir: Path) -> Path:
    target = workdir / mutation.blueprint
    shutil.copytree(ROOT / "blueprints" / mutation.blueprint, target)
    path = target / mutation.file
    text = path.read_text("utf-8")
    assert mutation.old in text, f"{mutation.name}: {mutation.old!r} not in {mutation.file}"
    path.write_text(text.replace(mutation.old, mutation.new, 1), "utf-8")
    return target


@pytest.fixture(scope="module")
def outcomes() -> dict[str, tuple[bool, list[str]]]:
    """Mutation name -> (killed, failed findings of the mutated scan that are new)."""
    before = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = TODAY_EPOCH
    try:
        with tempfile.TemporaryDirectory(prefix="ssb-mutations-") as tmp:
            work = Path(tmp)
            jobs = {f"baseline:{b}": str(ROOT / "blueprints" / b) for b in BLUEPRINTS}
            for i, m in enumerate(MUTATIONS):
                jobs[m.name + f"@{m.blueprint}"] = str(_apply(m, work / f"m{i:02d}"))
            import generator.scan  # noqa: F401  (import Checkov once, before forking)

            context = multiprocessing.get_context("fork")
            with ProcessPoolExecutor(max_workers=min(4, os.cpu_count() or 1), mp_context=context) as pool:
                results = dict(zip(jobs, pool.map(_scan_rows, jobs.values()), strict=True))
    finally:
        if before is None:
            del os.environ["SOURCE_DATE_EPOCH"]
        else:
            os.environ["SOURCE_DATE_EPOCH"] = before

    out: dict[str, tuple[bool, list[str]]] = {}
    for m in MUTATIONS:
        baseline = {(c, r) for c, r, s, _, _ in results[f"baseline:{m.blueprint}"] if s == "failed"}
        new = [row for row in results[m.name + f"@{m.blueprint}"]
               if row[2] == "failed" and (row[0], row[1]) not in baseline]
        killed = any(m.control in row[3] for row in new)
        out[m.name + f"@{m.blueprint}"] = (killed, [f"{c} {r} {list(ctl)}: {'; '.join(d)}"
                                                    for c, r, _, ctl, d in new])
    return out


def test_every_control_with_checks_is_mutated() -> None:
    from generator.controls import controls

    with_checks = {c.id for c in controls() if c.checks}
    assert with_checks - UNMUTATED_CONTROLS - PLAN_CHANGE_CONTROLS <= {m.control for m in MUTATIONS}
    assert {c.id for c in controls()} - with_checks <= UNMUTATED_CONTROLS


@pytest.mark.parametrize("mutation", MUTATIONS, ids=lambda m: f"{m.blueprint}:{m.name}")
def test_mutation_is_killed(outcomes: dict[str, tuple[bool, list[str]]], mutation: Mutation) -> None:
    killed, new = outcomes[mutation.name + f"@{mutation.blueprint}"]
    assert killed, f"{mutation.name}: no new failure mapped to {mutation.control}; new failures: {new}"


def test_kill_rate(outcomes: dict[str, tuple[bool, list[str]]]) -> None:
    killed = sum(k for k, _ in outcomes.values())
    total = len(outcomes)
    print(f"\nmutation kill rate: {killed}/{total} = {killed / total:.0%}")
    assert killed == total
