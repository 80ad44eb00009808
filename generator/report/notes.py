"""Notes per control: facts of this deployment a reader needs next to a control's status.

Context only: a note never makes a control pass. Written from the deployment facts (facts.py).
"""

from __future__ import annotations

from generator.report.model import AccessFacts, Deployment, Review


def notes(d: Deployment | None, rev: Review) -> dict[str, tuple[str, ...]]:
    """Control id -> the notes shown with it."""
    out: dict[str, tuple[str, ...]] = {"GDPR-REV-1": (rev.message,)}
    if d is None:
        return out
    lg = d.logging
    out["GDPR-LOG-1"] = (
        f"The spec keeps the journal on every instance for at most {lg.retention_days} days"
        + (f" and ships them to the {lg.collector} group over TLS (port {lg.port})"
           if lg.central else ", without a central collector")
        + ("; auditd and AIDE run on every instance." if lg.intrusion_detection
           else "; intrusion detection is off."),
    )
    out["GDPR-ACC-1"] = tuple(_access_line(a) for a in d.access) or (
        "The spec names no access.",)
    if d.break_glass:
        holder, until = d.break_glass
        out["GDPR-ACC-1"] += (
            f"Break glass: the OpenStack key pair (variable key_pair) logs in as each image's "
            f"default user, with sudo; held by {holder}, refused by every instance after "
            f"{until}.",)
    else:
        out["GDPR-ACC-1"] += (
            "No break-glass login: each image's default user is expired on every instance, so "
            "an OpenStack key pair given at apply logs in nowhere.",)
    if d.no_individual_logins:
        out["GDPR-ACC-1"] += (
            f"No per-person accounts on {', '.join(d.no_individual_logins)}: its image is not "
            "one the guest configuration is written for; only the break-glass login, if any.",)
    apps = [a for a in d.access if a.kind == "application"]
    if apps:
        out["GDPR-ACC-1"] += (
            f"The secret of the application credential{'s' if len(apps) > 1 else ''} "
            + ", ".join(f"{a.name} (until {a.expires})" for a in apps)
            + f" is stored in the Terraform state, {state_location(d)}: whoever can read the "
            "state can act as that application until the credential expires.",)
    world = [f"{e.hostname} (tcp 443 on {e.instance})" for e in d.endpoints]
    ssh = sorted({c for g in d.groups for c in g.ssh_from})
    out["GDPR-ACC-2"] = (
        f"Open to the whole internet: {', '.join(world) if world else 'nothing'}.",
        f"SSH (tcp 22) only from: {', '.join(ssh) if ssh else 'nowhere'}.",
    )
    vols = [(g.name, v) for g in d.groups for v in g.volumes]
    plain = [f"{g}/{v.name}" for g, v in vols if not v.encrypted]
    out["GDPR-ENC-1"] = (
        f"{len(vols) - len(plain)} of {len(vols)} data volumes are encrypted in the guest "
        "(LUKS2, keys through Tang)"
        + (f"; NOT encrypted in the guest: {', '.join(plain)}." if plain else "."),
    )
    out["GDPR-ENC-2"] = tuple(f"{e.hostname}: TLS {e.min_tls} or newer, certificate "
                              f"{e.certificate}." for e in d.endpoints) or (
        "No TLS endpoint is declared.",)
    if d.backup and d.backup.bucket:
        b = d.backup
        keep = ", ".join(f"{n} {k}" for k, n in b.keep)
        out["GDPR-BAK-1"] = (
            f"Backups {b.schedule} of {', '.join(b.groups)} to {b.bucket} on {b.site}; keeps "
            f"{keep}.",)
        out["GDPR-BAK-2"] = (lock_sentence(b.lock_mode, b.lock_days),)
    else:
        out["GDPR-BAK-1"] = ("The spec generates no backup job.",)
    data = [b.name for b in d.buckets if b.role == "data"]
    if data:
        out["GDPR-BAK-1"] += (
            f"Not backed up, and not copied to another site: {', '.join(data)}. Versioning keeps "
            f"earlier versions on {d.site.name} only; Safespring Storage has no replication.",)
    local = [g.name for g in d.groups if g.storage != "central-3-copy"]
    out["GDPR-RED-1"] = ((f"On local single-copy disks: {', '.join(local)}."
                          if local else "Every group boots from central three-copy storage."),)
    sites = [d.site] + ([d.backup_site] if d.backup_site else [])
    out["GDPR-RES-1"] = ("Sites: " + ", ".join(f"{s.name} ({s.city}, {s.country})"
                                               for s in sites) + ".",)
    out["GDPR-LIM-1"] = tuple(f"{b.name} ({b.role}): its data ends {b.expiry}."
                              for b in d.buckets) or ("The deployment has no bucket.",)
    return out


def _access_line(a: AccessFacts) -> str:
    """One access entry and the login it gives on the instances."""
    head = f"{a.name} ({a.kind}, {a.role}, until {a.expires}{', EXPIRED' if a.expired else ''})"
    if a.kind == "application":
        return f"{head}: an application credential, no instance login."
    if not a.logs_in_to:
        why = "role reader" if a.role == "reader" else "no ssh_key in the spec"
        return f"{head}: no instance login ({why})."
    return (f"{head}: an account of their own on {', '.join(a.logs_in_to)}"
            + (" with sudo" if a.sudo else ", without sudo")
            + f"; every instance refuses it, and its key, after {a.expires}.")


def lock_sentence(mode: str, days: int) -> str:
    """What the backup bucket's lock holds, exactly (tests/report/test_backup_lock_claims.py)."""
    first = (f"COMPLIANCE lock: no backup version can be removed in the {days} days after it is "
             "written, by anyone, the project's S3 keys the instances hold included"
             if mode == "COMPLIANCE" else
             f"GOVERNANCE lock: the project's S3 keys, which every backed-up instance holds, can "
             f"remove backup versions in their {days} locked days too (bypass header)")
    return (f"{first}. After that a version is unlocked, and restic reuses old versions (its key "
            "file, packs every later snapshot needs): whoever controls a backed-up instance can "
            "delete them for good with its keys, and with them that instance's backups.")


def state_location(d: Deployment) -> str:
    if d.state_bucket:
        return (f"in the bucket {d.state_bucket} on {d.site.name} (private, TLS-only, versioned; "
                "replaced versions are kept for a while)")
    return "in the local file terraform.tfstate on the machine that runs Terraform"
