"""CKV_GDPR_27: SSH logins to an instance are individual and end on their date.

An instance must declare `logins` (metadata ssb_measures), and the cloud-config its
user_data names must give it only logins that end:

- every account of `users` other than the image's default user has an `expiredate` (PAM refuses
  the account from that day), not past and at most MAX_DAYS + 1 days after the scan's day, no
  password and no `ssh_authorized_keys` of its own: its keys are the lines of a root-owned
  `/etc/ssh/authorized_keys.d/<account>`, each with OpenSSH's `expiry-time` no later than the
  account's `expiredate`;
- sshd reads keys from that directory (an sshd_config.d drop-in naming it in
  AuthorizedKeysFile) and takes no passwords;
- the default user, which cloud-init gives the OpenStack key pair, is dated
  (`usermod --expiredate DAY`, within the window) or expired (`usermod --expiredate 1`) by the
  first boot: a break-glass login of one holder, or none.

A passed finding lists each login with its end date (the report lists them per person). What
this proves: the instance is created with these logins and dates. What it does not: that the
holder of a key is the person named (the spec says so), or what a running instance created
from an older configuration has (the report's deployed-versus-spec section).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from generator.evidence.check import ResourceCheck, Verdict, fail, passed, unknown
from generator.evidence.day import scan_date
from generator.evidence.scope import Scope
from generator.evidence.userdata import (
    NotRead,
    declares_measures,
    gives_login,
    instance_cloud_config,
    measures_of,
    user_data,
)
from generator.evidence.values import MISSING, Unresolved, attr

MEASURE = "logins"
MAX_DAYS = 366
KEYS_DIR = "/etc/ssh/authorized_keys.d/"
_EXPIRY = re.compile(r'^expiry-time="(?P<day>[0-9]{8})(?:[0-9]{4,6})?"\s+\S+\s+\S+')
_KEYS_FILE = re.compile(r"^\s*AuthorizedKeysFile\s+(?P<files>.+)$", re.M | re.I)
_PASSWORDS = re.compile(r"^\s*PasswordAuthentication\s+no\s*$", re.M | re.I)
_PASSWORD_KEYS = ("passwd", "hashed_passwd", "plain_text_passwd")


def _day(text: Any) -> dt.date | None:
    try:
        if isinstance(text, dt.date):
            return text
        return dt.date.fromisoformat(str(text))
    except ValueError:
        return None


def _files(doc: dict[str, Any]) -> dict[str, str]:
    return {str(f.get("path", "")): str(f.get("content") or "")
            for f in doc.get("write_files") or [] if isinstance(f, dict)}


def _default_user_until(doc: dict[str, Any], accounts: set[str]) -> tuple[str | None, str]:
    """(the default user's name, "locked" or its first refused day) from the first-boot
    commands, or (None, why not)."""
    found = []
    for command in doc.get("runcmd") or []:
        if isinstance(command, list) and len(command) == 4 and command[:2] == [
                "usermod", "--expiredate"] and command[3] not in accounts:
            found.append((str(command[3]), str(command[2])))
    if len(found) != 1:
        return None, ("no first-boot command dates or locks the image's default user (the "
                      "OpenStack key pair's login)" if not found else
                      "more than one default user is dated")
    return found[0]


def login_problems(doc: dict[str, Any], on: dt.date) -> tuple[list[str], list[str]]:
    """(problems, the logins as a reader lists them) of a cloud-config."""
    problems: list[str] = []
    listed: list[str] = []
    latest = on + dt.timedelta(days=MAX_DAYS + 1)
    files = _files(doc)
    sshd = "\n".join(text for path, text in files.items()
                     if path.startswith("/etc/ssh/sshd_config.d/"))
    keys_files = _KEYS_FILE.search(sshd)
    if not keys_files or f"{KEYS_DIR}%u" not in keys_files.group("files").split():
        problems.append(f"sshd does not read keys from {KEYS_DIR}%u (no sshd_config.d drop-in "
                        "naming it in AuthorizedKeysFile)")
    if doc.get("ssh_pwauth") is not False and not _PASSWORDS.search(sshd):
        problems.append("sshd may take passwords (ssh_pwauth is not false)")
    users = doc.get("users")
    if users is None:
        users = ["default"]
    if not isinstance(users, list):
        return [*problems, "users is not a list"], listed
    accounts = {str(u.get("name")) for u in users if isinstance(u, dict)}
    for user in users:
        if user == "default":
            continue
        if not isinstance(user, dict) or not isinstance(user.get("name"), str):
            problems.append(f"an account that is not a mapping with a name: {user!r}"[:120])
            continue
        name = user["name"]
        ends = _day(user.get("expiredate"))
        if ends is None:
            problems.append(f"account {name} has no expiredate: it never ends")
            continue
        if ends <= on:
            problems.append(f"account {name} ended on {ends - dt.timedelta(days=1)} (today is "
                            f"{on}): remove it")
        elif ends > latest:
            problems.append(f"account {name} runs until {ends - dt.timedelta(days=1)}, more "
                            f"than {MAX_DAYS} days after {on}")
        if any(k in user for k in _PASSWORD_KEYS) or user.get("lock_passwd") is False:
            problems.append(f"account {name} has a password")
        if user.get("ssh_authorized_keys") or user.get("ssh_import_id"):
            problems.append(f"account {name} gets keys without an end date (ssh_authorized_keys)")
        lines = [line for line in files.get(f"{KEYS_DIR}{name}", "").splitlines() if line.strip()]
        if not lines:
            problems.append(f"account {name} has no key in {KEYS_DIR}{name}")
        for line in lines:
            match = _EXPIRY.match(line)
            key_day = dt.datetime.strptime(match.group("day"), "%Y%m%d").date() if match else None
            if key_day is None or key_day > ends:
                problems.append(f"a key of {name} has no expiry-time on or before its account's "
                                f"end ({ends})")
        sudo = " with sudo" if user.get("sudo") not in (None, False) else ""
        listed.append(f"{name}: last day {ends - dt.timedelta(days=1)}{sudo}")
    user, until = _default_user_until(doc, accounts)
    if user is None:
        problems.append(until)
    elif until == "1":
        listed.append(f"{user} (the OpenStack key pair): locked")
    else:
        day = _day(until)
        if day is None or day <= on or day > latest:
            problems.append(f"the default user {user} (the OpenStack key pair) is dated {until}, "
                            f"not within {MAX_DAYS} days of {on}")
        else:
            listed.append(f"{user} (the OpenStack key pair, break glass): last day "
                          f"{day - dt.timedelta(days=1)} with sudo")
    return problems, listed


class InstanceLogins(ResourceCheck):
    ID = "CKV_GDPR_27"

    def judge(self, scope: Scope) -> Verdict:
        measures = measures_of(scope.conf)
        if isinstance(measures, Unresolved):
            return unknown(f"ssb_measures is {measures}")
        if MEASURE not in measures:
            gives = self._gives_login(scope) if not declares_measures(scope.conf) else True
            if isinstance(gives, str):
                return unknown(f"its user_data cannot be read ({gives}), so whether it gives anyone "
                               f"a login is not known: declare {MEASURE} in metadata ssb_measures "
                               "and give each person an account that ends in its cloud-config")
            if not gives:
                # No key pair or password, and user data (if any) that makes no account and sets
                # no key: the code gives nobody a login; who logs in (an image's own accounts,
                # the platform's, a configuration tool) it does not say.
                return unknown("the code sets up no login on it (no key_pair or admin_pass, and "
                               "no account, key or password in its user_data): if "
                               "people log in through the image or another tool, declare "
                               f"{MEASURE} in metadata ssb_measures and give each person an "
                               "account that ends in its cloud-config user_data")
            return fail(f"its metadata ssb_measures does not declare {MEASURE}: nothing shows "
                        "that its logins are individual and end")
        doc = instance_cloud_config(scope)
        if isinstance(doc, NotRead):
            return unknown(doc)
        if isinstance(doc, str):
            return fail(doc)
        problems, listed = login_problems(doc, scan_date())
        if problems:
            return fail(*problems)
        # A pass lists each login with its last day (the report lists them per person).
        return passed(*listed)

    @staticmethod
    def _gives_login(scope: Scope) -> bool | str:
        """Whether the code gives anyone a login on the instance, or why its user data cannot
        tell."""
        if any(attr(scope.conf, a) not in (MISSING, "", None) for a in ("key_pair", "admin_pass")):
            return True
        if attr(scope.conf, "user_data") in (MISSING, "", None):
            return False
        found = user_data(scope)
        if found is None:
            return False
        if isinstance(found, NotRead):
            return str(found)
        gives = gives_login(found)
        return "its cloud-config is not valid YAML" if gives is None else gives


check = InstanceLogins()
