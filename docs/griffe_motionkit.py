"""Two conventions of motionkit's Google-style docstrings that griffe does not read on its own.

Loaded by mkdocstrings (``mkdocs.yml``), used only to build the API reference:

- ``Example:`` starts an examples section (griffe knows only ``Examples:``), so its ``>>>``
  lines render as code instead of nested block quotes;
- ``a, b: description`` in ``Args:`` documents each of ``a`` and ``b`` (griffe reads one name
  per item and would warn that a parameter ``"a, b"`` does not exist);
- Sphinx roles (``:class:`~motionkit.MotionField` ``, ``:func:`load_image` ``) become links to
  the object's entry in the reference, resolved in the docstring's scope; a role whose target
  the reference does not render stays plain code (an *optional* reference: no warning).
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_EXAMPLE = re.compile(r"^Example:[ \t]*$", re.M)
_SECTION = re.compile(r"^(?P<indent>[ \t]*)(?P<title>[A-Z][\w ]*):[ \t]*$")
_ARG_SECTIONS = {"Args", "Arguments", "Parameters", "Params", "Keyword Args", "Keyword Arguments", "Other Parameters"}
_ROLE = re.compile(r":(?:py:)?(?:class|func|meth|attr|mod|data|const|exc|obj):`(?P<tilde>~?)(?P<text>[^`<]*?)(?:\s*<(?P<target>[^`>]+)>)?`")
_NAMES = re.compile(r"^(?P<indent>[ \t]+)(?P<names>\w+(?:,[ \t]*\w+)+)(?P<rest>(?:[ \t]*\([^)]*\))?:.*)$")


def _split_names(text: str) -> str:
    """``a, b: desc`` items of argument sections become one item per name, same description."""
    lines = text.split("\n")
    out: list[str] = []
    in_args = False
    i = 0
    while i < len(lines):
        line = lines[i]
        section = _SECTION.match(line)
        if section and not section["indent"]:
            in_args = section["title"] in _ARG_SECTIONS
        elif line and not line[0].isspace():
            in_args = False
        item = _NAMES.match(line) if in_args else None
        if item is None:
            out.append(line)
            i += 1
            continue
        indent = item["indent"]
        body = []  # the item's continuation lines: indented deeper than the item, or blank
        j = i + 1
        while j < len(lines) and (not lines[j].strip() or len(lines[j]) - len(lines[j].lstrip()) > len(indent)):
            body.append(lines[j])
            j += 1
        while body and not body[-1].strip():
            body.pop()
            j -= 1
        for name in re.split(r",[ \t]*", item["names"]):
            out.append(f"{indent}{name}{item['rest']}")
            out.extend(body)
        i = j
    return "\n".join(out)


def _resolve(obj: griffe.Object, name: str) -> str:
    """``name`` as a full path, looked up in ``obj``'s scope like Python would (first part only)."""
    name = name.lstrip(".")
    first, _, rest = name.partition(".")
    try:
        path = obj.resolve(first)
    except griffe.NameResolutionError:
        return name
    return _defined_at(obj, f"{path}.{rest}") if rest else path


def _defined_at(obj: griffe.Object, path: str) -> str:
    """Where the reference shows ``Class.member``: a mixin's member is shown on the mixin's block."""
    owner, _, member = path.rpartition(".")
    try:
        cls = obj.modules_collection[owner]
        found = (cls.final_target if cls.is_alias else cls).all_members[member]
        return found.target_path if found.is_alias else found.path
    except Exception:  # anything unresolvable stays as written: an optional link, plain code if absent
        return path


def _roles(obj: griffe.Object, text: str) -> str:
    def link(match: re.Match) -> str:
        target = match["target"] or match["text"]
        shown = match["text"] if match["target"] else target.rsplit(".", 1)[-1] if match["tilde"] else target
        return f'<autoref identifier="{_resolve(obj, target)}" optional><code>{shown}</code></autoref>'

    return _ROLE.sub(link, text)


class MotionkitDocstrings(griffe.Extension):
    """Rewrites each docstring once the object tree is complete, before it is parsed."""

    def on_object(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is None:
            return
        obj.docstring.value = _roles(obj, _split_names(_EXAMPLE.sub("Examples:", obj.docstring.value)))
