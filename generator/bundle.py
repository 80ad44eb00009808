"""The evidence bundle: one file an auditor can keep, holding what a compliance statement rests
on (Art. 5(2), Art. 30(1)(g)), and a check that it is still what was handed over.

A bundle is a gzip-compressed tar (readable with `tar xzf`, no tool of ours needed) holding the
members below and `MANIFEST.json`, which names every member with its SHA-256 and size, the
generator's version and the bundle's date. Where the user has an SSH key, `MANIFEST.json.sig` is
an `ssh-keygen -Y sign` signature of the manifest (namespace `safespring-blueprints-bundle`), the
same mechanism teams use to sign git commits; the manifest's hashes tie every member to it.

`verify` reads the bundle without extracting it, refuses anything but plain files with plain
names, and names each member that is missing, unlisted or changed; with an allowed-signers file
it checks who signed, and given the blueprint directory it names the files changed since.

The hash chain is only as strong as the signature: an unsigned bundle shows accidental change,
not a deliberate rewrite of bundle and manifest together. `verify` says which of the two it is.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import io
import json
import os
import subprocess
import tarfile
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from generator import __version__

FORMAT = "safespring-blueprints-bundle/1"
NAMESPACE = "safespring-blueprints-bundle"
"""The `ssh-keygen -Y` namespace: a signature made for a bundle is not valid for anything else."""
MANIFEST_NAME = "MANIFEST.json"
SIGNATURE_NAME = "MANIFEST.json.sig"
MAX_MEMBER_BYTES = 256 * 1024 * 1024
"""A member larger than this is refused when verifying (a bundle is documents, not data)."""

# Never in a bundle: state (it holds secrets in clear), credentials, keys, Terraform's caches.
_NEVER = (".terraform", "terraform.tfstate", "terraform.tfstate.backup", "clouds.yaml",
          "secure.yaml")
_NEVER_SUFFIXES = (".tfstate", ".tfvars", ".tfvars.json", ".pem", ".key", ".tfplan")


class BundleError(Exception):
    """The bundle cannot be written or read (the message says why)."""


@dataclass(frozen=True)
class Member:
    """One file of the bundle: its name inside the bundle, its bytes, and what it is."""

    name: str
    data: bytes
    what: str


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _excluded(relative: PurePosixPath) -> bool:
    return (any(part in _NEVER for part in relative.parts)
            or relative.name.endswith(_NEVER_SUFFIXES) or ".tfstate." in relative.name)


def blueprint_files(directory: Path) -> dict[str, str]:
    """SHA-256 of every file of the blueprint as it is on disk, by POSIX path; state, credentials,
    keys and `.terraform/` are left out (their names would be the only thing worth keeping)."""
    out: dict[str, str] = {}
    for path in sorted(directory.rglob("*")):
        relative = PurePosixPath(path.relative_to(directory).as_posix())
        if path.is_file() and not path.is_symlink() and not _excluded(relative):
            out[str(relative)] = _sha256(path.read_bytes())
    return out


def blueprint_member(directory: Path) -> Member:
    """What the blueprint was when the bundle was made: its files' hashes, and which of them
    differ from what the generator wrote (edited) or were added by hand, from its manifest."""
    from generator.write import MANIFEST, read_manifest

    files = blueprint_files(directory)
    recorded = read_manifest(directory) or {}
    generated = recorded.get("files") if isinstance(recorded.get("files"), dict) else {}
    doc = {
        "generator_version": recorded.get("version"),
        "spec": recorded.get("spec"),
        "files": files,
        "edited_since_generated": sorted(p for p, h in generated.items()
                                         if p in files and files[p] != h),
        "missing_since_generated": sorted(p for p in generated if p not in files),
        "added_by_hand": sorted(p for p in files if p not in generated and p != MANIFEST),
    }
    return Member("blueprint/files.json", _json(doc), "the blueprint's files and their SHA-256")


def _json(doc: object) -> bytes:
    return (json.dumps(doc, indent=2, sort_keys=True) + "\n").encode("utf-8")


def manifest(members: Iterable[Member], created: dt.datetime) -> bytes:
    """The bundle's table of contents: every member's SHA-256, size and meaning."""
    return _json({
        "format": FORMAT,
        "generator": {"name": "safespring-blueprints", "version": __version__},
        "created": created.astimezone(dt.UTC).replace(microsecond=0).isoformat(),
        "members": {m.name: {"sha256": _sha256(m.data), "size": len(m.data), "what": m.what}
                    for m in sorted(members, key=lambda m: m.name)},
    })


def _check_name(name: str) -> None:
    path = PurePosixPath(name)
    if (not name or path.is_absolute() or ".." in path.parts or str(path) != name
            or name in (MANIFEST_NAME, SIGNATURE_NAME)):
        raise BundleError(f"not a member name: {name!r}")


def sign(data: bytes, key: Path) -> bytes:
    """An `ssh-keygen -Y sign` signature of `data` with the private key `key` (an agent's key
    works through its public half, as with git)."""
    with tempfile.TemporaryDirectory(prefix="ssb-sign-") as tmp:
        target = Path(tmp) / MANIFEST_NAME
        target.write_bytes(data)
        proc = _ssh_keygen(["-Y", "sign", "-f", str(key), "-n", NAMESPACE, str(target)])
        signature = target.with_name(SIGNATURE_NAME)
        if proc.returncode != 0 or not signature.is_file():
            raise BundleError(f"ssh-keygen could not sign with {key}: {proc.stderr.strip()}")
        return signature.read_bytes()


def _ssh_keygen(args: list[str], stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    try:
        proc = subprocess.run(["ssh-keygen", *args], input=stdin, capture_output=True, check=False,
                              timeout=120)
    except FileNotFoundError:
        raise BundleError("ssh-keygen is not installed (OpenSSH's client: the Debian package "
                          "openssh-client); it signs and checks bundles") from None
    return subprocess.CompletedProcess(proc.args, proc.returncode,
                                       proc.stdout.decode("utf-8", "replace"),
                                       proc.stderr.decode("utf-8", "replace"))


def write(path: Path, members: Iterable[Member], *, created: dt.datetime,
          sign_key: Path | None = None) -> str:
    """Write the bundle to `path` (atomically: a failure leaves any earlier file as it was) and
    return the manifest's SHA-256. The same members and date give the same bytes."""
    members = sorted(members, key=lambda m: m.name)
    names = [m.name for m in members]
    for name in names:
        _check_name(name)
    if len(set(names)) != len(names):
        raise BundleError("two members share a name")
    index = manifest(members, created)
    extra = [Member(MANIFEST_NAME, index, "")]
    if sign_key is not None:
        extra.append(Member(SIGNATURE_NAME, sign(index, sign_key), ""))
    mtime = int(created.timestamp())
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for member in [*extra, *members]:
            info = tarfile.TarInfo(member.name)
            info.size, info.mtime, info.mode = len(member.data), mtime, 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(member.data))
    compressed = io.BytesIO()
    with gzip.GzipFile(fileobj=compressed, mode="wb", mtime=0, filename="") as gz:
        gz.write(raw.getvalue())
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(compressed.getvalue())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return _sha256(index)


