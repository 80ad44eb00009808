"""CKV_GDPR_12: no credentials in provider blocks (individual credentials from clouds.yaml / env)."""

from __future__ import annotations

from generator.evidence.check import PASS, ProviderCheck, Verdict, fail
from generator.evidence.scope import Scope, provider_conf

# Set at all (even from a variable) means a secret flows through .tf/.tfvars files and state.
SECRETS = ("password", "token", "application_credential_secret", "access_key", "secret_key")


class ProviderWithoutCredentials(ProviderCheck):
    ID = "CKV_GDPR_12"

    def judge(self, scope: Scope, provider: str) -> Verdict:
        conf = provider_conf(scope)
        found = [k for k in SECRETS if k in conf and conf[k] not in ([None], [""], None)]
        if found:
            return fail(f"credentials in the provider block: {', '.join(found)}")
        return PASS


check = ProviderWithoutCredentials()
