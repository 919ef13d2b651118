"""Jinja rendering for every generated C/C++ and config file: StrictUndefined (a missing value is
a bug, never an empty string), and every file starts with a "generated — do not edit" header."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import jinja2

from tinyml import __version__
from tinyml.errors import TinymlError
from tinyml.resources import data_dir

_C_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_C_KEYWORDS = frozenset(
    "auto break case char const continue default do double else enum extern float for goto if inline int long "
    "register restrict return short signed sizeof static struct switch typedef union unsigned void volatile while "
    "alignas alignof bool class constexpr delete explicit false friend mutable namespace new noexcept nullptr "
    "operator private protected public template this throw true try typename using virtual".split())


def c_identifier(name: str, what: str = "name") -> str:
    if not _C_IDENT.match(name) or name in _C_KEYWORDS:
        raise TinymlError(f"{what} '{name}' is not a valid C identifier; use letters, digits and _ "
                          "(not starting with a digit, not a C/C++ keyword)")
    return name


def c_string(text: str) -> str:
    """A C string literal body (escaped; non-ASCII replaced)."""
    out = []
    for ch in text:
        if ch in '\\"':
            out.append("\\" + ch)
        elif 32 <= ord(ch) < 127:
            out.append(ch)
        else:
            out.append("?")
    return '"' + "".join(out) + '"'


def c_float(value: float) -> str:
    """A C float literal that rounds back to the same float32 (the shortest repr of the double)."""
    return f"{float(value)!r}f"


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(data_dir("templates"))),
                             undefined=jinja2.StrictUndefined, keep_trailing_newline=True, trim_blocks=True,
                             lstrip_blocks=True, autoescape=False)
    env.filters.update(c_string=c_string, c_float=c_float, c_identifier=c_identifier)
    env.globals["tinyml_version"] = __version__
    return env


def render(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)
