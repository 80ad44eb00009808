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

import functools
import io
import tokenize
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


# A program's generator side: the builder of the configuration file it reads, written next to
# the loader that reads it, so the file's keys are spelled in one module and the generator
# imports them from here (tests/ssb_guest/test_config_contract.py feeds every generated file to
# the loader). The guest never calls it, so it is not installed: the lines from a
# GENERATOR_SIDE comment line to an END_GENERATOR_SIDE one go with the comment lines (Nova's
# 64 KiB of user data). Nothing installed may use a name defined there (the contract test
# checks it).
GENERATOR_SIDE = "# generator side: not installed"
END_GENERATOR_SIDE = "# end of generator side"


def _generator_side(comments: list[tokenize.TokenInfo], name: str) -> set[int]:
    """The line numbers of the generator-side blocks, markers included."""
    lines: set[int] = set()
    begin = None
    for tok in comments:
        if tok.start[1] != 0 or tok.string not in (GENERATOR_SIDE, END_GENERATOR_SIDE):
            continue
        if (tok.string == GENERATOR_SIDE) != (begin is None):
            raise ValueError(f"{name}: unbalanced generator-side markers (line {tok.start[0]})")
        if begin is None:
            begin = tok.start[0]
        else:
            lines.update(range(begin, tok.start[0] + 1))
            begin = None
    if begin is not None:
        raise ValueError(f"{name}: generator side from line {begin} is never ended")
    return lines


def without_comment_lines(source: str, name: str) -> str:
    """A Python program without its comment-only lines and its generator side, as installed.

    Nova takes at most 64 KiB of user data, gzipped and base64-encoded, and the group with the
    most measures carries four of these programs. Only whole comment lines go (found by the
    tokenizer, so never a line inside a string), and the generator-side blocks; the code, its
    docstrings and line-end comments stay as written, and a header line says where the
    commented source is.
    """
    comments = [tok for tok in tokenize.generate_tokens(io.StringIO(source).readline)
                if tok.type == tokenize.COMMENT]
    drop = {tok.start[0] for tok in comments
            if tok.start[0] > 1 and not tok.line[:tok.start[1]].strip()}
    drop |= _generator_side(comments, name)
    lines = [line for number, line in enumerate(source.splitlines(keepends=True), 1)
             if number not in drop]
    header = (f"# Installed by safespring-blueprints from ssb_guest/{name}; the comment lines "
              "and the generator side of that source are left out here.\n")
    return "".join([*lines[:1], header, *lines[1:]])


@functools.cache
def _installed_text(name: str) -> str:
    """Package data does not change while the generator runs: tokenize each program once,
    not once per instance group (40 ms for ssb-backup alone)."""
    text = read(name)
    return without_comment_lines(text, name) if name.endswith(".py") else text


def program(path: str) -> tuple[str, str, str]:
    """(installed path, text, mode) of the program installed at `path` in the guest."""
    name, mode = PROGRAMS[path]
    return path, _installed_text(name), mode
