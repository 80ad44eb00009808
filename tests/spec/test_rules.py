"""Every rule of spec v1 rejects a bad spec with the exact location, key path and message.

Each case edits the valid fixture in one place and lists every line the user must see,
so a wrong line, column, path, wording or article fails the test.
"""

from __future__ import annotations

import pytest

from generator.spec import SpecError, check_text
from tests.conftest import TODAY

F = "spec.yaml"


def problems(text: str) -> list[str]:
    try:
        check_text(text, F, TODAY)
    except SpecError as exc:
        return [p.format(F) for p in exc.problems]
    return []


def edit(text: str, old: str, new: str, count: int = 1) -> str:
    assert text.count(old) >= count, f"fixture has no {old!r}"
    return text.replace(old, new, count)


def test_valid_fixture_is_accepted(valid_spec_text: str) -> None:
    assert problems(valid_spec_text) == []


# What an unknown flavor or image is told: every valid one (written from platform.yaml).
SIZES = "c1r2, c1r4, c1r8, c2r4, c2r8, c2r16, c4r8, c4r16, c4r32, c8r16, c8r32, c8r64, c16r32, c16r64"
FLAVORS = ("flavors are b2.<size> (central storage) and l2.<size>.<disk> (local disk); size "
           f"{SIZES}; l2 disk 100, 500, 1000")
IMAGES = ("images are ubuntu-20.04, ubuntu-22.04, ubuntu-24.04, debian-10, debian-11, debian-12, "
          "debian-13, almalinux-8, rocky-8, rocky-9, windows-server-2019, windows-server-2022")

