"""CKV_GDPR_1: a volume holding personal data is encrypted inside the guest, with keys the
platform never holds, by the instances it is attached to.

The evidence is what the guest runs, not what the volume says: the user data of every instance
the volume is attached to (generator/evidence/graph.py `attached_instances`) must format with
LUKS and bind the key to Tang through Clevis (generator/evidence/userdata.py). Metadata
ssb_encryption = "luks-tang" declares it; a declaration the user data does not carry out fails.
A volume whose instances cannot be seen or read is UNKNOWN when it declares encryption (the
declaration cannot be checked) and fails when nothing shows encryption at all. An encrypted
volume type (a name saying "luks" or "encrypted") is encryption at rest with a key the platform
holds (Cinder, Barbican): the finding says so, and it is not zero-knowledge.
"""

from __future__ import annotations

import re
from typing import Any

from generator.evidence.check import PASS, ResourceCheck, Verdict, fail, unknown
from generator.evidence.graph import attached_instances
from generator.evidence.scope import Scope
from generator.evidence.userdata import NotRead, guest_encryption_problem, user_data
from generator.evidence.values import CLASSIFICATION_KEY, Unresolved, attr, holds_personal_data, map_value

DECLARED = "luks-tang"
_PLATFORM_ENCRYPTED = re.compile(r"luks|encrypt", re.I)


def _holds(conf: dict[str, Any]) -> str:
    classification = map_value(conf, "metadata", CLASSIFICATION_KEY)
    return (f"holds personal data (ssb_classification {classification})" if isinstance(classification, str)
            else "holds personal data (no ssb_classification says otherwise)")


def _platform_note(conf: dict[str, Any]) -> str:
    volume_type = attr(conf, "volume_type")
    if isinstance(volume_type, str) and _PLATFORM_ENCRYPTED.search(volume_type):
        return (f"; its volume type {volume_type} is encryption at rest with a key the platform holds "
                "(Cinder, Barbican), not zero-knowledge")
    return ""


class VolumeEncryptedInGuest(ResourceCheck):
    ID = "CKV_GDPR_1"

    def judge(self, scope: Scope) -> Verdict:
        conf = scope.conf
        if not holds_personal_data(conf, "metadata"):
            return PASS
        declared = map_value(conf, "metadata", "ssb_encryption")
        holds, platform = _holds(conf), _platform_note(conf)
        problems, unread = [], []
        instances = attached_instances(scope)
        for instance in instances:
            found = user_data(scope, node=instance.node, resource=instance.resource)
            if found is None:
                problems.append(f"{instance.address} has no user data")
            elif isinstance(found, NotRead):
                unread.append(f"{instance.address}: {found}")
            else:
                why = guest_encryption_problem(found)
                if why:
                    problems.append(f"{instance.address}: {why}")
        if instances and not problems and not unread:
            return PASS
        if declared == DECLARED:
            if problems:
                return fail(f"{holds}; metadata ssb_encryption declares {DECLARED}, but "
                            + "; ".join(problems) + platform)
            if unread:
                return unknown(f"{holds}; metadata ssb_encryption declares {DECLARED}; whether the guest "
                               f"does it cannot be read: {'; '.join(unread)}")
            return unknown(f"{holds}; metadata ssb_encryption declares {DECLARED}, but no instance is seen "
                           "attaching the volume (an openstack_compute_volume_attach_v2 or a block_device "
                           "naming it), so the user data that would encrypt it cannot be read")
        if isinstance(declared, Unresolved) and not problems:
            return unknown(f"{holds}; metadata.ssb_encryption is {declared}")
        shown = "; ".join(problems + unread) if instances else "no instance is seen attaching it"
        return fail(f"{holds} but nothing shows it is encrypted inside the guest with keys the platform "
                    f"never holds ({shown}){platform}; declare it with ssb_encryption = {DECLARED} and "
                    "have the user data run LUKS with Clevis and Tang")


check = VolumeEncryptedInGuest()
