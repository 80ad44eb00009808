"""CKV_GDPR_12: no credentials in provider blocks (individual credentials from clouds.yaml / env)."""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.provider.base_check import BaseProviderCheck

from generator.policies.evidence import (
    Scope,
    guideline,
    provider_conf,
    provider_configured,
    provider_key,
    severity,
)

ID = "CKV_GDPR_12"
# Set at all (even from a variable) means a secret flows through .tf/.tfvars files and state.
SECRETS = ("password", "token", "application_credential_secret", "access_key", "secret_key")


class ProviderWithoutCredentials(BaseProviderCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure provider blocks hold no credentials (password, token, application credential, "
                 "access or secret key)",
            id=ID, categories=[CheckCategories.SECRETS],
            supported_provider=["openstack", "aws"], guideline=guideline(ID))
        self.severity = severity("CRITICAL")

    def scan_provider_conf(self, conf: dict[str, Any]) -> CheckResult:
        scope = Scope(self, conf)
        if not provider_configured(scope, provider_key(scope.address)):
            return CheckResult.UNKNOWN  # an empty configuration nothing uses: nothing to judge
        conf = provider_conf(scope)
        found = [k for k in SECRETS if k in conf and conf[k] not in ([None], [""], None)]
        if found:
            self.details.append(f"credentials in the provider block: {', '.join(found)}")
            return CheckResult.FAILED
        return CheckResult.PASSED


check = ProviderWithoutCredentials()