@dataclass
class Verification:
    """What `verify` found: problems make the bundle untrustworthy; notes say what was (not)
    checked, so a pass never claims more than was shown."""

    manifest_sha256: str = ""
    created: str = ""
    version: str = ""
    members: int = 0
    signed: bool = False
    signer: str = ""
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def read(path: Path) -> dict[str, bytes]:
    """Every member of the bundle by name; refuses links, devices, odd names and duplicates."""
    out: dict[str, bytes] = {}
    try:
        with tarfile.open(path, mode="r:gz") as tar:
            for info in tar:
                if not info.isreg():
                    raise BundleError(f"{path}: {info.name!r} is not a plain file")
                if info.name not in (MANIFEST_NAME, SIGNATURE_NAME):
                    _check_name(info.name)
                if info.name in out:
                    raise BundleError(f"{path}: {info.name!r} appears twice")
                if info.size > MAX_MEMBER_BYTES:
                    raise BundleError(f"{path}: {info.name!r} is larger than a bundle member may be")
                handle = tar.extractfile(info)
                out[info.name] = handle.read() if handle else b""
    except (tarfile.TarError, OSError, EOFError, gzip.BadGzipFile) as exc:
        raise BundleError(f"{path}: not a readable bundle ({exc})") from None
    return out


def verify(path: Path, *, allowed_signers: Path | None = None, identity: str | None = None,
           blueprint: Path | None = None) -> Verification:
    """Check a bundle: every member against the manifest, the signature when there is one (and
    who made it, given an allowed-signers file), and the blueprint directory against the
    hashes it recorded."""
    result = Verification()
    members = read(Path(path))
    index = members.pop(MANIFEST_NAME, None)
    if index is None:
        raise BundleError(f"{path}: no {MANIFEST_NAME}: not a safespring-blueprints bundle")
    try:
        doc = json.loads(index)
        listed: Mapping[str, Mapping[str, object]] = doc["members"]
        assert doc.get("format") == FORMAT
    except (ValueError, KeyError, TypeError, AssertionError):
        raise BundleError(f"{path}: {MANIFEST_NAME} is not a bundle manifest ({FORMAT})") from None
    result.manifest_sha256 = _sha256(index)
    result.created = str(doc.get("created", ""))
    result.version = str((doc.get("generator") or {}).get("version", ""))
    signature = members.pop(SIGNATURE_NAME, None)
    result.members = len(listed)
    for name, entry in sorted(listed.items()):
        data = members.get(name)
        if data is None:
            result.problems.append(f"{name}: listed in the manifest but missing")
        elif _sha256(data) != entry.get("sha256"):
            result.problems.append(f"{name}: changed (its SHA-256 is not the manifest's)")
    for name in sorted(set(members) - set(listed)):
        result.problems.append(f"{name}: in the bundle but not in the manifest")
    _verify_signature(result, index, signature, allowed_signers, identity)
    for name, data in sorted(members.items()):
        if name.startswith("record/") and name in listed:
            from generator import record

            chain = record.verify(data)
            result.problems += [f"{name}: {problem}" for problem in chain.problems]
            result.notes += [f"{name}: {note}" for note in chain.notes]
    if blueprint is not None:
        _compare_blueprint(result, members.get("blueprint/files.json"), Path(blueprint))
    return result


