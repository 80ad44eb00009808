"""Edge cases of the deployment graph's evidence, without a scan."""

from __future__ import annotations

import pytest

from generator.evidence.graph import SWIFT_CONTAINER, backup_evidence, backup_name


@pytest.mark.parametrize(("name", "backup"), [
    ("app-backups", True), ("DBBACKUP", True),
    # Backup tools' names and snapshots as words of their own (public RKE2 roots name their
    # Swift containers so).
    ("rke2-restic", True), ("cluster-etcd-snapshots", True), ("velero", True),
    ("k8s_kopia_repo", True), ("borg-home", True),
    # A word inside another word is not one.
    ("cyborg-media", False), ("resticated", False), ("assets", False), ("static-web", False),
])
def test_a_store_named_for_backups(name: str, backup: bool) -> None:
    assert backup_name(name) is backup


def test_a_swift_container_counts_by_name_or_role() -> None:
    assert backup_evidence({"name": ["rke2-restic"]}, "", SWIFT_CONTAINER)
    assert backup_evidence({"name": ["media"], "metadata": [{"ssb_role": "backup"}]}, "",
                           SWIFT_CONTAINER)
    assert not backup_evidence({"name": ["media"]}, "", SWIFT_CONTAINER)
