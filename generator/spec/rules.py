"""Semantic and GDPR rules of spec v1 ("Rules the generator enforces before writing anything").

Each rule is a small function that yields located problems. Rules read the defaulted data
defensively (a part that already failed the schema is skipped, not crashed on), so one run
reports every problem at once.
"""

from __future__ import annotations

import datetime as dt
import difflib
import ipaddress
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from generator.platform import Platform, platform
from generator.spec.errors import Path, Problem
from generator.spec.load import Positions
from generator.spec.model import COLLECTOR_GROUP, EGRESS_GROUP

# GDPR provisions, numbered as the regulation numbers them (shared/reference/GDPR.md).
ART_ENCRYPTION = "GDPR Art. 32(1)(a)"
ART_CONFIDENTIALITY = "GDPR Art. 5(1)(f), 32(1)(b)"
ART_RESILIENCE = "GDPR Art. 32(1)(b)"
ART_RESTORE = "GDPR Art. 32(1)(c)"
ART_BY_DEFAULT = "GDPR Art. 25(2)"
ART_STORAGE_LIMITATION = "GDPR Art. 5(1)(e)"
ART_SPECIAL = "GDPR Art. 9"

RESERVED_PORTS = {22: "SSH", 80: "the TLS proxy's HTTP port", 443: "the TLS proxy"}


@dataclass(frozen=True)
class Context:
    """What a rule may look at besides the spec."""

    today: dt.date
    positions: Positions
    platform: Platform

    def problem(self, path: Path, message: str, article: str | None = None,
                *, key: bool = False, at: Path | None = None) -> Problem:
        """A problem about `path`, located at `at` when the path itself is absent."""
        line, column = self.positions.of(at if at is not None else path, key=key)
        return Problem(line, column, path, message, article)


Rule = Callable[[dict[str, Any], Context], Iterator[Problem]]
RULES: list[Rule] = []


def rule(fn: Rule) -> Rule:
    """Register a rule; order does not matter (problems are sorted by position)."""
    RULES.append(fn)
    return fn


def check(data: dict[str, Any], today: dt.date, positions: Positions, *,
          schema_failed: bool = False) -> list[Problem]:
    """Run every rule over schema-defaulted data.

    Rules are written for data of the right shape and guard against the common wrong shapes.
    When the schema has already rejected part of the spec, a rule that still trips over a
    wrong type is skipped: the schema's message names the problem, and that run reports it.
    """
    ctx = Context(today=today, positions=positions, platform=platform())
    problems: list[Problem] = []
    for fn in RULES:
        try:
            problems.extend(fn(data, ctx))
        except (TypeError, AttributeError, KeyError, ValueError, IndexError):
            if not schema_failed:
                raise
    return problems


def _entries(data: dict[str, Any], key: str) -> Iterator[tuple[int, dict[str, Any]]]:
    value = data.get(key)
    if isinstance(value, list):
        for i, item in enumerate(value):
            if isinstance(item, dict):
                yield i, item


def _personal(data: dict[str, Any]) -> bool:
    section = data.get("data")
    return not (isinstance(section, dict) and section.get("personal") is False)


def _date(value: Any) -> dt.date | None:
    if not isinstance(value, str):
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def _duplicates(items: list[tuple[Path, Any]], what: str, ctx: Context) -> Iterator[Problem]:
    seen: dict[Any, Path] = {}
    for path, value in items:
        if not isinstance(value, str):
            continue
        if value in seen:
            yield ctx.problem(path, f"duplicate {what} '{value}' (first used at "
                              f"line {ctx.positions.of(seen[value])[0]})")
        else:
            seen[value] = path