CASES = {
    # --- unknown keys, wrong types, bad names
    "unknown key": (
        "    flavor: b2.c4r16", "    flavour: b2.c4r16",
        ["spec.yaml:38:5: instances[1].flavor: missing required key",
         "spec.yaml:39:5: instances[1].flavour: unknown key 'flavour' (did you mean 'flavor'?)"]),
    "wrong version": (
        "version: 1", "version: 2",
        ["spec.yaml:1:10: version: must be 1 (the only spec version this generator knows)"]),
    "wrong type": (
        "    count: 2", "    count: two",
        ["spec.yaml:27:12: instances[0].count: must be a whole number, not string 'two'"]),
    "bad deployment name": (
        "name: clinic", "name: Clinic_1",
        ["spec.yaml:2:7: name: must be 3-40 characters: lowercase letters, digits and '-', "
         "starting with a letter and not ending with '-'"]),
    "bad group name": (
        "  - name: db", "  - name: db-",
        ["spec.yaml:38:11: instances[1].name: must be 1-16 characters: lowercase letters, digits "
         "and '-', starting with a letter and not ending with '-'"]),
    # --- bad CIDRs
    "bad cidr": (
        "[192.0.2.0/24]", "[192.0.2.0/33]",
        ["spec.yaml:37:16: instances[0].ssh_from[0]: '192.0.2.0/33' is not a CIDR such as "
         "192.0.2.0/24 or 2001:db8::/48"]),
    "cidr with host bits": (
        "[192.0.2.0/24]", "[192.0.2.7/24]",
        ["spec.yaml:37:16: instances[0].ssh_from[0]: '192.0.2.7/24' has host bits set; did you "
         "mean '192.0.2.0/24'?"]),
    "world-open ssh v4": (
        "[192.0.2.0/24]", "[0.0.0.0/0]",
        ["spec.yaml:37:16: instances[0].ssh_from[0]: SSH may not be open to the whole internet "
         "('0.0.0.0/0'); name the admin networks (GDPR Art. 25(2))"]),
    "world-open ssh v6": (
        "[192.0.2.0/24]", "['::/0']",
        ["spec.yaml:37:16: instances[0].ssh_from[0]: SSH may not be open to the whole internet "
         "('::/0'); name the admin networks (GDPR Art. 25(2))"]),
    # --- unknown sites / flavors / images / volume types
    "unknown site": (
        "site: sto2", "site: sto3",
        ["spec.yaml:11:7: site: 'sto3' is not one of: sto1, sto2, osl2 (did you mean 'sto2'?)"]),
    "unknown flavor": (
        "flavor: b2.c4r16", "flavor: b2.c4r17",
        ["spec.yaml:39:13: instances[1].flavor: unknown flavor 'b2.c4r17' on Safespring "
         "(did you mean 'b2.c4r16'?); " + FLAVORS]),
    "unknown flavor, nothing close": (
        "flavor: b2.c4r16", "flavor: b2.medium",
        ["spec.yaml:39:13: instances[1].flavor: unknown flavor 'b2.medium' on Safespring; "
         + FLAVORS]),
    "unknown image": (
        "    image: ubuntu-24.04\n    network: private", "    image: ubuntu-42.04\n    network: private",
        ["spec.yaml:40:12: instances[1].image: unknown image 'ubuntu-42.04' on Safespring "
         "(did you mean 'ubuntu-24.04'?); " + IMAGES]),
    "unknown image, nothing close": (
        "    image: ubuntu-24.04\n    network: private", "    image: centos-7\n    network: private",
        ["spec.yaml:40:12: instances[1].image: unknown image 'centos-7' on Safespring; " + IMAGES]),
    "unknown volume type": (
        "        type: fast", "        type: ssd",
        ["spec.yaml:35:15: instances[0].volumes[0].type: 'ssd' is not one of: fast, large"]),
    # --- duplicates
    "duplicate instance group": (
        "  - name: db", "  - name: web",
        ["spec.yaml:38:11: instances[1].name: duplicate instance group 'web' (first used at "
         "line 26)"]),
    "duplicate volume": (
        "      - name: pgdata\n        size: 200",
        "      - name: pgdata\n        size: 200\n      - name: pgdata\n        size: 10",
        ["spec.yaml:45:15: instances[1].volumes[1].name: duplicate volume 'pgdata' (first used "
         "at line 43)"]),
    "duplicate mountpoint": (
        "        encryption: luks-tang\n    allow_from",
        "        encryption: luks-tang\n      - name: wal\n        size: 10\n"
        "        mountpoint: /srv/pgdata\n    allow_from",
        ["spec.yaml:48:21: instances[1].volumes[1].mountpoint: duplicate mountpoint "
         "'/srv/pgdata' (first used at line 43)"]),
    "duplicate access entry": (
        "  - name: ci-deployer", "  - name: anna.svensson",
        ["spec.yaml:21:11: access[1].name: duplicate access entry 'anna.svensson' (first used "
         "at line 17)"]),
    "duplicate key": (
        "  retention_days: 730", "  retention_days: 730\n  retention_days: 10",
        ["spec.yaml:11:3: data.retention_days: duplicate key 'retention_days'"]),
    # --- references to nothing
    "endpoint to nothing": (
        "    instance: web\n", "    instance: wbe\n",
        ["spec.yaml:51:15: endpoints[0].instance: no instance group named 'wbe' (did you mean "
         "'web'?)"]),
    "allow_from to nothing": (
        "{instance: web, port: 5432}", "{instance: app, port: 5432}",
        ["spec.yaml:47:20: instances[1].allow_from[0].instance: no instance group named 'app'"]),
    # --- dates
    "expired access": (
        "    expires: 2027-01-31", "    expires: 2026-11-26",
        ["spec.yaml:24:14: access[1].expires: access expired on 2026-11-26 (today is "
         "2026-11-27); remove the entry or renew it (GDPR Art. 5(1)(f), 32(1)(b))"]),
    "access too long": (
        "    expires: 2027-01-31", "    expires: 2027-11-29",
        ["spec.yaml:24:14: access[1].expires: access may run at most 366 days, until "
         "2027-11-28; 2027-11-29 is later (GDPR Art. 5(1)(f), 32(1)(b))"]),
    "impossible date": (
        "    expires: 2027-01-31", "    expires: '2027-02-30'",
        ["spec.yaml:24:14: access[1].expires: '2027-02-30' is not a date on the calendar"]),
    "missing expiry": (
        "    role: member\n    expires: 2027-01-31\n", "    role: member\n",
        ["spec.yaml:21:5: access[1].expires: missing required key"]),
    # --- personal data rules (GDPR)
    "personal data without luks": (
        "        encryption: luks-tang\n    ssh_from", "        encryption: none\n    ssh_from",
        ["spec.yaml:36:21: instances[0].volumes[0].encryption: volumes holding personal data "
         "need encryption: luks-tang (the platform must never hold the key) "
         "(GDPR Art. 32(1)(a))"]),
    "luks without tang servers": (
        "encryption:\n  tang_servers:\n    - https://tang1.example.se\n", "",
        ["spec.yaml:30:9: encryption.tang_servers: list your Tang servers here: "
         "instances[0].volumes[0] uses luks-tang; instances[1].volumes[0] uses luks-tang; the "
         "central log collector encrypts its log volume; backups bind their repository key to "
         "them (GDPR Art. 32(1)(a))"]),
    "backups that keep nothing": (
        "{daily: 7, weekly: 4, monthly: 12}", "{daily: 0, weekly: 0, monthly: 0}",
        ["spec.yaml:66:9: backup.keep: keeps no snapshot (every count is 0): keep at least one "
         "so there is something to restore (GDPR Art. 32(1)(c))"]),
    "bucket named like the backup bucket": (
        "  - name: exports", "  - name: backup",
        ["spec.yaml:56:11: buckets[0].name: 'backup' is the name of the backup bucket this "
         "deployment gets in backup_site; choose another name"]),
    "reserved collector name": (
        "  - name: db\n", "  - name: log-collector\n",
        ["spec.yaml:38:11: instances[1].name: 'log-collector' is the name of the log collector "
         "logging.central adds; choose another name"]),
    "personal data on l2": (
        "    flavor: b2.c2r4\n    image: ubuntu-24.04\n    network: default\n    boot_volume_size: 20\n",
        "    flavor: l2.c2r4.100\n    image: ubuntu-24.04\n    network: default\n",
        ["spec.yaml:28:13: instances[0].flavor: 'l2.c2r4.100' keeps data on one local disk; "
         "personal data needs a b2.* flavor (central storage, three copies) (GDPR Art. 32(1)(b))"]),
    "backup in the same site": (
        "backup_site: sto1", "backup_site: sto2",
        ["spec.yaml:12:14: backup_site: backup_site must differ from site ('sto2') when the "
         "data is personal (GDPR Art. 32(1)(c))"]),
    "no backup site": (
        "backup_site: sto1\n", "",
        ["spec.yaml:1:1: backup_site: personal data needs a backup_site (another Safespring site "
         "than `site`) so a site loss is survivable (GDPR Art. 32(1)(c))"]),
    "public bucket": (
        "    public: false", "    public: true",
        ["spec.yaml:59:13: buckets[0].public: a bucket of a deployment with personal data may "
         "not be public (GDPR Art. 25(2))"]),
    "tls below 1.2": (
        'min_tls: "1.2"', 'min_tls: "1.1"',
        ['spec.yaml:54:14: endpoints[0].min_tls: must be "1.2" or "1.3" (quoted); lower versions '
         "are rejected (GDPR Art. 32(1)(a))"]),
    # --- further rules of this generator
    "object lock outlives retention": (
        "days: 30}", "days: 400}",
        ["spec.yaml:57:43: buckets[0].object_lock.days: Object Lock of 400 days outlives the "
         "365-day retention of buckets[0].retention_days: objects could not be deleted in time; "
         "lower object_lock.days or raise buckets[0].retention_days (GDPR Art. 5(1)(e))"]),
    "special categories without personal": (
        "  personal: true\n  special_categories: false",
        "  personal: false\n  special_categories: true",
        ["spec.yaml:9:23: data.special_categories: special categories of data are personal "
         "data; set data.personal: true (GDPR Art. 9)"]),
    "backend on the proxy port": (
        "backend_port: 8080", "backend_port: 443",
        ["spec.yaml:52:19: endpoints[0].backend_port: port 443 is taken by the TLS proxy; the "
         "backend listens on another port on localhost"]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_rule_rejects_with_exact_location(case: str, valid_spec_text: str) -> None:
    old, new, expected = CASES[case]
    assert problems(edit(valid_spec_text, old, new)) == expected


def test_boot_volume_size_is_b2_only(valid_spec_text: str) -> None:
    text = edit(valid_spec_text, "data:\n  personal: true", "data:\n  personal: false")
    text = edit(text, "    flavor: b2.c2r4", "    flavor: l2.c2r4.100")
    assert problems(text) == [
        "spec.yaml:31:5: instances[0].boot_volume_size: 'l2.c2r4.100' boots from its local "
        "disk; boot_volume_size applies to b2.* flavors only"]


def test_all_problems_are_reported_at_once(valid_spec_text: str) -> None:
    text = edit(valid_spec_text, "site: sto2", "site: sto3")
    text = edit(text, "[192.0.2.0/24]", "[0.0.0.0/0]")
    text = edit(text, "    expires: 2027-01-31", "    expires: 2020-01-01")
    text = edit(text, "    public: false", "    public: true")
    found = problems(text)
    assert [line.split(": ")[1] for line in found] == [
        "site", "access[1].expires", "instances[0].ssh_from[0]", "buckets[0].public"]


def test_non_personal_data_relaxes_the_gdpr_rules(valid_spec_text: str) -> None:
    text = edit(valid_spec_text, "  personal: true", "  personal: false")
    text = edit(text, "backup_site: sto1", "backup_site: sto2")
    text = edit(text, "    public: false", "    public: true")
    text = edit(text, "        encryption: luks-tang\n    ssh_from",
                "        encryption: none\n    ssh_from")
    assert problems(text) == []


def test_world_open_ssh_is_rejected_even_without_personal_data(valid_spec_text: str) -> None:
    text = edit(valid_spec_text, "  personal: true", "  personal: false")
    text = edit(text, "[192.0.2.0/24]", "[0.0.0.0/0]")
    assert len(problems(text)) == 1


# ---------------------------------------------------------------- warnings (accepted, but shown)

def warnings(text: str, today: object = TODAY) -> list[str]:
    return [w.format(F) for w in check_text(text, F, today).warnings]


@pytest.mark.parametrize(("ends", "expected"), [
    ("2026-11-27", "in 0 days"), ("2026-11-28", "in 1 day"), ("2026-12-27", "in 30 days"),
    ("2026-12-28", None),
])
def test_access_ending_soon_is_a_warning(valid_spec_text: str, ends: str,
                                         expected: str | None) -> None:
    found = warnings(edit(valid_spec_text, "    expires: 2027-01-31", f"    expires: {ends}"))
    assert found == ([] if expected is None else [
        f"spec.yaml:24:14: access[1].expires: access ends on {ends}, {expected}: renew it or "
        "remove the entry before then (after that day the spec is rejected) "
        "(GDPR Art. 5(1)(f), 32(1)(b))"])


def test_review_dates_are_warnings(valid_spec_text: str) -> None:
    assert warnings(edit(valid_spec_text, "review_by: 2027-06-30", "review_by: 2026-11-26")) == [
        "spec.yaml:6:12: review_by: the review of these measures was due on 2026-11-26; the "
        "compliance report flags it as overdue (GDPR Art. 32(1)(d))"]
    assert warnings(edit(valid_spec_text, "review_by: 2027-06-30\n", "")) == [
        "spec.yaml:1:1: review_by: no review date: set review_by so the measures are reviewed "
        "regularly (GDPR Art. 32(1)(d))"]


def test_hourly_backups_without_hourly_snapshots_are_accepted_with_a_warning(
        valid_spec_text: str) -> None:
    """spec v1's `backup: {schedule: hourly, keep: {daily: 14, weekly: 8, monthly: 24}}`, with a
    retention those 24 months fit in (the contract example's 2555 days)."""
    text = edit(edit(valid_spec_text, "  schedule: daily\n  keep: {daily: 7, weekly: 4, monthly: 12}",
                     "  schedule: hourly\n  keep: {daily: 14, weekly: 8, monthly: 24}"),
                "  retention_days: 730\nsite", "  retention_days: 2555\nsite")
    assert warnings(text) == [
        "spec.yaml:65:13: backup.keep.hourly: hourly backups with keep.hourly 0: the newest "
        "snapshot is always kept (a recovery point at most an hour old), but the earlier ones of "
        "each day are forgotten at the next run, one a day stays; set keep.hourly (e.g. 24) to "
        "keep them (GDPR Art. 32(1)(c))"]
    spec = check_text(text, F, TODAY).spec
    assert spec.backup is not None and spec.backup.schedule == "hourly"
    assert dict(spec.backup.keep) == {"daily": 14, "weekly": 8, "monthly": 24}
    kept = edit(text, "{daily: 14,", "{hourly: 24, daily: 14,")
    assert warnings(kept) == []


def test_object_lock_names_the_retention_it_outlives(valid_spec_text: str) -> None:
    """The bucket sets no retention: the message names data.retention_days, and says when
    the 365 days are its default, and which key fixes it."""
    text = edit(valid_spec_text, "days: 30}\n    retention_days: 365\n", "days: 400}\n")
    # Backups that fit the shorter retentions below (3 months: 130 days), to see this rule alone.
    text = edit(text, "monthly: 12}", "monthly: 3}")
    assert problems(edit(text, "  retention_days: 730\nsite", "  retention_days: 200\nsite")) == [
        "spec.yaml:57:43: buckets[0].object_lock.days: Object Lock of 400 days outlives the "
        "200-day retention the bucket takes from data.retention_days: objects could not be "
        "deleted in time; lower object_lock.days or set buckets[0].retention_days "
        "(GDPR Art. 5(1)(e))"]
    assert problems(edit(text, "  retention_days: 730\nsite", "site")) == [
        "spec.yaml:56:43: buckets[0].object_lock.days: Object Lock of 400 days outlives the "
        "365-day retention the bucket takes from data.retention_days (its default; neither is "
        "set): objects could not be deleted in time; lower object_lock.days or set "
        "buckets[0].retention_days (or data.retention_days) (GDPR Art. 5(1)(e))"]


def test_personal_data_needs_tang_servers_even_without_volumes() -> None:
    """docs/spec.md: with personal data the log collector's volume is encrypted, so Tang
    servers are needed unless central logging is off and no group has volumes."""
    text = ("version: 1\nname: portal\nsite: sto2\nbackup_site: sto1\nreview_by: 2027-06-30\n"
            "instances:\n  - name: web\n    flavor: b2.c2r4\n    image: ubuntu-24.04\n")
    assert problems(text) == [
        "spec.yaml:1:1: encryption.tang_servers: list your Tang servers here: the central log "
        "collector encrypts its log volume (GDPR Art. 32(1)(a))"]
    assert problems(text + "logging: {central: false}\n") == []


def test_measures_left_off_for_personal_data_are_warnings(valid_spec_text: str) -> None:
    text = edit(valid_spec_text, "  central: true", "  central: false")
    text = edit(text, "  intrusion_detection: true", "  intrusion_detection: false")
    found = warnings(text)
    assert [w.split(": ")[1] for w in found] == ["logging.central", "logging.intrusion_detection"]
    assert found[0].startswith("spec.yaml:61:12: logging.central: off: logs stay only on each")
    assert found[0].endswith("(GDPR Art. 5(1)(f), 32(1)(b))")


def test_measures_left_off_without_personal_data_are_not_warnings(valid_spec_text: str) -> None:
    text = edit(valid_spec_text, "  personal: true", "  personal: false")
    text = edit(text, "  central: true", "  central: false")
    assert warnings(text) == []
    assert [m.control for m in check_text(text, F, TODAY).weakenings] == ["GDPR-LOG-1"]


@pytest.mark.parametrize(("keep", "expected"), [
    # What the DPO tried: hourly and daily only; weekly 4 and monthly 12 were filled in.
    ("{hourly: 24, daily: 30}", "gives hourly, daily only: weekly 4 and monthly 12 are filled "
     "in from the defaults, so the backups keep data for up to 12 months"),
    ("{hourly: 24}", "gives hourly only: daily 7 and weekly 4 and monthly 12 are filled in from "
     "the defaults, so the backups keep data for up to 12 months"),
    ("{daily: 30, weekly: 0, monthly: 0}", None),  # hourly is filled in as 0: it keeps nothing
    ("{hourly: 0, daily: 30, weekly: 0, monthly: 0}", None),
])
def test_a_partial_keep_says_what_the_filled_in_counts_keep(valid_spec_text: str, keep: str,
                                                          expected: str | None) -> None:
    text = edit(valid_spec_text, "  keep: {daily: 7, weekly: 4, monthly: 12}", f"  keep: {keep}")
    found = [w for w in warnings(text) if "backup.keep" in w]
    assert found == ([] if expected is None else [
        f"spec.yaml:66:9: backup.keep: {expected}; write every count (0 for none) to keep only "
        "what you mean (GDPR Art. 5(1)(e))"])


def test_lowering_tls_for_special_categories_is_a_warning(valid_spec_text: str) -> None:
    """Special categories get TLS 1.3 by default: writing "1.2" is accepted, and said."""
    special = edit(valid_spec_text, "  special_categories: false", "  special_categories: true")
    assert warnings(special) == [
        'spec.yaml:54:14: endpoints[0].min_tls: "1.2" lowers the TLS 1.3 that endpoints of '
        "special categories of data get by default (portal.example.se): a person must "
        "decide that TLS 1.2 is appropriate here (GDPR Art. 32(1)(a))"]
    assert warnings(valid_spec_text) == []  # 1.2 is the default without special categories
    assert warnings(edit(special, '    min_tls: "1.2"\n', "")) == []  # default: 1.3
    assert check_text(edit(special, '    min_tls: "1.2"\n', ""), F, TODAY).spec.endpoints[
        0].min_tls == "1.3"
