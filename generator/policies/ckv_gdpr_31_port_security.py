"""CKV_GDPR_31: ports and networks keep port security on, so security groups apply.

With `port_security_enabled = false` Neutron applies no security group to the port (or to every
port of the network that does not say otherwise) and no anti-spoofing: the instance behind it
is reachable on every port from wherever the network routes. Leaving it unset keeps it on.
"""

from __future__ import annotations

from generator.evidence.check import PASS, ResourceCheck, Verdict, fail, unknown
from generator.evidence.scope import Scope
from generator.evidence.values import Unresolved, as_bool, attr


class PortSecurityEnabled(ResourceCheck):
    ID = "CKV_GDPR_31"

    def judge(self, scope: Scope) -> Verdict:
        value = as_bool(attr(scope.conf, "port_security_enabled"))
        if isinstance(value, Unresolved):
            return unknown(f"port_security_enabled is {value}")
        if value is False:
            what = "every port of this network that does not turn it on" \
                if "networking_network" in scope.address else "this port"
            return fail(f"port_security_enabled = false: no security group and no anti-spoofing apply to "
                        f"{what}, so what is behind it is open on every port")
        return PASS


check = PortSecurityEnabled()