@rule
def unique_names(data: dict[str, Any], ctx: Context) -> Iterator[Problem]:
    """Names identify resources: instance groups, volumes, endpoints, buckets, access entries."""
    for key, what in (("instances", "instance group"), ("endpoints", "endpoint"),
                      ("buckets", "bucket"), ("access", "access entry")):
        yield from _duplicates([((key, i, "name"), e.get("name")) for i, e in _entries(data, key)],
                               what, ctx)
    yield from _duplicates([(("endpoints", i, "hostname"), e.get("hostname"))
                            for i, e in _entries(data, "endpoints")], "hostname", ctx)
    for i, group in _entries(data, "instances"):
        volumes = [((("instances", i, "volumes", j, "name")), v.get("name"))
                   for j, v in enumerate(group.get("volumes") or []) if isinstance(v, dict)]
        yield from _duplicates(volumes, "volume", ctx)
        names = [v.get("name") for v in group.get("volumes") or [] if isinstance(v, dict)]
        mounts = [((("instances", i, "volumes", j, "mountpoint")), _mountpoint(v))
                  for j, v in enumerate(group.get("volumes") or [])
                  if isinstance(v, dict) and names.count(v.get("name")) == 1]
        yield from _duplicates(mounts, "mountpoint", ctx)


def _mountpoint(volume: dict[str, Any]) -> Any:
    return volume.get("mountpoint") or f"/srv/{volume.get('name')}"


@rule
def ssh_sources(data: dict[str, Any], ctx: Context) -> Iterator[Problem]:
    """ssh_from must be real networks, never the whole internet."""
    for i, group in _entries(data, "instances"):
        for j, cidr in enumerate(group.get("ssh_from") or []):
            path = ("instances", i, "ssh_from", j)
            if not isinstance(cidr, str):
                continue
            try:
                network = ipaddress.ip_network(cidr, strict=False)
            except ValueError:
                yield ctx.problem(path, f"'{cidr}' is not a CIDR such as 192.0.2.0/24 or 2001:db8::/48")
                continue
            if str(network) != cidr and "/" in cidr:
                yield ctx.problem(path, f"'{cidr}' has host bits set; did you mean '{network}'?")
            elif "/" not in cidr:
                yield ctx.problem(path, f"'{cidr}' needs a prefix length, e.g. '{network}'")
            elif network.prefixlen == 0:
                yield ctx.problem(path, f"SSH may not be open to the whole internet ('{cidr}'); "
                                  "name the admin networks", ART_BY_DEFAULT)


@rule
def references(data: dict[str, Any], ctx: Context) -> Iterator[Problem]:
    """Endpoints and allow_from entries must name an instance group of this spec."""
    groups = [g.get("name") for _, g in _entries(data, "instances")]
    refs = [(("endpoints", i, "instance"), e.get("instance")) for i, e in _entries(data, "endpoints")]
    for i, group in _entries(data, "instances"):
        refs += [(("instances", i, "allow_from", j, "instance"), a.get("instance"))
                 for j, a in enumerate(group.get("allow_from") or []) if isinstance(a, dict)]
    for path, name in refs:
        if isinstance(name, str) and name not in groups:
            hint = difflib.get_close_matches(name, [g for g in groups if isinstance(g, str)], n=1)
            more = f" (did you mean '{hint[0]}'?)" if hint else ""
            yield ctx.problem(path, f"no instance group named '{name}'{more}")


@rule
def dates(data: dict[str, Any], ctx: Context) -> Iterator[Problem]:
    """Dates must exist; access must not have ended and must end within the allowed window."""
    paths: list[Path] = [("review_by",)] if "review_by" in data else []
    paths += [("access", i, "expires") for i, _ in _entries(data, "access")]
    if isinstance(data.get("break_glass"), dict) and "expires" in data["break_glass"]:
        paths.append(("break_glass", "expires"))
    limit = ctx.today + dt.timedelta(days=ctx.platform.max_access_days)
    for path in paths:
        raw = (data[path[0]] if len(path) == 1 else data["break_glass"]["expires"]
               if path[0] == "break_glass" else data["access"][path[1]].get("expires"))
        if not isinstance(raw, str):
            continue
        when = _date(raw)
        if when is None:
            yield ctx.problem(path, f"'{raw}' is not a date on the calendar")
        elif path[0] in ("access", "break_glass") and when < ctx.today:
            yield ctx.problem(path, f"access expired on {when} (today is {ctx.today}); remove the "
                              "entry or renew it", ART_CONFIDENTIALITY)
        elif path[0] in ("access", "break_glass") and when > limit:
            yield ctx.problem(path, f"access may run at most {ctx.platform.max_access_days} days, "
                              f"until {limit}; {when} is later", ART_CONFIDENTIALITY)


