"""Notes per control: facts of this deployment a reader needs next to a control's status.

Context only: a note never makes a control pass. Written from the deployment facts (facts.py).
"""

from __future__ import annotations

from generator.report.model import Deployment, Review


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
    people = [f"{a.name} ({a.kind}, {a.role}, until {a.expires}"
              + (", EXPIRED)" if a.expired else ")") for a in d.access]
    out["GDPR-ACC-1"] = ((f"Access named in the spec: {'; '.join(people)}."
                          if people else "The spec names no access."),)
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
        keep = ", ".join(f"{n} {k}" for k, n in d.backup.keep)
        out["GDPR-BAK-1"] = (f"Backups {d.backup.schedule} of {', '.join(d.backup.groups)} to "
                             f"{d.backup.bucket} on {d.backup.site}; keeps {keep}.",)
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
    out["GDPR-LIM-1"] = tuple(
        f"{b.name}: current objects expire after {b.retention_days} days."
        for b in d.buckets if b.retention_days is not None) or ("No data bucket is declared.",)
    return out


def state_location(d: Deployment) -> str:
    if d.state_bucket:
        return (f"in the bucket {d.state_bucket} on {d.site.name} (private, TLS-only, versioned; "
                "replaced versions are kept for a while)")
    return "in the local file terraform.tfstate on the machine that runs Terraform"
