"""Reading evidence out of what Checkov hands a check, failing closed on anything unresolved.

A check builds a `Scope` of its block: in HCL mode Checkov's evaluation of the .tf files, in plan
mode the planned values of a `terraform show -json` file, enriched from the plan's configuration
(evidence_plan.py) and the .tf source it was made from (evidence_source.py). What spans several
blocks (a bucket's companions, a resource's provider, backup buckets) is in evidence_graph.py.
Every Unresolved says why the value is unknown and what would make it known. The notes below
are about HCL mode.

What Checkov 3.3.30 presents to a Python check (found by experiment on the generated
blueprints; see tests/policies for fixtures that pin the behaviour we rely on):

* Values are wrapped in lists: `size: [10]`, list attributes twice (`policies: [["x"]]`),
  blocks as lists of dicts (`block_device: [{...}]`).
* Resources of local modules are addressed `module.<call>.<type>.<name>`. When Checkov can
  render the module, `count` is expanded to `...this[0]`, `...this[1]` and `for_each` over a
  map (also a map of objects) to `...this["key"]`, with module inputs, `each.value.*` and
  `count.index` substituted; the `count`/`for_each` attribute is then gone.
* When it cannot render a module, the module's resources stay ONE unexpanded resource each,
  still carrying `count`/`for_each`, with raw `var.x` / `each.value.x` strings. This happened
  to every OpenStack module of blueprints/patient-portal: a module↔module cycle through outputs
  (instances take volume IDs while volumes take instance IDs; sg_web and sg_db reference each
  other's IDs) — legal in Terraform, whose graph is per resource — leaves both modules and the
  modules that depend on them unrendered. A one-way chain renders; so does one module that
  holds all security groups and references its own groups by key.
* A `for_each` map whose values contain a reference (e.g. `module.sg_web.id` inside a rule
  object) is not expanded either.
* An optional object attribute left out of a `for_each` value stays the string
  `each.value.<attr>`; it is indistinguishable from an unresolved value.
* Conditionals whose operands are unresolved are evaluated anyway and silently take a branch
  (Python truthiness on the text): a comparison with an unresolved side is false, so
  `var.encryption == "luks-tang" ? "LUKS2 ..." : "not encrypted ..."` came out as
  "not encrypted ..." for a luks-tang volume; a bare unresolved reference is truthy, so
  `var.public_read ? false : true` came out false; `x == null ? null : ref` kept `ref`. Never
  trust a derived value; read the raw evidence attribute, and put the secure value where an
  unresolved condition cannot select the insecure one unnoticed (the checks then fail).
* Locals inside modules were often left unresolved (`${local.anti_affinity ? ...}`), and
  functions Checkov does not implement stay as text (`startswith(b2.c4r16,"b2.")`).
* `merge(var.metadata, {...})` is sometimes a dict and sometimes the partly evaluated string
  `merge({'a': 'b'},{'ssb_encryption': luks-tang})` — which one depends on PYTHONHASHSEED (set
  iteration order in the renderer), so the same blueprint can alternate between runs. Map
  lookups below read both forms, and a string that still holds a reference is unresolved.
* Dynamic blocks are rendered once with `<name>.value` placeholders whatever their
  `for_each` is, so a dynamic block is always "present".
* `jsonencode()` of a policy may come back as a dict with `"Version": 1985` (2012-10-17
  evaluated as arithmetic) or as a string; booleans inside become `'False'`/`'True'`.
* A module output can resolve to the output of another call of the same module source
  (instances_web's security group read as patient-portal-db): do not check cross-module links.
* `var.description` of a module was replaced by the variable's own `description` text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from checkov.common.bridgecrew.severities import BcSeverities, Severities

# A string still holding a Terraform reference or expression: Checkov could not resolve it.
_REFERENCE = re.compile(
    r"\$\{"
    r"|\b(var|local|module|each|count|data|path|self|terraform)\."
    r"|\b(openstack|aws)_[a-z0-9_]+\.[a-z_]"
    r"|\b[a-z][a-z0-9_]*\("
    r"|\b[a-z_]+\.value\b"
    r"|\?.*:"
)

# Classification values that say "no personal data"; anything else, or nothing, is personal.
NOT_PERSONAL = frozenset({"non-personal", "internal"})
CLASSIFICATION_KEY = "ssb_classification"

WORLD = frozenset({"0.0.0.0/0", "::/0"})


@dataclass(frozen=True)
class Unresolved:
    """A value the scan cannot know; checks must treat it as a failure, and say why.

    `kind` says why it is unknown and so what would make it known: "hcl" (Checkov's HCL
    evaluation left an expression: Terraform's plan evaluates it), "after-apply" (Terraform
    itself knows it only after apply; `raw` names what it is computed from), "not-in-plan"
    (Terraform knows it, but the plan JSON does not record it and the .tf source is not at hand).
    """

    raw: Any
    kind: str = "hcl"

    def __str__(self) -> str:
        text = str(self.raw)[:100]
        if self.kind == "after-apply":
            return (f"known only after apply (computed from {text}); set it from a value known at "
                    "plan time (a literal or a variable) so it can be checked")
        if self.kind == "not-in-plan":
            return (f"not recorded in the plan ({text}); scan the directory with --plan, or keep "
                    "the plan JSON next to the .tf files")
        return (f"unresolved by Checkov's HCL evaluation ({text}); scanning the plan "
                "(scan DIR --plan) lets Terraform evaluate it")


MISSING = object()

# Checkov leaves a value unrendered when its text is longer than CHECKOV_RENDER_MAX_LEN (10,000
# characters by default): the module then keeps `for_each` unexpanded, and every rule of a
# blueprint's security groups (a map that grows with the groups and flows of the spec) became
# one unjudgeable resource. The pack raises the limit when it is loaded, before Checkov builds
# its graph (it loads external checks first), unless the user set one.
RENDER_MAX_LEN = 2_000_000
_RENDER_LIMITS = (
    ("checkov.terraform.graph_builder.variable_rendering.renderer", "CHECKOV_RENDER_MAX_LEN"),
    ("checkov.terraform.graph_builder.variable_rendering.evaluate_terraform", "CHECKOV_RENDER_MAX_LEN"),
    ("checkov.terraform.graph_builder.utils", "CHECKOV_RENDER_MAX_LEN"),
)


def lift_render_limit() -> None:
    """Let Checkov render values up to RENDER_MAX_LEN characters (the environment variable
    CHECKOV_RENDER_MAX_LEN wins when set), in modules already imported and those to come."""
    import os
    import sys

    if "CHECKOV_RENDER_MAX_LEN" in os.environ:
        return
    os.environ["CHECKOV_RENDER_MAX_LEN"] = str(RENDER_MAX_LEN)
    for name, attribute in _RENDER_LIMITS:
        module = sys.modules.get(name)
        if module is not None and getattr(module, attribute, None) == 10_000:
            setattr(module, attribute, RENDER_MAX_LEN)
    config = getattr(sys.modules.get("checkov.common.util.env_vars_config"), "env_vars_config", None)
    if getattr(config, "RENDER_MAX_LEN", 0) == 10_000:
        config.RENDER_MAX_LEN = RENDER_MAX_LEN  # type: ignore[union-attr]


lift_render_limit()


def severity(level: str) -> Any:
    """Checkov's severity object for HIGH/MEDIUM/LOW/CRITICAL."""
    return Severities[getattr(BcSeverities, level)]