@rule
def volume_encryption(data: dict[str, Any], ctx: Context) -> Iterator[Problem]:
    """Personal data on volumes is encrypted inside the guest with keys the platform never holds."""
    for i, group in _entries(data, "instances"):
        for j, volume in enumerate(group.get("volumes") or []):
            if not isinstance(volume, dict):
                continue
            path = ("instances", i, "volumes", j, "encryption")
            if volume.get("encryption") == "none" and _personal(data):
                yield ctx.problem(path, "volumes holding personal data need encryption: luks-tang "
                                  "(the platform must never hold the key)", ART_ENCRYPTION)


@rule
def flavors(data: dict[str, Any], ctx: Context) -> Iterator[Problem]:
    """Personal data lives on b2 (central three-copy storage); boot_volume_size is b2-only."""
    for i, group in _entries(data, "instances"):
        flavor = group.get("flavor")
        if not isinstance(flavor, str) or flavor not in ctx.platform.flavors:
            continue
        family = ctx.platform.flavor_family(flavor)
        if family["boot"] == "image":
            if _personal(data):
                yield ctx.problem(("instances", i, "flavor"),
                                  f"'{flavor}' keeps data on one local disk; personal data needs a "
                                  "b2.* flavor (central storage, three copies)", ART_RESILIENCE)
            if "boot_volume_size" in group:
                yield ctx.problem(("instances", i, "boot_volume_size"),
                                  f"'{flavor}' boots from its local disk; boot_volume_size applies "
                                  "to b2.* flavors only", key=True)


@rule
def guest_images(data: dict[str, Any], ctx: Context) -> Iterator[Problem]:
    """Measures configured inside the guest need an image our cloud-init is written for."""
    served = {e.get("instance") for _, e in _entries(data, "endpoints")}
    for i, group in _entries(data, "instances"):
        image = group.get("image")
        if not isinstance(image, str) or image not in ctx.platform.images:
            continue
        needs = []
        if any(isinstance(v, dict) and v.get("encryption") == "luks-tang"
               for v in group.get("volumes") or []):
            needs.append("luks-tang volumes")
        if group.get("name") in served:
            needs.append("a TLS endpoint")
        if needs and image not in ctx.platform.guest_images:
            yield ctx.problem(("instances", i, "image"),
                              f"'{image}' cannot carry {' and '.join(needs)}; use one of "
                              f"{', '.join(ctx.platform.guest_images)}")


@rule
def backup_site(data: dict[str, Any], ctx: Context) -> Iterator[Problem]:
    """Backups of personal data must survive the loss of the site that holds the data."""
    if not _personal(data):
        return
    if "backup_site" not in data:
        yield ctx.problem(("backup_site",), "personal data needs a backup_site (another Safespring "
                          "site than `site`) so a site loss is survivable", ART_RESTORE)
    elif data.get("backup_site") == data.get("site"):
        yield ctx.problem(("backup_site",), f"backup_site must differ from site "
                          f"('{data.get('site')}') when the data is personal", ART_RESTORE)


