"""Log management and intrusion detection: logs kept locally and shipped to a collector.

Every instance keeps its logs locally (persistent journal, retention as the spec says) and,
with `logging.central`, ships them over mutually authenticated TLS to the deployment's log
collector; with `intrusion_detection`, auditd and AIDE run on every instance and their
findings travel the same way (Art. 5(1)(f), 5(2), 32(1)(b)). `guest.py` next to this file
builds the files, units and commands (and says how it all works); this module decides which
group gets which.
"""

from __future__ import annotations

from generator.features.logging.guest import SERVER_NAME, log_client, log_collector
from generator.render.cloudinit import GuestConfig, Part, part_from
from generator.spec.model import COLLECTOR_GROUP, InstanceGroup, Spec

# Runs after disk encryption (the collector's log volume must be mounted first) and after the
# proxy, and last of all so AIDE's baseline includes everything first boot installed.
ORDER = 90


def _part(measure: str, config: GuestConfig) -> list[Part]:
    return [part_from(measure, ORDER, config)]


def parts(spec: Spec, group: InstanceGroup) -> list[Part]:
    """Collector configuration on the collector; shipping (or local only) everywhere else."""
    settings = spec.logging
    if group.name == COLLECTOR_GROUP:
        local = log_client(None, retention_days=settings.retention_days,
                           intrusion_detection=settings.intrusion_detection)
        collector = log_collector(retention_days=settings.retention_days,
                                  encrypted_volume=bool(group.encrypted_volumes))
        return [*_part("log-collector", collector), *_part("local-logs", local)]
    if not settings.central:
        return _part("local-logs", log_client(None, retention_days=settings.retention_days,
                                               intrusion_detection=settings.intrusion_detection))
    # The collector's address reaches the client with its certificate bundle
    # (`ssb-log-pki install` writes it to /etc/hosts under SERVER_NAME).
    shipping = log_client(SERVER_NAME, retention_days=settings.retention_days,
                          intrusion_detection=settings.intrusion_detection)
    return _part("log-shipping", shipping)
