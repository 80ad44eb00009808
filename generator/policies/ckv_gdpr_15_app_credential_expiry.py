"""CKV_GDPR_15: application credentials are restricted and expire within a year.

An application credential is a key to the project: it must end (`expires_at`, at most
MAX_DAYS days after today) and must not be able to mint further credentials or trusts
(`unrestricted = false`). Restricted is Keystone's default, and what the provider sends when
`unrestricted` is not set: an unset flag is restricted, not a finding.

"Today" is the scan's day: the date the scan was given (the report's or the command's
`--today`), else the UTC date of SOURCE_DATE_EPOCH when set, else of the clock: a credential
that was fine when generated fails once it has expired or when the blueprint is scanned later
with a longer remaining lifetime than allowed, which is the reminder to rotate it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from generator.evidence.check import PASS, ResourceCheck, Verdict, fail, unknown
from generator.evidence.day import scan_date
from generator.evidence.scope import Scope
from generator.evidence.values import MISSING, Unresolved, as_bool, attr

MAX_DAYS = 366


def today() -> dt.date:
    """The scan's day (generator.evidence.day): the date the scan was given (`--today`), else
    SOURCE_DATE_EPOCH's UTC date, else the clock's."""
    return scan_date()


def parse_expiry(value: Any) -> dt.datetime | None:
    """expires_at as an aware datetime (RFC 3339 as Keystone takes it), None if not one."""
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def expiry_problem(conf: dict[str, Any], on: dt.date) -> str | None:
    """None when the credential is restricted and expires within the window, else why not."""
    flag = attr(conf, "unrestricted")
    unrestricted = False if flag is MISSING or flag is None else as_bool(flag)
    if unrestricted is not False:
        return f"unrestricted is {unrestricted}: the credential could create credentials and trusts"
    raw = attr(conf, "expires_at")
    if raw is MISSING:
        return "no expires_at: the credential never expires"
    if isinstance(raw, Unresolved):
        return f"expires_at is {raw}"
    expires = parse_expiry(raw)
    if expires is None:
        return f"expires_at {raw!r} is not an RFC 3339 timestamp"
    days = (expires.date() - on).days
    if days < 0:
        return f"expired on {expires.date()} (today is {on}): remove or rotate it"
    if days > MAX_DAYS:
        return f"expires {expires.date()}, {days} days after {on} (at most {MAX_DAYS})"
    return None


class ApplicationCredentialExpires(ResourceCheck):
    ID = "CKV_GDPR_15"

    def judge(self, scope: Scope) -> Verdict:
        for key in ("unrestricted", "expires_at"):
            value = attr(scope.conf, key)
            if isinstance(value, Unresolved):
                return unknown(f"{key} is {value}")
        why = expiry_problem(scope.conf, today())
        return fail(why) if why else PASS


check = ApplicationCredentialExpires()