@rule
def buckets(data: dict[str, Any], ctx: Context) -> Iterator[Problem]:
    """No public buckets for personal data; Object Lock may not outlive the retention."""
    name = data.get("name") if isinstance(data.get("name"), str) else ""
    default_days = (data.get("data") or {}).get("retention_days")
    for i, bucket in _entries(data, "buckets"):
        if bucket.get("public") is True and _personal(data):
            yield ctx.problem(("buckets", i, "public"), "a bucket of a deployment with personal "
                              "data may not be public", ART_BY_DEFAULT)
        lock = bucket.get("object_lock")
        days = bucket.get("retention_days", default_days)
        if isinstance(lock, dict) and isinstance(lock.get("days"), int) and isinstance(days, int) \
                and lock["days"] > days:
            own = f"buckets[{i}].retention_days"
            if "retention_days" in bucket:
                source = f"the {days}-day retention of {own}"
                fix = f"raise {own}"
            elif ("data", "retention_days") in ctx.positions.values:
                source = f"the {days}-day retention the bucket takes from data.retention_days"
                fix = f"set {own}"
            else:
                source = (f"the {days}-day retention the bucket takes from data.retention_days "
                          f"(its default; neither is set)")
                fix = f"set {own} (or data.retention_days)"
            yield ctx.problem(("buckets", i, "object_lock", "days"),
                              f"Object Lock of {lock['days']} days outlives {source}: objects "
                              f"could not be deleted in time; lower object_lock.days or {fix}",
                              ART_STORAGE_LIMITATION)
        full = f"{name}-{bucket.get('name')}"
        if isinstance(bucket.get("name"), str) and len(full) > 63:
            yield ctx.problem(("buckets", i, "name"),
                              f"bucket name '{full}' is longer than 63 characters")


@rule
def endpoints(data: dict[str, Any], ctx: Context) -> Iterator[Problem]:
    """The proxy owns 80/443 and SSH owns 22: the backend must listen elsewhere."""
    for i, endpoint in _entries(data, "endpoints"):
        port = endpoint.get("backend_port")
        if isinstance(port, int) and port in RESERVED_PORTS:
            yield ctx.problem(("endpoints", i, "backend_port"),
                              f"port {port} is taken by {RESERVED_PORTS[port]}; the backend "
                              "listens on another port on localhost")


@rule
def special_categories(data: dict[str, Any], ctx: Context) -> Iterator[Problem]:
    """Art. 9 data is personal data: the flags must agree."""
    section = data.get("data")
    if isinstance(section, dict) and section.get("special_categories") is True \
            and section.get("personal") is False:
        yield ctx.problem(("data", "special_categories"), "special categories of data are "
                          "personal data; set data.personal: true", ART_SPECIAL)


@rule
def state_bucket(data: dict[str, Any], ctx: Context) -> Iterator[Problem]:
    """The state bucket is its own bucket, not one of the deployment's data buckets."""
    state = data.get("state")
    name = data.get("name")
    if not isinstance(state, dict) or not isinstance(state.get("bucket"), str):
        return
    taken = {f"{name}-{b.get('name')}" for _, b in _entries(data, "buckets")}
    if state["bucket"] in taken:
        yield ctx.problem(("state", "bucket"), f"'{state['bucket']}' is also a data bucket of "
                          "this deployment; Terraform state needs its own bucket")


ACCESS_NOTICE_DAYS = 30


