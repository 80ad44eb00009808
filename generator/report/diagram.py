"""The deployment as one inline SVG: sites, groups, volumes, buckets, and every way in or out.

Drawn from the spec facts (`Deployment`) with a fixed grid, so the same deployment always
gives the same bytes. Shown: what is open to the world (HTTPS endpoints), SSH from admin
networks, east-west flows between groups, log shipping to the collector, keys from the
controller's Tang servers, and the backup flow to the other site. Every text is escaped.
"""

from __future__ import annotations

from html import escape

from generator.report.model import BucketFacts, Deployment, GroupFacts

FONT = "font-family=\"'DejaVu Sans', 'Helvetica Neue', Arial, sans-serif\""
CHAR = 6.6  # average width of a 12 px character, for fitting text into boxes

COLOURS = {
    "world": "#b42318",
    "ssh": "#1d4ed8",
    "flow": "#6d28d9",
    "logs": "#047857",
    "backup": "#0e7490",
    "keys": "#92400e",
}

EXT_X, EXT_W = 16, 190
SITE_X = 250
GROUP_W = 300
LANE = 14
BUCKET_W = 262
BACKUP_W = 280
LINE = 16


def _t(value: object) -> str:
    return escape(str(value), quote=True)


def _fit(text: str, width: float, size: float = 12) -> str:
    room = int(width / (CHAR * size / 12))
    return text if len(text) <= room else text[: max(room - 1, 1)] + "\u2026"


def _text(x: float, y: float, text: str, *, width: float, size: float = 12, weight: str = "normal",
          fill: str = "#1f2937", anchor: str = "start") -> str:
    # Names are facts: shrink the font (down to 9 px) before cutting anything off.
    needed = len(text) * CHAR * size / 12 * (1.08 if weight == "bold" else 1)
    if needed > width:
        size = max(9.0, round(size * width / needed, 1))
    return (f'<text x="{x:.0f}" y="{y:.0f}" font-size="{size:g}" font-weight="{weight}" '
            f'fill="{fill}" text-anchor="{anchor}">{_t(_fit(text, width, size))}</text>')


def _box(x: float, y: float, w: float, h: float, *, fill: str = "#ffffff", stroke: str = "#64748b",
         dash: bool = False, radius: int = 6, width: float = 1.2) -> str:
    extra = ' stroke-dasharray="5 4"' if dash else ""
    return (f'<rect x="{x:.0f}" y="{y:.0f}" width="{w:.0f}" height="{h:.0f}" rx="{radius}" '
            f'fill="{fill}" stroke="{stroke}" stroke-width="{width:g}"{extra}/>')


def _path(d: str, colour: str, *, dash: bool = False, width: float = 1.6) -> str:
    extra = ' stroke-dasharray="6 4"' if dash else ""
    return (f'<path d="{d}" fill="none" stroke="{COLOURS[colour]}" stroke-width="{width:g}"'
            f'{extra} marker-end="url(#arrow-{colour})"/>')


def _label(x: float, y: float, text: str, colour: str, width: float = 180,
           anchor: str = "start") -> str:
    return _text(x, y, text, width=width, size=11, fill=COLOURS[colour], anchor=anchor)


def _group_lines(g: GroupFacts) -> list[tuple[str, str, str]]:
    """(text, colour, weight) lines of a group box below its title."""
    lines = [(f"{g.flavor} \u00b7 {g.image} \u00b7 network {g.network}", "#374151", "normal")]
    if g.boot_volume_gb:
        lines.append((f"boot: {g.boot_volume_gb} GB central volume (3 copies)", "#374151", "normal"))
    else:
        lines.append(("boot: local disk, single copy", "#b45309", "bold"))
    for v in g.volumes:
        if v.encrypted:
            lines.append((f"\u25a3 {v.name} {v.size_gb} GB {v.type}: LUKS2 + Tang", "#047857", "bold"))
        else:
            lines.append((f"\u25a2 {v.name} {v.size_gb} GB {v.type}: NOT encrypted", "#b42318", "bold"))
    for h in g.endpoints:
        lines.append((f"HTTPS 443: {h}", COLOURS["world"], "normal"))
    for src, proto, port in () if g.collector else g.inbound:
        lines.append((f"from {src}: {proto} {port}", COLOURS["flow"], "normal"))
    if g.collector:
        lines.append(("receives logs (mTLS)", COLOURS["logs"], "normal"))
    if g.backed_up:
        lines.append(("backed up to the other site", COLOURS["backup"], "normal"))
    return lines


def _bucket_lines(b: BucketFacts) -> list[tuple[str, str, str]]:
    lines = []
    if b.role == "state":
        lines.append(("bucket: Terraform state, never expires", "#374151", "normal"))
    elif b.role == "backup":
        lines.append(("bucket: restic repositories, encrypted", "#047857", "bold"))
    elif b.retention_days is not None:
        lines.append((f"bucket: objects expire after {b.retention_days} days", "#374151",
                      "normal"))
    if b.object_lock:
        lines.append((f"write-once: {b.object_lock}", "#374151", "normal"))
    lines.append(("PUBLIC" if b.public else "private \u00b7 TLS only \u00b7 versioned",
                  "#b42318" if b.public else "#374151", "bold" if b.public else "normal"))
    return lines


