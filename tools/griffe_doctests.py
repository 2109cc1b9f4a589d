"""A Griffe extension for the manual's Python reference: the docstrings' examples (bare ``>>>`` doctest blocks, as
the test suite runs them) become fenced ``pycon`` code, so Markdown does not read ``x["name"]`` as a link.

mkdocs.yml loads it through mkdocstrings' ``extensions`` option.
"""

from __future__ import annotations

from typing import Any

import griffe


def fence_doctests(text: str) -> str:
    """Each run of ``>>>`` lines and their output, fenced as ``pycon``; the rest unchanged.

    >>> print(fence_doctests("Adds.\\n\\n>>> 1 + 1\\n2\\n\\nMore."))
    Adds.
    <BLANKLINE>
    ```pycon
    >>> 1 + 1
    2
    ```
    <BLANKLINE>
    More.
    """
    out: list[str] = []
    inside = False
    fenced = False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
        if not fenced and not inside and line.lstrip().startswith(">>>"):
            indent = line[: len(line) - len(line.lstrip())]
            out.append(indent + "```pycon")
            inside = True
        elif inside and not line.strip():
            out.append(indent + "```")
            inside = False
        out.append(line)
    if inside:
        out.append(indent + "```")
    return "\n".join(out)


class FenceDoctests(griffe.Extension):
    """Fences the examples of every docstring Griffe reads."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = fence_doctests(obj.docstring.value)