def guideline(check_id: str) -> str:
    """Link to the documentation of the (first) control the check evidences."""
    from generator.controls import DOCS_URL, controls_for_check

    found = controls_for_check(check_id)
    return found[0].url if found else DOCS_URL


def is_unresolved_text(value: Any) -> bool:
    """True when a string (or anything inside a list/dict) still holds a reference."""
    if isinstance(value, str):
        return bool(_REFERENCE.search(value))
    if isinstance(value, Mapping):
        return any(is_unresolved_text(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(is_unresolved_text(v) for v in value)
    return False


def has_no_instances(conf: Mapping[str, Any]) -> bool:
    """True when `for_each` resolved to an empty map/list or `count` to 0: nothing is created,
    so there is nothing to check (Checkov leaves such a resource unexpanded)."""
    if "for_each" in conf:
        return unwrap(conf["for_each"]) in ({}, [], None) or conf["for_each"] in ([{}], [[]])
    if "count" in conf:
        return unwrap(conf["count"]) in (0, "0")
    return False


def is_expanded(conf: Mapping[str, Any]) -> bool:
    """False when Checkov left `count`/`for_each` in place (the module was not rendered)."""
    return "count" not in conf and "for_each" not in conf


def unwrap(value: Any) -> Any:
    """Checkov's one-element list wrapper removed."""
    while isinstance(value, list) and len(value) == 1 and not isinstance(value[0], dict):
        value = value[0]
    return value


def attr(conf: Mapping[str, Any], key: str) -> Any:
    """A scalar attribute: its value, MISSING, or Unresolved.

    A `try(...)` Checkov left as text is evaluated (see `evaluate_try`)."""
    if key not in conf:
        return MISSING
    value = unwrap(conf[key])
    if value is None:
        return MISSING
    if isinstance(value, Unresolved):
        return value
    if isinstance(value, str) and value.startswith(LEFTOVERS):
        value = evaluate_leftover(value, expanded="for_each" not in conf and "count" not in conf)
        return MISSING if value is None else value
    if is_unresolved_text(value):
        return Unresolved(value)
    return value


LEFTOVERS = ("try(", "lookup(")


def evaluate_leftover(text: str, *, expanded: bool) -> Any:
    """A `try(...)` or `lookup(map, key, default)` Checkov left as text, evaluated as Terraform
    would where its arguments are values (see `evaluate_try`); Unresolved otherwise."""
    if text.startswith("lookup("):
        args = _split_arguments(text)
        if not args or len(args) not in (2, 3):
            return Unresolved(text)
        mapping = _literal(args[0]) if args[0].startswith("{") else None
        quoted = len(args[1]) >= 2 and args[1][0] == args[1][-1] and args[1][0] in "\"'"
        key = args[1][1:-1] if quoted else None
        if not isinstance(mapping, dict) or key is None or is_unresolved_text(mapping):
            return Unresolved(text)
        if key in mapping:
            return mapping[key]
        if len(args) == 2:
            return Unresolved(text)
        return evaluate_try(f"try({args[2]})", expanded=expanded)
    return evaluate_try(text, expanded=expanded)


_BARE = re.compile(r"^-?[0-9]+$")


def _split_arguments(text: str) -> list[str] | None:
    """Top-level comma-separated arguments of `name(...)` text, None if it is not one call."""
    start = text.find("(")
    if start < 0 or not text.endswith(")"):
        return None
    args, depth, quote, current = [], 0, "", ""
    for c in text[start + 1:-1]:
        if quote:
            current += c
            if c == quote:
                quote = ""
            continue
        if c in "\"'":
            quote = c
        elif c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
            if depth < 0:
                return None
        elif c == "," and depth == 0:
            args.append(current.strip())
            current = ""
            continue
        current += c
    args.append(current.strip())
    return args if depth == 0 and not quote else None


def evaluate_try(text: str, *, expanded: bool) -> Any:
    """Terraform's `try(a, b, ...)` over the text Checkov leaves: the first argument that is a
    value. Checkov substitutes what it can (unquoted: `try(tcp,None)`) and leaves the rest as
    references. In an expanded `for_each` resource, a remaining `each.value.<attr>` is an
    attribute the element does not have, which is exactly the error try() catches; any other
    remaining reference makes the whole value Unresolved. None means null."""
    args = _split_arguments(text) if text.startswith("try(") else None
    if not args:
        return Unresolved(text)
    for arg in args:
        if arg in ("None", "null"):
            return None
        if len(arg) >= 2 and arg[0] == arg[-1] and arg[0] in "\"'":
            inner = arg[1:-1]
            return Unresolved(text) if is_unresolved_text(inner) else inner
        if re.fullmatch(r"each\.value(\.[A-Za-z0-9_-]+|\[\"[^\"]*\"\])", arg):
            if expanded:
                continue
            return Unresolved(text)
        if arg.startswith("try("):
            inner = evaluate_try(arg, expanded=expanded)
            if isinstance(inner, Unresolved):
                return Unresolved(text)
            return inner
        if is_unresolved_text(arg) or any(c in arg for c in "()[]{}?"):
            return Unresolved(text)
        return int(arg) if _BARE.match(arg) else arg
    return Unresolved(text)


_SECGROUP_ID = re.compile(r"^(module\.[A-Za-z0-9_-]+\.)*openstack_networking_secgroup_v2\.[A-Za-z0-9_-]+"
                          r"(\[[^\]]+\])?\.id$")
SECGROUP = "openstack_networking_secgroup_v2"


def remote_group(conf: Mapping[str, Any], scope: Scope | None = None) -> str | Unresolved | object:
    """`remote_group_id` as evidence: a literal id, or a reference to a security group
    resource's `.id` (Checkov leaves resource attributes as text; an id is never empty),
    MISSING, or Unresolved for anything else (a variable, a conditional).

    In plan mode an id known only after apply that Terraform computes from a security group
    resource (found through the plan's configuration, `var.x` followed up through module calls)
    is that group: the rule is a group rule. The address of the group is returned."""
    if "remote_group_id" not in conf:
        return MISSING
    value = unwrap(conf["remote_group_id"])
    if value is None:
        return MISSING
    if isinstance(value, Unresolved):
        if value.kind == "after-apply" and scope is not None and scope.resource is not None:
            refs = scope.plan.references(scope.resource, "remote_group_id")
            groups = scope.plan.targets(scope.resource, refs, rtype=SECGROUP)
            if groups:
                return groups[0].address
            if any(r.startswith(f"data.{SECGROUP}.") for r in refs):
                return next(r for r in refs if r.startswith(f"data.{SECGROUP}."))
        return value
    if isinstance(value, str) and _SECGROUP_ID.match(value.strip()):
        return value.strip()
    if isinstance(value, str) and value.startswith("try("):
        value = attr(conf, "remote_group_id")
        return value
    if is_unresolved_text(value):
        return Unresolved(value)
    return value


def blocks(conf: Mapping[str, Any], key: str) -> list[dict[str, Any]]:
    """Nested blocks of one type (dynamic blocks included, rendered once by Checkov)."""
    value = conf.get(key) or []
    return [b for b in value if isinstance(b, dict)]


def as_bool(value: Any) -> bool | Unresolved | None:
    """True/False from Checkov's booleans ("true", True, "True"); None if absent."""
    if value is MISSING:
        return None
    if isinstance(value, Unresolved):
        return value
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return Unresolved(value)


def as_int(value: Any) -> int | Unresolved | None:
    """An integer from Checkov's numbers or numeric strings; None if absent."""
    if value is MISSING:
        return None
    if isinstance(value, Unresolved):
        return value
    if isinstance(value, bool):
        return Unresolved(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"-?[0-9]+", value.strip()):
        return int(value)
    return Unresolved(value)


_PAIR = r"""\\*['"]{key}\\*['"]\s*:\s*(\\*['"](?P<q>[^'"\\]*)\\*['"]|(?P<bare>[^,}}\s]+))"""


def map_value(conf: Mapping[str, Any], attribute: str, key: str) -> Any:
    """`attribute[key]` of a map attribute (e.g. metadata, tags): value, MISSING or Unresolved.

    Reads a rendered dict, and the partly rendered `merge({...},{...})` text Checkov sometimes
    leaves (the last occurrence wins, as in merge). A key absent from a text that still holds
    references is Unresolved: it may come from the unresolved part.
    """
    if attribute not in conf:
        return MISSING
    value = conf[attribute]
    while isinstance(value, list) and len(value) == 1:
        value = value[0]
    if value is None:
        return MISSING
    if isinstance(value, Mapping):
        if key not in value:
            return MISSING
        found = unwrap(value[key])
        if isinstance(found, str) and found.startswith(LEFTOVERS):
            found = evaluate_leftover(found, expanded=True)
        if found is None:
            return MISSING
        if isinstance(found, Unresolved):
            return found
        return Unresolved(found) if is_unresolved_text(found) else found
    if not isinstance(value, str):
        return Unresolved(value)
    matches = list(re.finditer(_PAIR.format(key=re.escape(key)), value))
    if not matches:
        return Unresolved(value) if is_unresolved_text(value) else MISSING
    last = matches[-1]
    found = last.group("q") if last.group("q") is not None else last.group("bare")
    if last.group("q") is None and is_unresolved_text(found):
        return Unresolved(found)
    if is_unresolved_text(found):
        return Unresolved(found)
    return found


def holds_personal_data(conf: Mapping[str, Any], attribute: str) -> bool:
    """True unless the resource's classification evidence says it holds no personal data.

    No evidence, or evidence Checkov could not resolve, counts as personal data.
    """
    value = map_value(conf, attribute, CLASSIFICATION_KEY)
    return not (isinstance(value, str) and value in NOT_PERSONAL)


def _literal(text: str) -> Any:
    """Python-literal text as Checkov prints it, after repairing its known quoting slip."""
    import ast

    # `"${aws_s3_bucket.this.arn}/*"` comes out as `''aws_s3_bucket.this.arn'/*'`.
    text = re.sub(r"''([^',]*)'([^',]*)'", r"'\1\2'", text)
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return None


def policy_statements(value: Any) -> list[dict[str, Any]] | Unresolved:
    """The Statement list of a bucket policy, whichever form Checkov rendered `jsonencode()` into.

    Seen: a dict whose Statement is the text `${concat([...],[])}`; the text
    `jsonencode({...})`; a plain dict. Only the statement structure is needed, so references
    left inside (Resource ARNs) do not matter; anything that does not parse is Unresolved.
    """
    document: Any = value
    while isinstance(document, list) and len(document) == 1:
        document = document[0]
    if isinstance(document, str):
        text = document.strip()
        if text.startswith("jsonencode(") and text.endswith(")"):
            text = text[len("jsonencode("):-1]
        try:
            document = json.loads(text)
        except ValueError:
            document = _literal(text)
    if not isinstance(document, Mapping):
        return Unresolved(value)
    found = document.get("Statement")
    if isinstance(found, str):
        found = _certain_statements(found.strip())
    if isinstance(found, Mapping):
        found = [found]
    if isinstance(found, list) and found and all(isinstance(st, Mapping) for st in found):
        return [dict(st) for st in found]
    return Unresolved(value)


def _certain_statements(text: str) -> list[Any] | None:
    """The statements `concat(...)` always holds: those of its literal list arguments
    (a conditional argument may add more; only the certain ones count as evidence)."""
    if text.startswith("${") and text.endswith("}"):
        text = text[2:-1].strip()
    if not text.startswith("concat("):
        return None
    found: list[Any] = []
    for arg in _split_arguments(text) or []:
        value = _literal(arg) if arg.startswith("[") else None
        if isinstance(value, list):
            found.extend(value)
    return found or None


def policy_from_source(text: Any) -> list[dict[str, Any]] | Unresolved:
    """Statements of a policy expression as written in the .tf source (Checkov's HCL parser
    text, `${jsonencode({...})}`), for a plan where the policy is known only after apply."""
    if not isinstance(text, str):
        return Unresolved(text, "not-in-plan")
    body = text.strip()
    if body.startswith("${") and body.endswith("}"):
        body = body[2:-1].strip()
    if body.startswith("jsonencode(") and body.endswith(")"):
        body = body[len("jsonencode("):-1]
    document = _literal(body)
    if document is None:
        try:
            document = json.loads(body)
        except ValueError:
            return Unresolved(text, "not-in-plan")
    return policy_statements(document)


def statements_of_policy_document(conf: Mapping[str, Any]) -> list[dict[str, Any]]:
    """`data "aws_iam_policy_document"` statement blocks as policy JSON statements."""
    out = []
    for st in blocks(conf, "statement"):
        statement: dict[str, Any] = {"Effect": unwrap(st.get("effect")) or "Allow",
                                     "Action": unwrap(st.get("actions")) or []}
        principals = blocks(st, "principals")
        if principals:
            kind, ids = unwrap(principals[0].get("type")), unwrap(principals[0].get("identifiers"))
            statement["Principal"] = "*" if kind == "*" else {kind: ids}
        condition: dict[str, Any] = {}
        for c in blocks(st, "condition"):
            values = unwrap(c.get("values"))
            condition.setdefault(unwrap(c.get("test")), {})[unwrap(c.get("variable"))] = values
        if condition:
            statement["Condition"] = condition
        out.append(statement)
    return out


# ---- the scan's graph: what one block cannot show ------------------------------------------
#
# Some evidence spans blocks Checkov hands a check one at a time (a backup provider against the
# data provider, a module call against the resources it renders, the `terraform` block, which no
# check type receives at all). Checkov 3.3.30 sets `check.graph` (a rustworkx PyDiGraph whose
# nodes are (index, attributes) pairs) before each check runs; every block of the scan is a
# node: `block_type_` (resource, provider, module, terraform, ...), `file_path_` (absolute),
# `config_` (the block as a check would receive it, under its type and name),
# `source_module_object_` (the module call that rendered it, for module resources).
# Helpers return nothing when the graph is missing or of another kind; checks fail closed then.


def graph_blocks(graph: Any) -> list[dict[str, Any]]:
    """Attribute dicts of every block in Checkov's graph (rustworkx or networkx), [] if none."""
    if graph is None or not hasattr(graph, "nodes"):
        return []
    try:
        nodes = list(graph.nodes(data=True))  # networkx: (id, data)
    except TypeError:
        nodes = list(graph.nodes())  # rustworkx: (index, data)
    return [dict(node[1]) for node in nodes
            if isinstance(node, tuple) and len(node) == 2 and isinstance(node[1], Mapping)]


def entity_file(entity_path: str) -> str:
    """The scanned file of `check.entity_path` ("/dir/file.tf:type:name"), relative to the root."""
    return entity_path.split(":", 1)[0]


def scan_root(graph_nodes: list[dict[str, Any]], relative_file: str) -> str | None:
    """Absolute directory Checkov scanned: the prefix that turns `relative_file` into a block's
    file path; of several, the one most blocks live under (modules may lie outside it)."""
    import os

    paths = {str(n.get("file_path_") or "") for n in graph_nodes} - {""}
    if not relative_file.startswith("/"):
        relative_file = "/" + relative_file
    candidates = {p[: -len(relative_file)] for p in paths if p.endswith(relative_file)}
    if not candidates:
        return None
    return max(sorted(candidates, key=len),
               key=lambda root: sum(p.startswith(root + os.sep) for p in paths))


def block_config(node: Mapping[str, Any]) -> dict[str, Any]:
    """The block as a check receives it (`config_` without its type/name wrapping)."""
    config = node.get("config_")
    if not isinstance(config, Mapping):
        return {}
    block_type = node.get("block_type_")
    if block_type in ("terraform",):
        return dict(config)
    name = str(node.get("block_name_") or "")
    if block_type == "provider":
        inner = config.get(name.split(".", 1)[0])
        return dict(inner) if isinstance(inner, Mapping) else {}
    if block_type in ("resource", "data"):
        rtype, _, rname = name.partition(".")
        inner = config.get(rtype, {})
        inner = inner.get(rname) if isinstance(inner, Mapping) else None
        return dict(inner) if isinstance(inner, Mapping) else {}
    inner = config.get(name)
    return dict(inner) if isinstance(inner, Mapping) else {}


def root_module_blocks(graph_nodes: list[dict[str, Any]], directory: str,
                       block_type: str) -> list[dict[str, Any]]:
    """Blocks of one type written in the .tf files of `directory` itself (a root module), not
    copies rendered for a module call."""
    import os

    return [n for n in graph_nodes
            if n.get("block_type_") == block_type
            and os.path.dirname(str(n.get("file_path_") or "")) == directory
            and not n.get("source_module_object_")
            and not (n.get("rendering_breadcrumbs_") or {}).get("source_module_")]


def module_call_resources(graph_nodes: list[dict[str, Any]], caller_file: str,
                          call: str) -> list[dict[str, Any]]:
    """Resources rendered for the module call `call` written in `caller_file` (every instance)."""
    out = []
    for n in graph_nodes:
        source = n.get("source_module_object_")
        if n.get("block_type_") != "resource" or source is None:
            continue
        if getattr(source, "path", None) == caller_file and getattr(source, "name", None) == call \
                and getattr(source, "nested_tf_module", None) is None:
            out.append(n)
    return out


def site_of_s3_endpoint(endpoint: Any) -> str | None:
    """The Safespring site whose S3 endpoint this is (exactly, trailing slash aside), else None."""
    from generator.platform import platform

    if not isinstance(endpoint, str):
        return None
    for name, site in platform().sites.items():
        if endpoint.rstrip("/") == site.s3_endpoint.rstrip("/"):
            return name
    return None


def site_of_openstack(conf: Mapping[str, Any]) -> str | None:
    """The Safespring site an openstack provider block points at (cloud safespring-<site>, or an
    auth_url whose host is the site's), else None."""
    from urllib.parse import urlparse

    from generator.platform import platform

    sites = platform().sites
    cloud = attr(conf, "cloud")
    if isinstance(cloud, str) and cloud.startswith("safespring-") and cloud[len("safespring-"):] in sites:
        return cloud[len("safespring-"):]
    url = attr(conf, "auth_url")
    if isinstance(url, str):
        host = urlparse(url).hostname
        for name, site in sites.items():
            if host and host == urlparse(site.auth_url).hostname:
                return name
    return None


# ---- one check's view: HCL mode or plan mode ------------------------------------------------


class Scope:
    """What a check looks at, in either mode: the block's configuration as Checkov gives it,
    the scan graph, and in plan mode the plan (its configuration section) and the .tf source.

    In plan mode `conf` is enriched: every attribute Terraform knows only after apply becomes
    an Unresolved("after-apply") naming what it is computed from, in place of the reference text
    Checkov puts there, so no check mistakes it for a value or for an HCL leftover.
    """

    def __init__(self, check: Any, conf: Mapping[str, Any]) -> None:
        from generator.policies import evidence_plan

        self.check = check
        self.raw = conf
        self.entity_path = str(getattr(check, "entity_path", "") or "")
        self._nodes: list[dict[str, Any]] | None = None
        self.plan = evidence_plan.plan_of(dict(conf), self.entity_path,
                                          None if "__file__" in conf else self.nodes)
        address = unwrap(conf.get("__address__"))
        self.address = address if isinstance(address, str) else ""
        self.resource = self.plan.get(self.address) if self.plan else None
        self.conf = _enrich(conf, self.plan, self.resource) if self.resource else dict(conf)

    @property
    def mode(self) -> str:
        return "plan" if self.plan is not None else "hcl"

    @property
    def nodes(self) -> list[dict[str, Any]]:
        if self._nodes is None:
            self._nodes = graph_blocks(getattr(self.check, "graph", None))
        return self._nodes

    @property
    def node(self) -> dict[str, Any] | None:
        """HCL mode: this resource's block in the scan graph (its address in its own file: a
        scan of several roots holds the same address more than once)."""
        relative = entity_file(self.entity_path)
        nodes = self.nodes
        root = scan_root(nodes, relative) if relative else None
        # A module outside the scanned directory is named "/../../x/main.tf": match its tail.
        tail = re.sub(r"^(/\.\.)+", "", relative) if root is None else ""
        for n in nodes:
            path = str(n.get("file_path_") or "")
            if n.get("block_type_") == "resource" and n.get("__address__") == self.address \
                    and (path == root + relative if root is not None else path.endswith(tail)):
                return n
        return None

    @property
    def source_root(self) -> Any:
        """The directory the plan was made from (a Path), None in HCL mode or when unknown."""
        from generator.policies.evidence_source import source_root

        return source_root(self.plan.path) if self.plan is not None else None

    def block(self, resource: Any = None) -> Any:
        """The .tf block of a plan resource (default: this one), None when the source is unknown."""
        from generator.policies.evidence_source import resource_block

        res = resource or self.resource
        root = self.source_root
        if res is None or root is None or self.plan is None:
            return None
        return resource_block(root, self.plan, tuple(n for n, _ in res.modules), res.type, res.name,
                              res.mode)


def _mark_unknown(conf: dict[str, Any], unknown: Mapping[str, Any], refs: Any) -> None:
    for key, flag in unknown.items():
        if flag is True:
            found = refs(key)
            conf[key] = [Unresolved(", ".join(found) or "a value computed by the provider",
                                    "after-apply")]
        elif isinstance(flag, list) and isinstance(conf.get(key), list):
            items = conf[key]
            for i, inner in enumerate(flag):
                if isinstance(inner, dict) and i < len(items) and isinstance(items[i], dict):
                    items[i] = dict(items[i])
                    _mark_unknown(items[i], inner, lambda k, key=key, i=i: refs(f"{key}.{i}.{k}"))


def _enrich(conf: Mapping[str, Any], plan: Any, resource: Any) -> dict[str, Any]:
    out = {k: (list(v) if isinstance(v, list) else v) for k, v in conf.items()}
    # Checkov puts a reference of the configuration where a planned value is null; Terraform
    # evaluated it to null (`try(x, null)`, a null input): it is absent, not unresolved.
    for key, value in resource.values.items():
        if value is None and resource.unknown.get(key) is not True:
            out[key] = [None]

    def refs(path: str) -> list[str]:
        steps = [int(p) if p.isdigit() else p for p in path.split(".")]
        return plan.references(resource, *steps)

    _mark_unknown(out, resource.unknown, refs)
    return out


# ---- provider blocks in plan mode ------------------------------------------------------------


def provider_key(address: str) -> str:
    """Checkov's provider address ("aws.default", "aws.backup") as the plan's configuration key
    ("aws", "aws.backup")."""
    name, _, alias = address.partition(".")
    return name if alias in ("", "default") else f"{name}.{alias}"


def provider_source_block(scope: Scope, key: str) -> Any:
    """The provider block of the root module with this configuration key, from the source."""
    from generator.policies.evidence_source import blocks_in

    root = scope.source_root
    if root is None:
        return None
    name, _, alias = key.partition(".")
    for block in blocks_in(root):
        if block.kind == "provider" and block.labels == (name,) and (block.raw("alias") or "") == alias:
            return block
    return None


def _from_expressions(expressions: Mapping[str, Any], scope: Scope, source: Any,
                      path: tuple[Any, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, expression in expressions.items():
        if isinstance(expression, list):
            out[name] = [_from_expressions(e, scope, source, (*path, name, i))
                         for i, e in enumerate(expression) if isinstance(e, Mapping)]
        elif isinstance(expression, Mapping) and "constant_value" in expression:
            out[name] = [expression["constant_value"]]
        elif isinstance(expression, Mapping):
            out[name] = [_provider_reference(scope, source, (*path, name), expression)]
    return out


def _provider_reference(scope: Scope, source: Any, path: tuple[Any, ...], expression: Mapping) -> Any:
    """A provider argument that is not a constant: a root variable's value when the source shows
    the argument is exactly `var.x`, else Unresolved."""
    refs = list(expression.get("references") or [])
    text = source.raw(*path) if source is not None else None
    m = re.fullmatch(r"\$\{var\.([A-Za-z0-9_-]+)\}", text.strip()) if isinstance(text, str) else None
    if m and scope.plan is not None and m.group(1) in scope.plan.variables:
        return scope.plan.variables[m.group(1)]
    shown = ", ".join(refs) or "an expression"
    why = "the plan records provider arguments only as constants or references"
    return Unresolved(f"{shown}: {why}", "not-in-plan")


def provider_configured(scope: Scope, key: str) -> bool:
    """Plan mode: whether the provider configuration `key` is one the root really has: written
    as a block (arguments in the plan, or the block in the .tf source) or used by a resource.
    Terraform lists an empty configuration for every provider the root requires, e.g. a bare
    `aws` next to the `aws.backup` a blueprint writes; that one configures nothing."""
    if scope.plan is None:
        return True
    entry = scope.plan.provider_configs().get(key)
    if entry is None:
        return False
    if entry.get("expressions") or key in scope.plan.used_provider_keys():
        return True
    return provider_source_block(scope, key) is not None


def provider_conf(scope: Scope, key: str | None = None) -> dict[str, Any]:
    """The provider block as a check reads it: Checkov's block in HCL mode; in plan mode rebuilt
    from the plan's `provider_config` (every argument and nested block, root variables resolved
    where the source shows the argument is exactly `var.x`). `key` picks another provider
    configuration of the plan ("aws", "aws.backup") than the block being checked."""
    if scope.plan is None:
        return dict(scope.conf)
    key = key or provider_key(scope.address)
    entry = scope.plan.provider_configs().get(key) or {}
    conf = _from_expressions(entry.get("expressions") or {}, scope, provider_source_block(scope, key), ())
    if "alias" in entry:
        conf["alias"] = [entry["alias"]]
    return conf


# ---- nested blocks, dynamic ones included ---------------------------------------------------


def nested_blocks(scope: Scope, name: str) -> list[dict[str, Any]] | Unresolved:
    """The `name` blocks of the resource as they will exist.

    Plan mode: the planned blocks (Terraform expanded every dynamic block). HCL mode: static
    blocks from the conf; a `dynamic "<name>"` block from the scan graph, which holds its
    evaluated `for_each` and content (the conf has it rendered once whatever its for_each):
    one block per for_each element with `<name>.value`/`<name>.key` substituted, none for an
    empty for_each, Unresolved when Checkov could not evaluate the for_each.
    """
    if scope.plan is not None:
        return blocks(scope.conf, name)
    node = scope.node
    dynamic = node.get("dynamic") if node else None
    entries = dynamic if isinstance(dynamic, list) else [dynamic] if isinstance(dynamic, Mapping) else []
    found = [e[name] for e in entries if isinstance(e, Mapping) and isinstance(e.get(name), Mapping)]
    if not found:
        return blocks(scope.conf, name)
    out: list[dict[str, Any]] = []
    for block in found:
        for_each = block.get("for_each")
        content = block.get("content") if isinstance(block.get("content"), Mapping) else {}
        if isinstance(for_each, Mapping):
            items = list(for_each.items())
        elif isinstance(for_each, list):
            items = list(enumerate(for_each))
        else:
            return Unresolved(f"dynamic \"{name}\" block, for_each {for_each}")
        for key, value in items:
            out.append({k: [_placeholder(v, name, key, value)] for k, v in content.items()})
    return out


def _placeholder(value: Any, name: str, key: Any, element: Any) -> Any:
    if value == f"{name}.value":
        return element
    if value == f"{name}.key":
        return key
    return value