def _height(lines: list) -> int:
    return 30 + LINE * len(lines)


def _card(x: float, y: float, w: float, title: str, lines: list[tuple[str, str, str]], *,
          fill: str, stroke: str) -> list[str]:
    h = _height(lines)
    out = [_box(x, y, w, h, fill=fill, stroke=stroke),
           _text(x + 10, y + 19, title, width=w - 20, size=13.5, weight="bold", fill="#111827")]
    for i, (text, colour, weight) in enumerate(lines):
        out.append(_text(x + 10, y + 38 + i * LINE, text, width=w - 20, size=11.5,
                         weight=weight, fill=colour))
    return out


def svg(d: Deployment) -> str:
    """The deployment diagram as a standalone `<svg>` element (no external references)."""
    apps = [g for g in d.groups if not g.collector]
    collectors = [g for g in d.groups if g.collector]
    column = apps + collectors
    flows = [(src, g.name, proto, port) for g in apps for src, proto, port in g.inbound]
    body: list[str] = []

    # ---- primary site: groups (collector last), lanes, buckets ------------------------------
    top = 70
    gx = SITE_X + 20
    y = top + 44
    pos: dict[str, tuple[float, float, float]] = {}  # name -> (y, height, centre y)
    for g in column:
        lines = _group_lines(g)
        h = _height(lines)
        title = f"{g.name}  \u00d7 {g.count}" + ("  (log collector)" if g.collector else "")
        fill = "#f0fdf4" if g.collector else "#f8fafc"
        body += _card(gx, y, GROUP_W, title, lines, fill=fill, stroke="#475569")
        pos[g.name] = (y, h, y + h / 2)
        y += h + 26
    groups_bottom = y - 26
    lanes_x = gx + GROUP_W + 16
    bus_x = lanes_x + LANE * len(flows) + (18 if flows else 0)
    bx = bus_x + 34
    local = [b for b in d.buckets if b.role != "backup"]
    by = top + 44
    for b in local:
        lines = _bucket_lines(b)
        title = b.name
        body += _card(bx, by, BUCKET_W, title, lines, fill="#fffbeb", stroke="#b45309")
        by += _height(lines) + 20
    buckets_bottom = by - 20 if local else top + 44
    site_bottom = max(groups_bottom, buckets_bottom) + 24
    site_w = bx + (BUCKET_W if local else 0) + 20 - SITE_X
    s = d.site
    body.insert(0, _box(SITE_X, top, site_w, site_bottom - top, fill="#eff6ff", stroke="#1e3a8a",
                        radius=10, width=2))
    body.insert(1, _text(SITE_X + 14, top + 24, f"Safespring {s.name} \u00b7 {s.city} ({s.country})"
                         " \u00b7 primary site", width=site_w - 28, size=14, weight="bold",
                         fill="#1e3a8a"))

    # east-west flows: lanes right of the group column
    for k, (src, dst, _, _) in enumerate(flows):
        if src not in pos or dst not in pos:
            continue
        x = lanes_x + LANE * k
        y1 = pos[src][0] + 22 + 6 * k
        y2 = pos[dst][0] + 22 + 6 * k
        right = gx + GROUP_W
        body.append(_path(f"M{right} {y1:.0f} H{x} V{y2:.0f} H{right + 2}", "flow"))

    # log shipping: a bus from each group's right edge down to the collector
    if collectors and apps:
        cy = pos[collectors[0].name][0]
        ch = pos[collectors[0].name][1]
        right = gx + GROUP_W
        ys = []
        for g in apps:
            gy, gh, _ = pos[g.name]
            yy = gy + gh - 14
            ys.append(yy)
            body.append(f'<path d="M{right} {yy:.0f} H{bus_x}" fill="none" '
                        f'stroke="{COLOURS["logs"]}" stroke-width="1.6"/>')
        target = cy + ch / 2
        body.append(_path(f"M{bus_x} {min(ys):.0f} V{target:.0f} H{right + 2}", "logs"))
        body.append(_label(bus_x + 6, target - 6, f"logs, mTLS {d.logging.port}", "logs",
                           width=120))

    # ---- external actors (left) ---------------------------------------------------------------
    ey = top + 44
    world_groups = [g for g in column if g.endpoints]
    ssh_groups = [g for g in column if g.ssh_from]
    ext: list[str] = []
    if world_groups:
        lines = [("any address, IPv4 and IPv6", "#374151", "normal"),
                 ("only tcp 443 (TLS) is open", COLOURS["world"], "bold")]
        ext += _card(EXT_X, ey, EXT_W, "Internet", lines, fill="#fef2f2", stroke=COLOURS["world"])
        cy = ey + _height(lines) / 2
        for g in world_groups:
            gy = pos[g.name][0] + 18
            ext.append(_path(f"M{EXT_X + EXT_W} {cy:.0f} L{gx - 2} {gy:.0f}", "world", width=2))
        ey += _height(lines) + 24
    else:
        lines = [("nothing is open to it", "#374151", "bold")]
        ext += _card(EXT_X, ey, EXT_W, "Internet", lines, fill="#f9fafb", stroke="#9ca3af")
        ey += _height(lines) + 24
    if ssh_groups:
        nets = sorted({c for g in ssh_groups for c in g.ssh_from})
        lines = [(n, "#374151", "normal") for n in nets] + [("SSH, keys only", COLOURS["ssh"], "bold")]
        ext += _card(EXT_X, ey, EXT_W, "Admin networks", lines, fill="#eef2ff",
                     stroke=COLOURS["ssh"])
        cy = ey + _height(lines) / 2
        for g in ssh_groups:
            gy = pos[g.name][0] + 34
            ext.append(_path(f"M{EXT_X + EXT_W} {cy:.0f} L{gx - 2} {gy:.0f}", "ssh", dash=True))
        ey += _height(lines) + 24
    if d.tang_servers:
        lines = [(t, "#374151", "normal") for t in d.tang_servers]
        lines.append(("release volume keys", COLOURS["keys"], "bold"))
        ext += _card(EXT_X, ey, EXT_W, "Your Tang servers", lines, fill="#fff7ed",
                     stroke=COLOURS["keys"])
        cy = ey + _height(lines) / 2
        ext.append(_path(f"M{SITE_X} {cy:.0f} H{EXT_X + EXT_W + 2}", "keys", dash=True))
        ey += _height(lines) + 24
    body += ext

    # ---- backup site (right) --------------------------------------------------------------------
    right_edge = SITE_X + site_w
    backups = [b for b in d.buckets if b.role == "backup"]
    if backups and d.backup_site:
        kx = right_edge + 92
        bs = d.backup_site
        lines = _bucket_lines(backups[0])
        kh = _height(lines) + 70
        body.append(_box(kx, top, BACKUP_W, kh, fill="#ecfeff", stroke="#155e75", radius=10,
                         width=2))
        body.append(_text(kx + 14, top + 24, f"Safespring {bs.name} \u00b7 {bs.city} "
                          f"({bs.country})", width=BACKUP_W - 28, size=14, weight="bold",
                          fill="#155e75"))
        body.append(_text(kx + 14, top + 40, "backup site", width=BACKUP_W - 28, size=11.5,
                          fill="#155e75"))
        body += _card(kx + 12, top + 52, BACKUP_W - 24, backups[0].name, lines,
                      fill="#ffffff", stroke="#155e75")
        ay = top + 52 + 20
        body.append(_path(f"M{right_edge} {ay} H{kx + 10}", "backup", width=2.4))
        sched = d.backup.schedule if d.backup else ""
        body.append(_label(right_edge + 6, ay - 8, f"restic, {sched}", "backup", width=90))
        right_edge = kx + BACKUP_W

    # ---- legend -------------------------------------------------------------------------------
    ly = max(site_bottom, ey) + 30
    legend = [("world", "open to the internet (tcp 443)", False),
              ("ssh", "SSH from admin networks", True),
              ("flow", "between groups", False),
              ("logs", "log shipping", False),
              ("backup", "backup to the other site", False),
              ("keys", "key release (Tang)", True)]
    used = {"world": bool(world_groups), "ssh": bool(ssh_groups), "flow": bool(flows),
            "logs": bool(collectors and apps), "backup": bool(backups and d.backup_site),
            "keys": bool(d.tang_servers)}
    lx = EXT_X
    for colour, text, dash in legend:
        if not used[colour]:
            continue
        body.append(_path(f"M{lx} {ly} H{lx + 30}", colour, dash=dash))
        body.append(_text(lx + 38, ly + 4, text, width=190, size=11.5))
        lx += 38 + len(text) * CHAR + 26
    width = max(right_edge, lx) + 20
    height = ly + 22

    defs = "".join(
        f'<marker id="arrow-{name}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        f'markerHeight="7" orient="auto-start-reverse"><path d="M0 0 L10 5 L0 10 z" '
        f'fill="{colour}"/></marker>' for name, colour in COLOURS.items())
    title = f"Deployment diagram of {d.name}"
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" '
            f'width="{width:.0f}" height="{height:.0f}" role="img" aria-labelledby="diagram-title" '
            f'{FONT}>')
    heading = _text(EXT_X, 36, f"{d.name}: deployment", width=width - 40, size=18,
                    weight="bold", fill="#111827")
    return "\n".join([head, f'<title id="diagram-title">{_t(title)}</title>',
                      f"<defs>{defs}</defs>", heading, *body, "</svg>"]) + "\n"
