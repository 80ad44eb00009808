"""CKV_GDPR_5: instances of a group of more than one run in an anti-affinity server group.

A graph check: the group is every instance of one resource block (its address with the
instance keys removed, so `count`/`for_each` on the resource and on the modules around it
both count) that plays the same role: the same flavor, image, network and security groups. A
module called for `db`, `web1` and `web2` is two groups when db differs from the web servers,
not one replica set of three. Keys name roles too: `web1` and `web2` are replicas of `web`,
while `ctfd` and `db` with identical settings may be two services or two replicas, which the
code does not say: UNKNOWN. When a group has more than one instance, each instance's
`scheduler_hints.group` must be an `openstack_compute_servergroup_v2` of this configuration
whose policy is "anti-affinity". A literal id names a group made elsewhere, whose policy the
scan cannot see: UNKNOWN.

The server group id is known only after apply and a `dynamic "scheduler_hints"` block is not in
the plan's configuration, so the reference is read from the .tf source when needed (in HCL mode
for a dynamic block too: Checkov renders one with a `scheduler_hints.value` placeholder).
"""

from __future__ import annotations

import os
import re
from typing import Any

from generator.evidence.check import PASS, ResourceCheck, Verdict, fail, unknown
from generator.evidence.hcl import block_config, deployment_dir
from generator.evidence.plan import split_address
from generator.evidence.scope import Scope, nested_blocks
from generator.evidence.source import find_block, module_dir
from generator.evidence.values import MISSING, Unresolved, attr, blocks, unwrap

SERVER_GROUP = "openstack_compute_servergroup_v2"
_KEYS = re.compile(r'\[(?:[0-9]+|"(?:[^"\\]|\\.)*")\]')
_GROUP_REF = re.compile(rf"{SERVER_GROUP}\.([A-Za-z0-9_-]+)(\[[^\]]*\])?")
_VAR = re.compile(r"\bvar\.([A-Za-z0-9_-]+)")
_STRING_KEY = re.compile(r'\["((?:[^"\\]|\\.)*)"\]')
_NUMBERED = re.compile(r"[-_.]?[0-9]+$")
# What makes two instances of one block the same role (replicas) rather than different roles.
ROLE = ("flavor_name", "flavor_id", "image_name", "image_id", "security_groups")


def role(get: Any) -> tuple[str, ...]:
    """The role signature of an instance, `get(attribute)` reading its values."""
    networks = get("network")
    names = sorted(str(n.get("name") or n.get("uuid") or "") for n in networks
                   if isinstance(n, dict)) if isinstance(networks, list) else []
    return (*(str(get(key)) for key in ROLE), ",".join(names))


def _plan_role(values: dict[str, Any]) -> tuple[str, ...]:
    def get(key: str) -> Any:
        value = values.get(key)
        return sorted(map(str, value)) if key == "security_groups" and isinstance(value, list) else value

    return role(get)


def _hcl_role(conf: dict[str, Any]) -> tuple[str, ...]:
    def get(key: str) -> Any:
        if key == "network":
            return [{k: unwrap(v) for k, v in b.items()} for b in blocks(conf, "network")]
        value = unwrap(conf.get(key))
        return sorted(map(str, value)) if isinstance(value, list) else value

    return role(get)


def key_roles(address: str) -> tuple[str, ...]:
    """The roles an address's string keys name: each key without a trailing number (`web1` and
    `web-2` are both `web`); `count` indices name none."""
    return tuple(_NUMBERED.sub("", key).lower() for key in _STRING_KEY.findall(address))


def group_of(address: str) -> str:
    """The address without instance keys: all instances of one resource block."""
    return _KEYS.sub("", address)


def _policies(conf: dict[str, Any]) -> list[str]:
    value = conf.get("policies")
    while isinstance(value, list) and len(value) == 1 and isinstance(value[0], list):
        value = value[0]
    return [str(v) for v in (value if isinstance(value, list) else [value]) if v is not None]


def _texts(block: Any) -> list[str]:
    """Expression texts that may name the hint's group: a static block's `group`, a dynamic
    block's `for_each` and content `group`."""
    out = []
    dynamic = block.dynamic("scheduler_hints") if block is not None else None
    if dynamic:
        out += [str(dynamic.get("for_each") or ""), str(unwrap((dynamic.get("content") or {}).get("group")))]
    static = block.raw("scheduler_hints", "group") if block is not None else None
    if static:
        out.append(str(static))
    return out


