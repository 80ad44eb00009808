"""Values as a check reads them, in either scan mode, with what is unknown made explicit.

Checkov hands a check one block as lists of values (`size: [10]`, list attributes twice,
blocks as lists of dicts); in HCL mode anything it could not evaluate stays as the expression's
text. The readers here unwrap values, evaluate the `try()`/`lookup()` Checkov leaves as text,
and turn every other leftover expression into an `Unresolved` that says why it is unknown and
what would make it known. Nothing here imports Checkov.

What Checkov 3.3.30 presents in HCL mode (found by experiment on the generated blueprints;
tests/policies pins the behaviour relied on):

* Resources of local modules are addressed `module.<call>.<type>.<name>`. When Checkov can
  render the module, `count` is expanded to `...this[0]`, `...this[1]` and `for_each` over a
  map (also a map of objects) to `...this["key"]`, with module inputs, `each.value.*` and
  `count.index` substituted; the `count`/`for_each` attribute is then gone.
* When it cannot render a module, the module's resources stay ONE unexpanded resource each,
  still carrying `count`/`for_each`, with raw `var.x` / `each.value.x` strings: a module↔module
  cycle through outputs (legal in Terraform, whose graph is per resource), a `for_each` map
  whose values contain a reference, or a value longer than CHECKOV_RENDER_MAX_LEN characters
  (the pack raises that limit: generator/evidence/check.py).
* An optional object attribute left out of a `for_each` value stays the string
  `each.value.<attr>`; it is indistinguishable from an unresolved value.
* Conditionals whose operands are unresolved are evaluated anyway and silently take a branch
  (Python truthiness on the text). Never trust a derived value; read the raw evidence attribute.
* Locals inside modules are often left unresolved, and functions Checkov does not implement
  stay as text (`startswith(b2.c4r16,"b2.")`).
* `merge(var.metadata, {...})` is sometimes a dict and sometimes the partly evaluated string
  `merge({'a': 'b'},{'ssb_encryption': luks-tang})`, depending on PYTHONHASHSEED; map lookups
  read both forms, and a string that still holds a reference is unresolved.
* Dynamic blocks are rendered once with `<name>.value` placeholders whatever their `for_each`
  is (generator/evidence/scope.py reads them from the scan graph).
* `jsonencode()` of a policy may come back as a dict with `"Version": 1985` (2012-10-17
  evaluated as arithmetic) or as a string; booleans inside become `'False'`/`'True'`.
* A module output can resolve to the output of another call of the same module source: do not
  check cross-module links.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

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
        return f"{HCL_UNRESOLVED} ({text}){HCL_ADVICE}"


MISSING = object()
# How an expression Checkov's HCL evaluation left is worded (Unresolved, kind "hcl"), and what a
# plan-mode finding says instead (generator/evidence/check.py): there the plan is already
# scanned, and the expression was read from the .tf source.
HCL_UNRESOLVED = "unresolved by Checkov's HCL evaluation"
HCL_ADVICE = "; scanning the plan (scan DIR --plan) lets Terraform evaluate it"
PLAN_UNRESOLVED = "an expression read from the .tf source"
PLAN_ADVICE = ", whose value the plan does not give this check"


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
        value = unwrap(conf["for_each"])
        if isinstance(value, str) and value.startswith(LEFTOVERS):
            # `try(each.value.data_disks, {})` of an element without the attribute: Terraform
            # creates nothing (Checkov leaves such a resource unexpanded).
            value = evaluate_leftover(value, expanded=True)
        return value in ({}, [], None) or conf["for_each"] in ([{}], [[]])
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
        args = split_arguments(text)
        if not args or len(args) not in (2, 3):
            return Unresolved(text)
        mapping = literal(args[0]) if args[0].startswith("{") else None
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


def split_arguments(text: str) -> list[str] | None:
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
    args = split_arguments(text) if text.startswith("try(") else None
    if not args:
        return Unresolved(text)
    for arg in args:
        if arg in ("None", "null"):
            return None
        if arg in ("{}", "[]"):
            return {} if arg == "{}" else []
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


def literal(text: str) -> Any:
    """Python-literal text as Checkov prints it, after repairing its known quoting slip."""
    # `"${aws_s3_bucket.this.arn}/*"` comes out as `''aws_s3_bucket.this.arn'/*'`.
    text = re.sub(r"''([^',]*)'([^',]*)'", r"'\1\2'", text)
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return None
