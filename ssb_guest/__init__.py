"""The programs safespring-blueprints installs inside instances, and their systemd units.

They are a product of their own: the generator only copies them into each instance group's
cloud-init (write_files), with every deployment-specific value in a separate JSON
configuration file. What they must honour, because they run on images we do not build:

- Python standard library, and the oldest Python of a supported guest image: 3.10
  (Ubuntu 22.04). The one library beyond it is botocore (python3-botocore, in Debian and
  Ubuntu), ssb-backup's S3 client: the maintained implementation of request signing and
  retries, not a hand-written one. `tests/ssb_guest/test_compatibility.py` holds them to
  Python 3.10 statically (vermin) and by compiling them with the interpreter's 3.10 grammar.
- Idempotent and restartable: systemd runs them at every boot and retries until what they
  depend on (Tang, the S3 endpoint) answers; none of them may destroy data on a retry.
- Proven in a real guest: tests/vm boots the generated user data in QEMU (first boot, reboot,
  Tang outages, a replacement instance) besides the unit tests on loop devices.

See README.md next to this file for each program and unit.
"""

from __future__ import annotations

from importlib import resources

# Installed path in the guest -> (file in this package, mode). One table, read by the generator.
PROGRAMS: dict[str, tuple[str, str]] = {
    "/usr/local/sbin/ssb-luks-tang": ("luks_tang.py", "0755"),
    "/usr/local/sbin/ssb-backup": ("backup.py", "0755"),
    "/usr/local/sbin/ssb-backup-check": ("bin/ssb-backup-check", "0755"),
    "/usr/local/sbin/ssb-backup-credentials": ("bin/ssb-backup-credentials", "0755"),
    "/usr/local/sbin/ssb-restore": ("bin/ssb-restore", "0755"),
    "/usr/local/sbin/ssb-log-pki": ("log_pki.sh", "0755"),
    "/usr/local/sbin/ssb-log-store": ("log_store.py", "0755"),
    "/usr/local/sbin/ssb-log-renewal": ("log_renewal.py", "0755"),
    "/usr/local/sbin/ssb-egress-proxy": ("egress_proxy.py", "0755"),
    "/usr/local/sbin/ssb-verify": ("verify.py", "0755"),
    "/usr/local/sbin/ssb-evidence": ("evidence.py", "0755"),
}


def read(name: str) -> str:
    """The text of a program or unit shipped in this package (`units/ssb-volumes.service`)."""
    return resources.files(__name__).joinpath(name).read_text("utf-8")


def program(path: str) -> tuple[str, str, str]:
    """(installed path, text, mode) of the program installed at `path` in the guest."""
    name, mode = PROGRAMS[path]
    return path, read(name), mode
