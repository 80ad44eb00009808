"""`clevis` for machines without the kernel's device-mapper (dm-crypt), used by the tests.

Every clevis sub-command runs the real clevis, except `clevis luks unlock -d DEV -n NAME`,
which needs device-mapper to create /dev/mapper/NAME. Instead it:

1. recovers each Clevis key slot's passphrase from the real Tang server(s) with the real
   `clevis luks pass`, and proves it with `cryptsetup open --test-passphrase` (exactly the
   Tang round trip and LUKS key check an unlock performs, minus creating the mapping), then
2. stands in for the mapping with a loop device over the LUKS data segment (same offset and
   size, but NOT decrypted: filesystem data lands there in plaintext), linked as
   $SSB_MAPPER_DIR/NAME, so that mkfs, blkid and mount run for real on it.

So everything up to the dm-crypt mapping itself is real; only the encryption of data blocks is
not exercised. It exits 1 like clevis when no slot can be unlocked (e.g. Tang unreachable).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys


def fail(message: str) -> None:
    print(f"fake-dm clevis: {message}", file=sys.stderr)
    sys.exit(1)


def unlock(device: str, name: str) -> None:
    listed = subprocess.run(
        ["clevis", "luks", "list", "-d", device], capture_output=True, text=True, check=False
    )
    slots = [line.split(":", 1)[0] for line in listed.stdout.splitlines() if ":" in line]
    for slot in slots:
        passphrase = subprocess.run(
            ["clevis", "luks", "pass", "-d", device, "-s", slot], capture_output=True, check=False
        )
        if passphrase.returncode != 0 or not passphrase.stdout:
            continue
        test = subprocess.run(
            [
                "cryptsetup",
                "open",
                "--test-passphrase",
                "--key-slot",
                slot,
                "--key-file",
                "-",
                device,
            ],
            input=passphrase.stdout,
            capture_output=True,
            check=False,
        )
        if test.returncode == 0:
            break
    else:
        fail(f"no clevis slot of {device} could be unlocked (Tang unreachable?)")

    meta = json.loads(
        subprocess.run(
            ["cryptsetup", "luksDump", "--dump-json-metadata", device],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    offset = int(meta["segments"]["0"]["offset"])
    loop = subprocess.run(
        ["losetup", "--find", "--show", "--offset", str(offset), device],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    os.symlink(loop, os.path.join(os.environ["SSB_MAPPER_DIR"], name))


def main(argv: list[str]) -> None:
    if argv[:2] == ["luks", "unlock"]:
        args = dict(zip(argv[2::2], argv[3::2], strict=False))
        if set(args) != {"-d", "-n"}:
            fail(f"unexpected arguments {argv}")
        unlock(args["-d"], args["-n"])
        return
    os.execvp("clevis", ["clevis", *argv])


if __name__ == "__main__":
    main(sys.argv[1:])
