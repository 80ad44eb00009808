"""Measures proven working in life: the hourly self-check on every instance (Art. 32(1)(d)).

Every instance group gets ``ssb-verify`` and its timer (generator/guest/verify.py); what it
checks is what the instance's metadata claims, so one configuration serves every group.
"""

from __future__ import annotations

from generator.guest.verify import MEASURE, verify_config
from generator.render.cloudinit import Part, part_from
from generator.spec.model import InstanceGroup, Spec

# Last: its timer starts after everything it checks is installed.
ORDER = 95


def parts(spec: Spec, group: InstanceGroup) -> list[Part]:
    """The self-check, the same on every group."""
    return [part_from(MEASURE, ORDER, verify_config())]
