"""Individual, expiring SSH logins: the guest side of `access[].ssh_key` and `break_glass`.

Safespring's GDPR page asks for individual accounts, removed when people leave, and timed
permissions (Art. 5(1)(f), 32(1)(b)). On every instance this writes:

- one account per person with an instance login (cloud-config `users`), whose account expiry
  (`expiredate`, shadow) is the day after their access ends: from that day PAM refuses every
  login to it, whatever key is used. No password (locked), sudo for admins only.
- their key in a root-owned file `/etc/ssh/authorized_keys.d/<name>` with OpenSSH's
  `expiry-time` option set to the same day: sshd refuses the key from then on, too. The person
  cannot edit that file. sshd reads keys from it first (an sshd_config.d drop-in), then from
  `~/.ssh/authorized_keys`, where cloud-init puts the OpenStack key pair for the image's
  default user.
- the image's default user (the OpenStack key pair's login) expires the day after
  `break_glass.expires`, or is expired at once when the spec declares no break glass: a key pair
  given anyway logs in nowhere.

Who may log in where is decided by the role (``logins``): admins on every group, with sudo
(the log collector and the egress proxy included); members on the spec's own groups, without
sudo; readers nowhere.

Pure: text and argv lists out. The account names are access names (checked by the spec rules
to be usable as accounts); keys are re-assembled from their type and base64 only (the
comment a spec gives is replaced by the account name), so nothing from the spec can add an
option or a second line.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from generator.platform import platform
from generator.render.cloudinit import GuestFile, Part
from generator.spec.model import InstanceGroup, Spec

MEASURE = "logins"
KEYS_DIR = "/etc/ssh/authorized_keys.d"
SSHD_DROPIN = "/etc/ssh/sshd_config.d/60-safespring-blueprints-logins.conf"
# `usermod --expiredate 1`: 1970-01-02, long past: the account is expired (PAM refuses it).
EXPIRED = "1"


@dataclass(frozen=True)
class Login:
    """One person's login on this group: account name, role, last day, public key line."""

    name: str
    role: str  # admin (sudo) | member
    expires: str  # last day the login works (YYYY-MM-DD)
    ssh_key: str


@dataclass(frozen=True)
class LoginsConfig:
    """What the logins add to a group's cloud-config."""

    files: tuple[tuple[str, str, str], ...]
    commands: tuple[tuple[str, ...], ...]
    users: tuple[object, ...]  # cloud-config `users`: "default", then one mapping per person
    measures: tuple[str, ...] = (MEASURE,)


def day_after(day: str) -> dt.date:
    """The first day a login ending on `day` is refused."""
    return dt.date.fromisoformat(day) + dt.timedelta(days=1)


def key_line(login: Login) -> str:
    """The authorized_keys line: the end date as an option, the key, the account as comment."""
    kind, blob = login.ssh_key.split()[:2]
    return f'expiry-time="{day_after(login.expires):%Y%m%d}" {kind} {blob} {login.name}\n'


SSHD_CONF = (
    "# Individual logins (safespring-blueprints): each person's key is read from a root-owned\n"
    f"# file in {KEYS_DIR}/, with its end date (expiry-time); the image's default user (the\n"
    "# OpenStack key pair, a dated break-glass login or locked) keeps ~/.ssh/authorized_keys.\n"
    f"AuthorizedKeysFile {KEYS_DIR}/%u .ssh/authorized_keys\n"
    "PasswordAuthentication no\n"
    "PermitRootLogin no\n"
)


def logins_config(logins: Sequence[Login], default_user: str,
                  break_glass_expires: str | None) -> LoginsConfig:
    """Accounts, keys and the default user's end date for one instance group."""
    users: list[object] = ["default"]
    files = [(SSHD_DROPIN, SSHD_CONF, "0644")]
    for login in sorted(logins, key=lambda x: x.name):
        entry: dict[str, object] = {
            "name": login.name,
            "gecos": f"{login.name}, {login.role} until {login.expires} (safespring-blueprints)",
            "expiredate": day_after(login.expires).isoformat(),
            "lock_passwd": True,
            "shell": "/bin/bash",
        }
        if login.role == "admin":
            entry["sudo"] = "ALL=(ALL) NOPASSWD:ALL"
        users.append(entry)
        files.append((f"{KEYS_DIR}/{login.name}", key_line(login), "0644"))
    until = day_after(break_glass_expires).isoformat() if break_glass_expires else EXPIRED
    commands = (
        ("usermod", "--expiredate", until, default_user),
        ("systemctl", "try-reload-or-restart", "ssh.service", "sshd.service"),
    )
    return LoginsConfig(files=tuple(files), commands=commands, users=tuple(users))


# ---------------------------------------------------------------------------------------------
# The feature: who logs in to which group, and the group's cloud-init part.

ORDER = 5  # right after the baseline (keys only, no root)


def logins(spec: Spec, group: InstanceGroup) -> tuple[Login, ...]:
    """The persons who log in to this group: none on an image the guest configuration is not
    written for (their accounts are not created there)."""
    if group.image not in platform().guest_images:
        return ()
    own = any(g.name == group.name for g in spec.instances)
    return tuple(Login(name=a.name, role=a.role, expires=a.expires, ssh_key=a.ssh_key or "")
                 for a in spec.access
                 if a.logs_in and (a.role == "admin" or own))


def parts(spec: Spec, group: InstanceGroup) -> list[Part]:
    """Accounts, dated keys and the default user's end date (none on images whose default
    user is not known, e.g. Windows: such a group gets no individual logins at all)."""
    default_user = platform().default_users.get(group.image)
    if default_user is None:
        return []
    config = logins_config(logins(spec, group), default_user,
                           spec.break_glass.expires if spec.break_glass else None)
    return [Part(measure="logins", order=ORDER,
                 files=tuple(GuestFile(path, content, mode)
                             for path, content, mode in config.files),
                 commands=config.commands, settings={"users": list(config.users)},
                 evidence=config.measures)]