def warnings(data: dict[str, Any], today: dt.date, positions: Positions) -> list[Problem]:
    """Things that do not stop generation but a reviewer must see: an overdue review, access
    that ends soon (after that day the spec is rejected until it is renewed), and hourly
    backups that keep no hourly snapshot (spec v1 allows it; what it means is said)."""
    out = []
    dated: list[tuple[Path, Any]] = [(("access", i, "expires"), e.get("expires"))
                                     for i, e in _entries(data, "access")]
    if isinstance(data.get("break_glass"), dict):
        dated.append((("break_glass", "expires"), data["break_glass"].get("expires")))
    for path, raw in dated:
        ends = _date(raw)
        if ends is not None and 0 <= (ends - today).days <= ACCESS_NOTICE_DAYS:
            line, column = positions.of(path)
            days = (ends - today).days
            out.append(Problem(line, column, path, f"access ends on {ends}, in {days} day"
                               f"{'' if days == 1 else 's'}: renew it or remove the entry before "
                               "then (after that day the spec is rejected)", ART_CONFIDENTIALITY))
    backup = data.get("backup")
    if isinstance(backup, dict) and backup.get("schedule") == "hourly" and isinstance(
            backup.get("keep"), dict) and not backup["keep"].get("hourly"):
        line, column = positions.of(("backup", "schedule"))
        out.append(Problem(line, column, ("backup", "keep", "hourly"), "hourly backups with "
                           "keep.hourly 0: the newest snapshot is always kept (a recovery point "
                           "at most an hour old), but the earlier ones of each day are forgotten "
                           "at the next run, one a day stays; set keep.hourly (e.g. 24) to keep "
                           "them", ART_RESTORE))
    out += _partial_keep(data, positions)
    out += _lowered_keep(data, positions)
    when = _date(data.get("review_by"))
    if when is not None and when < today:
        line, column = positions.of(("review_by",))
        out.append(Problem(line, column, ("review_by",), f"the review of these measures was due "
                           f"on {when}; the compliance report flags it as overdue",
                           "GDPR Art. 32(1)(d)"))
    elif "review_by" not in data:
        out.append(Problem(1, 1, ("review_by",), "no review date: set review_by so the measures "
                           "are reviewed regularly", "GDPR Art. 32(1)(d)"))
    return out


@rule
def logging_collector(data: dict[str, Any], ctx: Context) -> Iterator[Problem]:
    """The central log collector is a group of its own and keeps personal data encrypted."""
    section = data.get("logging")
    central = section.get("central", _personal(data)) if isinstance(section, dict) else _personal(data)
    if central is not True:
        return
    for i, group in _entries(data, "instances"):
        if group.get("name") == COLLECTOR_GROUP:
            yield ctx.problem(("instances", i, "name"), f"'{COLLECTOR_GROUP}' is the name of the "
                              "log collector logging.central adds; choose another name")


@rule
def egress_proxy(data: dict[str, Any], ctx: Context) -> Iterator[Problem]:
    """The egress proxy is a group of its own when private groups get one."""
    section = data.get("egress")
    proxy = section.get("proxy", "auto") if isinstance(section, dict) else "auto"
    groups = list(_entries(data, "instances"))
    if proxy != "auto" or not any(g.get("network") == "private" for _, g in groups):
        return
    for i, group in groups:
        if group.get("name") == EGRESS_GROUP:
            yield ctx.problem(("instances", i, "name"), f"'{EGRESS_GROUP}' is the name of the "
                              "egress proxy the blueprint adds for groups on the private network; "
                              "choose another name", ART_CONFIDENTIALITY)


@rule
def backups(data: dict[str, Any], ctx: Context) -> Iterator[Problem]:
    """Backups need the Tang servers (their key is bound to them) and a bucket name of their own."""
    backup = data.get("backup")
    if backup is None and not _personal(data):
        return
    with_volumes = [i for i, g in _entries(data, "instances") if g.get("volumes")]
    if not with_volumes:
        return
    keep = backup.get("keep") if isinstance(backup, dict) else None
    if isinstance(keep, dict) and not any(keep.values()):
        yield ctx.problem(("backup", "keep"), "keeps no snapshot (every count is 0): keep at "
                          "least one so there is something to restore", ART_RESTORE,
                          at=("backup", "keep") if "keep" in backup else ("backup",))
    for i, bucket in _entries(data, "buckets"):
        if bucket.get("name") == "backup":
            yield ctx.problem(("buckets", i, "name"), "'backup' is the name of the backup bucket "
                              "this deployment gets in backup_site; choose another name")


def _central_logging(data: dict[str, Any]) -> bool:
    section = data.get("logging")
    return (section.get("central", _personal(data)) if isinstance(section, dict)
            else _personal(data)) is True


