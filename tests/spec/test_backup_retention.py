"""Backups of personal data let go of deleted data within the retention (Art. 5(1)(e)).

Deleted data stays in the backups for the keep span, the weekly prune and the days the backup
bucket keeps deleted versions. Counts a spec leaves out are lowered to fit its retention, with
a warning; a count it writes that cannot fit, or a retention shorter than any backup, is refused
with the key to change. Before, a personal-data spec written with every default (365 days,
keep 0/7/4/12: 409 days) was accepted and failed GDPR-LIM-1 in its own report.
"""

from __future__ import annotations

from generator.spec import SpecError, check_text
from generator.spec.model import KEEP_DEFAULTS, fitted_keep, longest_days
from tests.conftest import TODAY

F = "spec.yaml"
BASE = """\
version: 1
name: clinic-notes
controller: Exempel region
contact: dpo@region.example.se
review_by: 2027-06-30
site: sto2
backup_site: osl2
encryption:
  tang_servers: [https://tang.region.example.se]
instances:
  - name: db
    flavor: b2.c2r4
    image: debian-12
    volumes:
      - {name: data, size: 20, type: fast}
"""


def outcome(text: str) -> tuple[dict[str, int] | None, list[str]]:
    """(the keep counts of the model, the warnings), or (None, the problems)."""
    try:
        checked = check_text(text, F, TODAY)
    except SpecError as exc:
        return None, [p.format(F) for p in exc.problems]
    assert checked.spec.backup is not None
    return dict(checked.spec.backup.keep), [w.format(F) for w in checked.warnings]


def test_every_default_fits_the_default_retention_and_says_what_it_lowered() -> None:
    keep, warnings = outcome(BASE)
    assert keep == {"daily": 7, "weekly": 4, "monthly": 10}
    assert warnings == [
        "spec.yaml:1:1: backup.keep: monthly 10 (default 12): the defaults are lowered so that "
        "data deleted on a volume leaves the backups within the 365-day retention (now 347 days: "
        "snapshots up to 10 months, the weekly prune, deleted versions kept in the bucket); write "
        "the counts to choose others (GDPR Art. 5(1)(e))"]


def test_left_out_counts_are_lowered_to_what_fits_and_written_ones_kept() -> None:
    text = BASE + "data: {retention_days: 60}\nbackup: {keep: {daily: 14}}\n"
    keep, warnings = outcome(text)
    # 23 days are left for snapshots (60 - 7 - 30): no monthly, 3 weeklies (21 days).
    assert keep == {"daily": 14, "weekly": 3}
    assert any("weekly 3 (default 4), monthly 0 (default 12)" in w for w in warnings), warnings


def test_a_written_count_that_outlives_the_retention_is_refused_with_the_most_that_fits() -> None:
    text = BASE + "data: {retention_days: 300}\nbackup: {keep: {daily: 7, weekly: 4, monthly: 12}}\n"
    assert outcome(text) == (None, [
        "spec.yaml:17:47: backup.keep.monthly: 12 keeps snapshots up to 12 months: with the weekly "
        "prune and the 30 days the backup bucket keeps deleted versions, data deleted on a volume "
        "stays in the backups up to 409 days, longer than the 300-day retention of "
        "data.retention_days; lower it to 8 at most (or raise the retention) (GDPR Art. 5(1)(e))"])


def test_a_retention_shorter_than_any_backup_is_refused_at_the_retention() -> None:
    assert outcome(BASE + "data: {retention_days: 30}\n") == (None, [
        "spec.yaml:16:24: data.retention_days: 30 days is shorter than deleted data can leave the "
        "backups of personal data: 38 days at least (a snapshot kept one day, then the weekly "
        "prune and the 30 days the backup bucket keeps deleted versions); raise it to 38 or more "
        "(GDPR Art. 5(1)(e))"])
    keep, _ = outcome(BASE + "data: {retention_days: 38}\n")
    assert keep == {"daily": 1}


def test_without_personal_data_the_defaults_stand() -> None:
    keep, warnings = outcome(BASE + "data: {personal: false, retention_days: 30}\n"
                             "backup: {schedule: daily}\n")
    assert keep == {k: v for k, v in KEEP_DEFAULTS.items() if v}
    assert not [w for w in warnings if "backup.keep" in w]


def test_fitting_never_passes_the_retention_nor_touches_written_counts() -> None:
    for retention in range(38, 800, 7):
        for lock in (14, 60):
            fitted = fitted_keep(KEEP_DEFAULTS, {"daily"}, retention, lock)
            assert fitted["daily"] == 7
            if longest_days({"daily": 7}, lock) <= retention:
                assert longest_days(fitted, lock) <= retention, (retention, lock, fitted)


def test_a_count_beyond_the_schema_is_refused_by_the_schema_alone() -> None:
    """Rules run beside a failed schema: a count of 10**18 once made the fitting count down from
    it, and generate hung (test_hostile.py found it)."""
    keep, problems = outcome(BASE + "data: {retention_days: 300}\n"
                             "backup: {keep: {monthly: 1000000000000000000}}\n")
    assert keep is None and len(problems) == 1 and "backup.keep.monthly" in problems[0], problems