class InstanceAntiAffinity(ResourceCheck):
    ID = "CKV_GDPR_5"

    # ---- plan mode ---------------------------------------------------------------------------

    def _plan_groups(self, scope: Scope) -> list[tuple[str, list[str]]] | Verdict:
        """(server group address, policies) the hint points at, or why they cannot be found."""
        plan, res = scope.plan, scope.resource
        refs = plan.references(res, "scheduler_hints", 0, "group")
        found = plan.targets(res, refs, rtype=SERVER_GROUP)
        if not found:
            root = scope.source_root
            if root is None:
                return unknown(str(Unresolved("the scheduler_hints group, a server group id", "after-apply")))
            modules = tuple(n for n, _ in res.modules)
            texts, level = _texts(scope.block()), len(res.modules)
            while texts and level >= 0:
                for text in texts:
                    for m in _GROUP_REF.finditer(text):
                        found += plan.in_module(res.modules[:level], SERVER_GROUP, m.group(1))
                variables = {v for t in texts for v in _VAR.findall(t)}
                if found or not variables or level == 0:
                    break
                parent = module_dir(root, plan, modules[:level - 1])
                call = find_block(parent, "module", modules[level - 1]) if parent else None
                texts = [str(call.raw(v)) for v in variables] if call is not None else []
                level -= 1
        if not found:
            return unknown("scheduler_hints.group names no openstack_compute_servergroup_v2 of this "
                           "configuration: its policy cannot be checked")
        return [(g.address, [str(p) for p in g.values.get("policies") or []]) for g in found]

    def _scan_plan(self, scope: Scope) -> Verdict:
        res = scope.resource
        mine = _plan_role(res.values)
        members = [r.address for r in scope.plan.of_type(res.type)
                   if r.group == res.group and _plan_role(r.values) == mine]
        replicas = self._replicas(res.address, members)
        if isinstance(replicas, Verdict):
            return replicas
        if res.is_unknown("scheduler_hints"):
            # A dynamic block whose for_each is known only after apply (it tests the group id).
            return self._judge(self._plan_groups(scope))
        hints = blocks(scope.conf, "scheduler_hints")
        group = attr(hints[0], "group") if hints else MISSING
        if group is MISSING:
            return self._missing(replicas, res.group)
        if isinstance(group, str):
            return unknown(f"scheduler_hints.group is {group}, a server group this configuration "
                           "does not create: its policy cannot be checked")
        found = self._plan_groups(scope)
        return self._judge(found)

    # ---- HCL mode ----------------------------------------------------------------------------

    def _hcl_groups(self, scope: Scope, node: dict[str, Any], texts: list[str]
                    ) -> list[tuple[str, list[str]]] | Verdict:
        """Server groups of the instance's own module that the texts name, with their policies."""
        names = {m.group(1) for t in texts for m in _GROUP_REF.finditer(t)}
        if not names:
            variables = sorted({v for t in texts for v in _VAR.findall(t)})
            if variables:
                return unknown(f"scheduler_hints.group comes from the module input {', '.join(variables)}, "
                               "which Checkov's HCL evaluation does not follow to a resource; scanning "
                               "the plan (scan DIR --plan) follows it")
            return unknown("scheduler_hints.group names no openstack_compute_servergroup_v2 of this "
                           "configuration: its policy cannot be checked")
        modules = split_address(str(node.get("__address__", "")))[0]
        found = []
        for n in scope.nodes:
            if n.get("resource_type") != SERVER_GROUP or n.get("block_type_") != "resource":
                continue
            other, _, name, _, _ = split_address(str(n.get("__address__", "")))
            if other == modules and name in names and deployment_dir(n) == deployment_dir(node):
                found.append((str(n.get("__address__")), _policies(block_config(n))))
        return found or fail("the server group the hint names is not created (count/for_each empty)")

    def _scan_hcl(self, scope: Scope) -> Verdict:
        me = scope.node
        if me is None:
            return unknown("scan graph unavailable: cannot count the group")
        mine, home = group_of(scope.address), deployment_dir(me)
        directory = os.path.dirname(str(me.get("file_path_")))
        members = [str(n.get("__address__", "")) for n in scope.nodes if n.get("block_type_") == "resource"
                   and n.get("resource_type") == "openstack_compute_instance_v2"
                   and group_of(str(n.get("__address__", ""))) == mine
                   and deployment_dir(n) == home and os.path.dirname(str(n.get("file_path_"))) == directory
                   and _hcl_role(block_config(n)) == _hcl_role(scope.conf)]
        replicas = self._replicas(scope.address, members)
        if isinstance(replicas, Verdict):
            return replicas
        hints = nested_blocks(scope, "scheduler_hints")
        if isinstance(hints, Unresolved):
            return unknown(f"scheduler_hints is {hints}")
        if not hints:
            return self._missing(replicas, mine)
        group = attr(hints[0], "group")
        if group is MISSING or group == "":
            return self._missing(replicas, mine)
        if isinstance(group, str):
            return unknown(f"scheduler_hints.group is {group}, a server group this configuration "
                           "does not create: its policy cannot be checked")
        return self._judge(self._hcl_groups(scope, me, [str(getattr(group, "raw", group))]))

    # ---- both --------------------------------------------------------------------------------

    def _replicas(self, address: str, members: list[str]) -> int | Verdict:
        """How many replicas the instance has (itself included, more than one), else its verdict:
        PASS when it is alone, UNKNOWN when only keys naming other roles share its settings."""
        same = [m for m in members if key_roles(m) == key_roles(address)]
        if len(same) > 1:
            return len(same)
        if len(members) <= 1:
            return PASS
        keys = sorted({"/".join(key_roles(m)) for m in members})
        return unknown(f"{len(members)} instances of {group_of(address)} share flavor, image, network "
                       f"and security groups under keys naming different roles ({', '.join(keys)}): "
                       "if they are replicas of one service, place them in an "
                       'openstack_compute_servergroup_v2 with policies = ["anti-affinity"]; if they '
                       "are different services, skip the check with that as the reason")

    def _missing(self, count: int, group: str) -> Verdict:
        return fail(f"one of {count} instances of {group} without scheduler_hints.group: they may "
                    "all run on one hypervisor; place them in an openstack_compute_servergroup_v2 "
                    'with policies = ["anti-affinity"]')

    def _judge(self, found: list[tuple[str, list[str]]] | Verdict) -> Verdict:
        if isinstance(found, Verdict):
            return found
        bad = [(address, policies) for address, policies in found if "anti-affinity" not in policies]
        if bad:
            address, policies = bad[0]
            return fail(f"scheduler_hints.group is {address}, whose policy is "
                        f"{', '.join(policies) or 'not set'}, not anti-affinity: members may share a "
                        "hypervisor")
        return PASS

    def judge(self, scope: Scope) -> Verdict:
        if scope.resource is not None:
            return self._scan_plan(scope)
        return self._scan_hcl(scope)


check = InstanceAntiAffinity()
