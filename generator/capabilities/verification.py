"""Measures proven working in life: the hourly self-check on every instance (Art. 32(1)(d)).

Every instance group gets ``ssb-verify`` and its timer (generator/guest/verify.py); what it
checks is what the instance's metadata claims, so one configuration serves every group.
"""

from __future__ import annotations

import dataclasses

from generator.guest.verify import PART, verify_config
from generator.render.cloudinit import Part, part_from
from generator.spec.model import InstanceGroup, Spec

# Last: its timer starts after everything it checks is installed.
ORDER = 95


def parts(spec: Spec, group: InstanceGroup) -> list[Part]:
    """The self-check, the same on every group. It claims no measure of its own in the
    metadata (Nova's 255 characters are spoken for): its events are its evidence."""
    return [dataclasses.replace(part_from(PART, ORDER, verify_config()), claimed=False)]
