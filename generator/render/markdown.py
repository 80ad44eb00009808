"""Encoder for spec values printed into generated Markdown (blueprint README)."""

from __future__ import annotations

import re
from typing import Any

_TOKEN = object()
_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~])")


class Markdown(str):
    """Markdown text in which spec values cannot open markup. Created only here."""

    __slots__ = ()

    def __new__(cls, text: str, token: object = None) -> Markdown:
        if token is not _TOKEN:
            raise TypeError("Markdown text is made only by generator.render.markdown")
        return super().__new__(cls, text)


def text(value: Any) -> Markdown:
    """A value as inline Markdown: one line, markup characters escaped."""
    if isinstance(value, Markdown):
        return value
    flat = " ".join(str(value).split())
    return Markdown(_SPECIAL.sub(r"\\\1", flat), _TOKEN)


def code(value: Any) -> Markdown:
    """A value as inline code; backticks in it are replaced so the span cannot close early."""
    flat = " ".join(str(value).split()).replace("`", "'")
    return Markdown(f"`{flat}`", _TOKEN)


def plain(value: Any) -> Markdown:
    """A value inside a fenced code block: one line, no backticks (the fence cannot close)."""
    return Markdown(" ".join(str(value).split()).replace("`", "'"), _TOKEN)