@rule
def tang_servers(data: dict[str, Any], ctx: Context) -> Iterator[Problem]:
    """Everything that binds a key to the customer's Tang servers needs them listed (once)."""
    encryption = data.get("encryption")
    if isinstance(encryption, dict) and encryption.get("tang_servers"):
        return
    reasons: list[tuple[str, Path]] = []
    for i, group in _entries(data, "instances"):
        for j, volume in enumerate(group.get("volumes") or []):
            if isinstance(volume, dict) and volume.get("encryption") == "luks-tang":
                reasons.append((f"instances[{i}].volumes[{j}] uses luks-tang",
                                ("instances", i, "volumes", j)))
    if _central_logging(data) and _personal(data):
        reasons.append(("the central log collector encrypts its log volume",
                        ("logging",) if "logging" in data else ()))
    backup = data.get("backup")
    if (backup is not None or _personal(data)) and any(
            g.get("volumes") for _, g in _entries(data, "instances")):
        reasons.append(("backups bind their repository key to them",
                        ("backup",) if "backup" in data else ()))
    if reasons:
        why = "; ".join(text for text, _ in reasons)
        yield ctx.problem(("encryption", "tang_servers"), f"list your Tang servers here: {why}",
                          ART_ENCRYPTION, at=reasons[0][1])


def _lowered_keep(data: dict[str, Any], positions: Positions) -> list[Problem]:
    """Default keep counts lowered to fit a personal-data retention (generator/spec/defaults.py):
    the backups keep less than the documented defaults, which a reviewer must see."""
    from generator.spec.defaults import backup_lock_days, fit
    from generator.spec.model import KEEP_DEFAULTS, keep_span, longest_days

    if not any(g.get("volumes") for _, g in _entries(data, "instances")):
        return []  # no volumes, no backup job
    backup = data.get("backup")
    if backup is None and _personal(data):  # backups on by default (model.build)
        backup = {"keep": dict(KEEP_DEFAULTS)}
    fitted = fit({**data, "backup": backup}, positions).get("backup")
    if not isinstance(backup, dict) or not isinstance(fitted, dict) or fitted == backup:
        return []
    keep, lowered = backup["keep"], fitted["keep"]
    changed = [k for k in keep if lowered[k] != keep[k]]
    counts = ", ".join(f"{k} {lowered[k]} (default {keep[k]})" for k in changed)
    # At the keep counts when there is a backup section, else at the retention that lowers them.
    line, column = positions.of(("backup", "keep") if ("backup",) in positions.values
                                else ("data", "retention_days"))
    lock = backup_lock_days(backup)
    return [Problem(line, column, ("backup", "keep"),
                    f"{counts}: the defaults are lowered so that data deleted on a volume leaves "
                    f"the backups within the {data['data']['retention_days']}-day retention "
                    f"(now {longest_days(lowered, lock)} days: snapshots up to "
                    f"{keep_span(lowered)[1]}, the weekly prune, deleted versions kept in the "
                    "bucket); write the counts to choose others", ART_STORAGE_LIMITATION)]


def _partial_keep(data: dict[str, Any], positions: Positions) -> list[Problem]:
    """A `backup.keep` that names some counts gets the others from their defaults: say what the
    filled-in counts keep, since they decide how long deleted data lives on in the backups."""
    from generator.spec.defaults import fit
    from generator.spec.model import KEEP_DEFAULTS, keep_span

    backup = fit(data, positions).get("backup")
    if not isinstance(backup, dict) or ("backup", "keep") not in positions.values:
        return []
    keep = backup.get("keep")
    if not isinstance(keep, dict):
        return []
    given = [k for k in KEEP_DEFAULTS if ("backup", "keep", k) in positions.values]
    filled = [k for k in KEEP_DEFAULTS if k not in given and KEEP_DEFAULTS[k]]
    if not given or not filled:
        return []
    _, span = keep_span({k: v for k, v in keep.items() if isinstance(v, int)})
    line, column = positions.of(("backup", "keep"))
    counts = " and ".join(f"{k} {keep.get(k)}" for k in filled)
    return [Problem(line, column, ("backup", "keep"),
                    f"gives {', '.join(given)} only: {counts} are filled in from the defaults, so "
                    f"the backups keep data for up to {span}; write every count (0 for none) to "
                    "keep only what you mean", ART_STORAGE_LIMITATION)]