def _verify_signature(result: Verification, index: bytes, signature: bytes | None,
                      allowed_signers: Path | None, identity: str | None) -> None:
    if signature is None:
        result.notes.append("unsigned: the hashes show accidental change only; anyone can rewrite "
                            "an unsigned bundle and its manifest together")
        return
    result.signed = True
    with tempfile.TemporaryDirectory(prefix="ssb-verify-") as tmp:
        sig = Path(tmp) / SIGNATURE_NAME
        sig.write_bytes(signature)
        if allowed_signers is None:
            proc = _ssh_keygen(["-Y", "check-novalidate", "-n", NAMESPACE, "-s", str(sig)], index)
            if proc.returncode != 0:
                result.problems.append("the signature does not match the manifest")
            else:
                result.notes.append("the signature matches the manifest, but who signed was not "
                                    "checked: give an allowed-signers file to check the signer")
            return
        if identity is None:
            proc = _ssh_keygen(["-Y", "find-principals", "-f", str(allowed_signers), "-s", str(sig)])
            principals = proc.stdout.split()
            if proc.returncode != 0 or not principals:
                result.problems.append(f"no key in {allowed_signers} made the signature")
                return
            identity = principals[0]
        proc = _ssh_keygen(["-Y", "verify", "-f", str(allowed_signers), "-I", identity,
                            "-n", NAMESPACE, "-s", str(sig)], index)
        if proc.returncode != 0:
            result.problems.append(f"the signature is not a valid signature by {identity} "
                                   f"({proc.stderr.strip() or proc.stdout.strip()})")
        else:
            result.signer = identity


def _compare_blueprint(result: Verification, recorded: bytes | None, directory: Path) -> None:
    if recorded is None:
        result.problems.append("the bundle holds no blueprint/files.json to compare with")
        return
    then = json.loads(recorded).get("files", {})
    now = blueprint_files(directory)
    for name in sorted(set(then) | set(now)):
        if name not in now:
            result.problems.append(f"blueprint: {name} was removed since the bundle was made")
        elif name not in then:
            result.problems.append(f"blueprint: {name} was added since the bundle was made")
        elif then[name] != now[name]:
            result.problems.append(f"blueprint: {name} changed since the bundle was made")
