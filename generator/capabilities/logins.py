"""Individual, expiring logins on every instance group (generator/guest/logins.py).

Who may log in where is decided by the role: admins on every group, with sudo (the log
collector and the egress proxy included); members on the spec's own groups, without sudo;
readers nowhere. The OpenStack key pair is the break-glass login: dated by `break_glass`, or
locked when the spec declares none.
"""

from __future__ import annotations

from generator.guest.logins import Login, logins_config
from generator.platform import platform
from generator.render.cloudinit import GuestFile, Part
from generator.spec.model import InstanceGroup, Spec

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