# SSH public key types and, for RSA, the smallest modulus accepted (bits).
_KEY_TYPES = ("ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
              "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com", "ssh-rsa")
MIN_RSA_BITS = 3072


def ssh_key_problem(line: str) -> str | None:
    """Why a public key line is not one usable key (None when it is): its base64 must decode
    to a key of the type it names, and RSA keys need MIN_RSA_BITS."""
    import base64
    import binascii
    import struct

    parts = line.split()
    if len(parts) < 2 or parts[0] not in _KEY_TYPES:
        return "is not an OpenSSH public key line"
    try:
        blob = base64.b64decode(parts[1], validate=True)
        fields, offset = [], 0
        while offset < len(blob) and len(fields) < 3:
            (size,) = struct.unpack(">I", blob[offset:offset + 4])
            fields.append(blob[offset + 4:offset + 4 + size])
            offset += 4 + size
    except (binascii.Error, struct.error):
        return "holds no key: its base64 part does not decode"
    if not fields or fields[0] != parts[0].encode():
        return f"says {parts[0]} but holds another kind of key"
    if parts[0] == "ssh-rsa":
        bits = int.from_bytes(fields[2], "big").bit_length() if len(fields) == 3 else 0
        if bits < MIN_RSA_BITS:
            return f"is an RSA key of {bits} bits; use ssh-ed25519, or RSA of {MIN_RSA_BITS} bits"
    return None


@rule
def logins(data: dict[str, Any], ctx: Context) -> Iterator[Problem]:
    """A person's own SSH key is their individual instance login: one key per person, never
    shared, on a name the instances can give an account of its own."""
    seen: dict[str, str] = {}
    entries = dict(_entries(data, "access"))
    for i, entry in entries.items():
        key = entry.get("ssh_key")
        if not isinstance(key, str):
            continue
        path = ("access", i, "ssh_key")
        name = entry.get("name")
        if entry.get("kind") == "application":
            yield ctx.problem(path, "an application uses its application credential, not an "
                              "SSH login; give instance logins to persons", ART_CONFIDENTIALITY)
            continue
        if entry.get("role") == "reader":
            yield ctx.problem(path, "role reader has no instance login (readers read through "
                              "Safespring's portal and APIs); give role member to log in",
                              ART_CONFIDENTIALITY)
            continue
        why = ssh_key_problem(key)
        if why:
            yield ctx.problem(path, f"the key {why}", ART_CONFIDENTIALITY)
            continue
        blob = key.split()[1]
        if blob in seen:
            yield ctx.problem(path, f"is the same key as {seen[blob]}'s: a shared key is a "
                              "shared login; every person needs a key of their own",
                              ART_CONFIDENTIALITY)
        seen[blob] = str(name)
        if isinstance(name, str) and (len(name) > 32 or name in ctx.platform.reserved_logins):
            yield ctx.problem(("access", i, "name"), f"'{name}' cannot be an account on the "
                              "instances (" + ("longer than 32 characters" if len(name) > 32
                                               else "the images already have it") + "); use "
                              "the person's own short name", ART_CONFIDENTIALITY)
    glass = data.get("break_glass")
    if not isinstance(glass, dict) or not isinstance(glass.get("holder"), str):
        return
    holder = next((e for e in entries.values() if e.get("name") == glass["holder"]), None)
    if holder is None or holder.get("kind") != "person":
        yield ctx.problem(("break_glass", "holder"), f"'{glass['holder']}' is no person of "
                          "access: name the person who holds the key pair", ART_CONFIDENTIALITY)
        return
    ends, until = _date(glass.get("expires")), _date(holder.get("expires"))
    if ends is not None and until is not None and ends > until:
        yield ctx.problem(("break_glass", "expires"), f"{ends} is after {glass['holder']}'s own "
                          f"access ends ({until}): the holder's break-glass login may not "
                          "outlast their access", ART_CONFIDENTIALITY)


