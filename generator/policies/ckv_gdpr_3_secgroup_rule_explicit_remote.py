"""CKV_GDPR_3: every rule names its remote (Safespring: an empty remote_ip_prefix opened all ports)."""

from __future__ import annotations

from generator.evidence.check import PASS, ResourceCheck, Verdict, fail, unknown
from generator.evidence.scope import Scope, remote_group
from generator.evidence.values import Unresolved, attr


class SecgroupRuleExplicitRemote(ResourceCheck):
    ID = "CKV_GDPR_3"

    def judge(self, scope: Scope) -> Verdict:
        prefix, group = attr(scope.conf, "remote_ip_prefix"), remote_group(scope.conf, scope)
        for value in (prefix, group):
            if isinstance(value, str) and value.strip():
                return PASS
        unresolved = [f"{name} is {value}" for name, value in (("remote_ip_prefix", prefix),
                                                                 ("remote_group_id", group))
                      if isinstance(value, Unresolved)]
        if unresolved:
            return unknown("; ".join(unresolved))
        return fail("no remote: neither remote_ip_prefix nor remote_group_id is set, so the rule "
                    "faces every address")


check = SecgroupRuleExplicitRemote()
