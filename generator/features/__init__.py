"""Features: each measure in one place, from spec values to guest configuration and rules.

A feature module holds everything the generator knows about one measure: the builders of its
guest files (the programs themselves live in `ssb_guest/`, which also defines the JSON
configuration each program reads), `parts(spec, group) -> list[Part]` (cloud-init) and, where
it opens traffic, `rules(...)`. The blueprint asks every feature in `CAPABILITIES`, in this
order, so adding a measure is adding a module here and to that tuple.
"""

from __future__ import annotations

from generator.features import (
    backup,
    base,
    disk_encryption,
    egress,
    endpoints,
    logging,
    logins,
    network,
    verification,
)

CAPABILITIES = (base, logins, egress, disk_encryption, endpoints, backup, logging, verification)

__all__ = ["CAPABILITIES", "backup", "egress", "endpoints", "network"]