@rule
def backup_keep_retention(data: dict[str, Any], ctx: Context) -> Iterator[Problem]:
    """With personal data, deleted data must leave the backups within the retention: a keep
    count the spec writes may not outlive it (left-out counts are lowered to fit,
    generator/spec/defaults.py), nor may a retention be shorter than any backup can keep."""
    from generator.spec.defaults import backup_lock_days, written_keep
    from generator.spec.model import KEEP_DEFAULTS, PRUNE_DAYS, keep_span, longest_days, most_kept
    from generator.spec.model import noncurrent_days as kept_deleted

    section = data.get("data")
    retention = section.get("retention_days") if isinstance(section, dict) else None
    backup = data.get("backup")
    if not _personal(data) or not _count(retention, 1, 36500) \
            or not any(g.get("volumes") for _, g in _entries(data, "instances")):
        return
    backup = backup if isinstance(backup, dict) else {"keep": dict(KEEP_DEFAULTS)}
    keep, lock = backup.get("keep"), backup_lock_days(backup)
    if not isinstance(keep, dict) or not all(_count(keep.get(k), 0, 1000) for k in KEEP_DEFAULTS) \
            or not any(keep.values()) or not _count(lock, 1, 365) or lock > retention:
        return  # the schema, `backups` or `backup_lock` says what is wrong
    overhead = f"the weekly prune and the {kept_deleted(lock)} days the backup bucket keeps " \
               "deleted versions"
    limit = retention - PRUNE_DAYS - kept_deleted(lock)
    if limit < 1:
        least = retention - limit + 1
        yield ctx.problem(("data", "retention_days"), f"{retention} days is shorter than deleted "
                          f"data can leave the backups of personal data: {least} days at least (a "
                          f"snapshot kept one day, then {overhead}); raise it to {least} or more",
                          ART_STORAGE_LIMITATION)
        return
    # The written count whose snapshots are oldest, past the limit: the one to lower.
    over = [k for k in written_keep(ctx.positions) if keep_span({k: keep[k]})[0] > limit]
    if not over:
        return
    period = max(over, key=lambda k: keep_span({k: keep[k]})[0])
    most = most_kept(period, limit)
    yield ctx.problem(("backup", "keep", period), f"{keep[period]} keeps snapshots up to "
                      f"{keep_span({period: keep[period]})[1]}: with {overhead}, data deleted on "
                      f"a volume stays in the backups up to {longest_days(keep, lock)} days, "
                      f"longer than the {retention}-day retention of data.retention_days; lower "
                      f"it to {most}{' at most' if most else ''} (or raise the retention)",
                      ART_STORAGE_LIMITATION)


def _count(value: Any, low: int, high: int) -> bool:
    """An integer (not a bool) within the schema's bounds."""
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


@rule
def backup_lock(data: dict[str, Any], ctx: Context) -> Iterator[Problem]:
    """Locked backup versions cannot be deleted: the lock may not outlive the retention."""
    backup = data.get("backup")
    lock = backup.get("lock") if isinstance(backup, dict) else None
    days = (data.get("data") or {}).get("retention_days")
    if isinstance(lock, dict) and isinstance(lock.get("days"), int) and isinstance(days, int) \
            and lock["days"] > days and ("backup", "lock", "days") in ctx.positions.values:
        yield ctx.problem(("backup", "lock", "days"), f"a backup lock of {lock['days']} days "
                          f"outlives the {days}-day retention of data.retention_days: deleted "
                          "data could not leave the backups in time; lower it",
                          ART_STORAGE_LIMITATION)
