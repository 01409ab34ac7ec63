"""Quote input in error messages without pasting it whole: a few examples, each cut short."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable

#: longest quotation of one value, in characters
MAX_QUOTED_CHARS = 80
#: values listed before the rest is summarised as a count
MAX_EXAMPLES = 5


def quote(value: Any, *, max_chars: int = MAX_QUOTED_CHARS) -> str:
    """``repr(value)``, cut to ``max_chars`` characters with the number of characters left out.

    Examples
    --------
    >>> quote("x" * 200, max_chars=10)
    "'xxxxxxxxx... (191 more characters)"
    """
    text = repr(value)
    if len(text) <= max_chars:
        return text
    return f"{text[: max_chars - 1]}... ({len(text) - max_chars + 1} more characters)"


def examples(values: Iterable[Any], *, limit: int = MAX_EXAMPLES) -> str:
    """The first ``limit`` values, quoted, and how many more there are.

    Examples
    --------
    >>> examples(["a", "b", "c"], limit=2)
    "'a', 'b' and 1 more"
    """
    items = list(values)
    shown = ", ".join(quote(v) for v in items[:limit])
    rest = len(items) - limit
    return f"{shown} and {rest} more" if rest > 0 else shown
