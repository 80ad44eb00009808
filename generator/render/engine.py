"""Jinja2 environments that print only encoded values.

Each output language has its own environment whose `finalize` refuses anything that did not
come out of that language's encoder: a template that prints a raw spec value fails to render
instead of producing injectable text.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import jinja2

from generator.render import hcl, markdown


class RawValueError(TypeError):
    """A template tried to print a value that no encoder produced."""


def _guard(kind: type) -> Any:
    def finalize(value: Any) -> Any:
        if isinstance(value, kind):
            return value
        raise RawValueError(
            f"refusing to print unencoded {type(value).__name__} {str(value)[:40]!r}: "
            f"pass it through an encoder filter first"
        )

    return finalize


def _defined(encoder: Any) -> Any:
    """Wrap an encoder so an undefined template variable fails loudly, not as a TypeError."""

    def encode(value: Any, *args: Any) -> Any:
        if isinstance(value, jinja2.Undefined):
            value._fail_with_undefined_error()
        return encoder(value, *args)

    return encode


def _environment(kind: type, filters: dict[str, Any]) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("generator", "render/templates"),
        finalize=_guard(kind),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update({name: _defined(fn) for name, fn in filters.items()})
    return env


@cache
def hcl_environment() -> jinja2.Environment:
    """For `.tf` templates: filters `hcl` (literal), `ident`, `ref`."""
    return _environment(hcl.HCL, {"hcl": hcl.encode, "ident": hcl.ident, "key": hcl.key_of,
                                              "comment": hcl.comment})


@cache
def markdown_environment() -> jinja2.Environment:
    """For Markdown templates: filters `md` (escaped text) and `code` (inline code)."""
    return _environment(markdown.Markdown, {"md": markdown.text, "code": markdown.code,
                                                         "plain": markdown.plain})


def render_hcl(template: str, **context: Any) -> str:
    """Render a `.tf` template and lay it out as `terraform fmt` would."""
    env = hcl_environment()
    context.setdefault("ref", hcl.ref)
    context.setdefault("module_file", hcl.module_file)
    context.setdefault("index", hcl.index)
    return hcl.canonical(env.get_template(template).render(**context))


def render_markdown(template: str, **context: Any) -> str:
    """Render a Markdown template."""
    return markdown_environment().get_template(template).render(**context)
