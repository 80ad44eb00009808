"""CKV_GDPR_30: instances carry no secrets in their user data or admin_pass.

User data is no place for a secret: anything running on the instance can read it from the
metadata service, Nova keeps it, and the Terraform state and plan hold it. The user data is read
wherever its text is visible (as Terraform plans it, or the file() or templatefile() it is built
from, with the template's placeholders bound to what its call passes: a `${db_password}` fed
from random_password is a password in the user data) and searched for private keys (PEM),
token formats (AWS, GitHub, GitLab, Slack), cloud-config passwords, host private keys, and
assignments of a literal or template value to a name that says password, secret, token or key
(not in the code of programs a cloud-config writes). What it finds is named, never shown. An
`admin_pass` set at all (even from a variable) is a password in Nova and the state.
"""

from __future__ import annotations

from generator.evidence.check import PASS, ResourceCheck, Verdict, fail, unknown
from generator.evidence.scope import Scope
from generator.evidence.userdata import NotRead, secrets_in, user_data
from generator.evidence.values import MISSING, attr

KEPT = "readable by anything on the instance (metadata service), kept by Nova and the Terraform state"


class UserDataHoldsNoSecrets(ResourceCheck):
    ID = "CKV_GDPR_30"

    def judge(self, scope: Scope) -> Verdict:
        problems = []
        if attr(scope.conf, "admin_pass") not in (MISSING, ""):
            problems.append("admin_pass sets the administrator password: kept by Nova and the Terraform "
                            "state (use SSH keys, or set the password on the instance)")
        found = user_data(scope)
        if isinstance(found, NotRead) and not problems:
            return unknown(str(found))
        if found is not None and not isinstance(found, NotRead):
            problems += [f"{s}: {KEPT}" for s in secrets_in(found)]
        return fail(*problems) if problems else PASS


check = UserDataHoldsNoSecrets()
