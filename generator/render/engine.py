"""Jinja2 environments that print only encoded values.

Each output language has its own environment whose `finalize` refuses anything that did not
come out of that language's encoder: a template that prints a raw spec value fails to render
instead of producing injectable text.
"""

from __future__ import annotations

import hashlib
import os
from functools import cache
from pathlib import Path
from typing import Any

import jinja2

from generator import __version__
from generator.cache import cache_root
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


_OPTIONS: dict[str, Any] = {"autoescape": False, "keep_trailing_newline": True,
                            "trim_blocks": True, "lstrip_blocks": True}


class _BytecodeCache(jinja2.FileSystemBytecodeCache):
    """Compiled templates kept between runs, as Python keeps `.pyc` files: parsing and compiling
    the templates is most of a small blueprint's generation time. Jinja checks each entry
    against the template's source and the Python version; the key adds what Jinja does not
    check (its version and ours, and the environment's options), so a stale entry is never used."""

    def __init__(self, directory: str, salt: str) -> None:
        super().__init__(directory)
        self.salt = salt

    def get_cache_key(self, name: str, filename: str | None = None) -> str:
        return hashlib.sha256(f"{self.salt}|{name}|{filename}".encode()).hexdigest()


def cache_directory() -> Path | None:
    """Where compiled templates are kept, or None when `SAFESPRING_BLUEPRINTS_NO_CACHE` is set."""
    if os.environ.get("SAFESPRING_BLUEPRINTS_NO_CACHE"):
        return None
    return cache_root() / "templates"


def _bytecode_cache(kind: type) -> jinja2.BytecodeCache | None:
    directory = cache_directory()
    if directory is None:
        return None
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError:  # a read-only home: compile every time rather than fail
        return None
    if not os.access(directory, os.W_OK):
        return None
    salt = (f"{__version__}|{jinja2.__version__}|{kind.__module__}.{kind.__qualname__}|"
            f"{sorted(_OPTIONS.items())}")
    return _BytecodeCache(str(directory), salt)


def _environment(kind: type, filters: dict[str, Any]) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("generator", "render/templates"),
        finalize=_guard(kind),
        undefined=jinja2.StrictUndefined,
        bytecode_cache=_bytecode_cache(kind),
        **_OPTIONS,
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
