"""CKV_GDPR_11: no provider sends data to a third country (GDPR Art. 44).

Art. 44 concerns transfers outside the EU/EEA. A provider pointing at a Safespring site (Sweden,
Norway) or at another place in the EU/EEA passes; one whose destination is known to be outside
fails, asking for the Chapter V basis to be documented; one whose destination the scan cannot
place (a clouds.yaml entry, the environment, a host it does not know) is UNKNOWN and says what
to declare. Whether a provider is Safespring is CKV_GDPR_28's question (this project's policy).
"""

from __future__ import annotations

from generator.evidence.check import PASS, ProviderCheck, Verdict, fail, unknown
from generator.evidence.scope import Scope, provider_conf
from generator.evidence.sites import aws_destination, openstack_destination
from generator.evidence.values import Unresolved


class ProviderKeepsDataInEea(ProviderCheck):
    ID = "CKV_GDPR_11"

    def judge(self, scope: Scope, provider: str) -> Verdict:
        conf = provider_conf(scope)
        found = aws_destination(conf) if provider == "aws" else openstack_destination(conf)
        if isinstance(found, Unresolved):
            return unknown(f"the provider's site is {found}")
        if found.in_eea is True:
            return PASS
        if found.in_eea is False:
            return fail(f"{found.what} is in {found.country}, outside the EU/EEA: a transfer to a "
                        "third country (Art. 44) needs a basis under Chapter V (e.g. an adequacy "
                        "decision, Art. 45): document it and skip the check with it as the reason")
        return unknown(f"where {found.what} keeps data is unknown: {found.declare}")


check = ProviderKeepsDataInEea()
