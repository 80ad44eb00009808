"""CKV_GDPR_3: every rule names its remote (Safespring: an empty remote_ip_prefix opened all ports).

Rules are read from `openstack_networking_secgroup_rule_v2` and from the inline rules of
`openstack_compute_secgroup_v2` (its `cidr`, `from_group_id` or `self`).
"""

from __future__ import annotations

from generator.evidence.check import PASS, ResourceCheck, Verdict, fail, unknown
from generator.evidence.scope import Scope
from generator.evidence.secgroup import rules
from generator.evidence.values import Unresolved


class SecgroupRuleExplicitRemote(ResourceCheck):
    ID = "CKV_GDPR_3"

    def judge(self, scope: Scope) -> Verdict:
        found = rules(scope)
        if isinstance(found, Unresolved):
            return unknown(f"the inline rules are {found}")
        problems, unresolved = [], []
        for rule in found:
            where = f"{rule.label}: " if rule.label else ""
            if rule.names_a_group or (isinstance(rule.prefix, str) and rule.prefix.strip()):
                continue
            pending = [f"{name} is {value}" for name, value in (("remote_ip_prefix", rule.prefix),
                                                                 ("remote_group_id", rule.group))
                       if isinstance(value, Unresolved)]
            if pending:
                unresolved.append(where + "; ".join(pending))
            else:
                problems.append(f"{where}no remote: neither remote_ip_prefix nor remote_group_id is "
                                "set, so the rule faces every address")
        if problems:
            return fail(*problems)
        return unknown("; ".join(unresolved)) if unresolved else PASS


check = SecgroupRuleExplicitRemote()
