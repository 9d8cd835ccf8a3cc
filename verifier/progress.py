"""How a long check reports its progress: a callback the caller may show as a bar.

A :data:`Progress` is called as ``progress(label, done, total)`` and gives a context
manager yielding ``advance(n)``; the library calls ``advance`` as entries are
checked. :func:`no_progress` shows nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

Advance = Callable[[int], None]
Progress = Callable[[str, int, int], AbstractContextManager[Advance]]


@contextmanager
def no_progress(_label: str, _done: int, _total: int) -> Iterator[Advance]:
    """A :data:`Progress` that shows nothing."""
    yield lambda _n: None
