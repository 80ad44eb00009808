"""CKV_GDPR_6: security groups start empty, so egress is as explicit as ingress."""

from __future__ import annotations

from generator.evidence.check import PASS, ResourceCheck, Verdict, fail, unknown
from generator.evidence.scope import Scope
from generator.evidence.values import Unresolved, as_bool, attr


class SecgroupDeletesDefaultRules(ResourceCheck):
    ID = "CKV_GDPR_6"

    def judge(self, scope: Scope) -> Verdict:
        value = as_bool(attr(scope.conf, "delete_default_rules"))
        if value is True:
            return PASS
        if isinstance(value, Unresolved):
            return unknown(f"delete_default_rules is {value}")
        return fail("OpenStack's default allow-all egress rules are kept")


check = SecgroupDeletesDefaultRules()
