"""CKV_GDPR_28: providers point at a Safespring site (this project's policy, not a GDPR article).

The blueprints keep data on Safespring; a provider elsewhere, even in the EU/EEA, is outside
what the report describes. OpenStack: a cloud named safespring-<site>, or an auth_url under
safedc.net; S3: a Safespring Storage endpoint. A site the scan cannot see (a clouds.yaml entry
of another name, the environment) is UNKNOWN and says what to set.
"""

from __future__ import annotations

from generator.evidence.check import PASS, ProviderCheck, Verdict, fail, unknown
from generator.evidence.scope import Scope, provider_conf
from generator.evidence.sites import aws_destination, openstack_destination
from generator.evidence.values import Unresolved


class ProviderOnSafespringSite(ProviderCheck):
    ID = "CKV_GDPR_28"

    def judge(self, scope: Scope, provider: str) -> Verdict:
        conf = provider_conf(scope)
        found = aws_destination(conf) if provider == "aws" else openstack_destination(conf)
        if isinstance(found, Unresolved):
            return unknown(f"the provider's site is {found}")
        if found.safespring is True:
            return PASS
        if found.safespring is False:
            return fail(f"{found.what} is not a Safespring site (blueprints keep the data on Safespring: "
                        "cloud = \"safespring-<site>\", or the site's Safespring Storage endpoint)")
        return unknown(found.declare)


check = ProviderOnSafespringSite()
