"""A cache for work done on short texts, bounded in memory: :func:`bounded_text_cache`.

The grader meets the same short texts again and again: the cells most of a class leaves as
released, the same set-up lines in every notebook. Some work on a text (IPython's transformer
of magics, the static scan for suspicious code) costs far more than a look-up, so it is worth
doing once per process. A cache of every text would keep whatever a student sends, though;
this one keeps at most ``maxsize`` texts of at most ``max_chars`` characters each, and does
the work again for every longer text.

Imports only the standard library, so that any grading module may use it.
"""

from __future__ import annotations

import functools
from typing import Callable

__all__ = ["bounded_text_cache"]


def bounded_text_cache(max_chars: int = 16384, maxsize: int = 1024) -> Callable:
    """Decorator: remember ``fn(text)`` for texts of at most ``max_chars`` characters.

    The most recently used ``maxsize`` short texts and their results are kept (an LRU,
    :func:`functools.lru_cache`); a longer text is passed to ``fn`` on every call and never
    kept. The texts kept take at most ``max_chars * maxsize`` characters (16 Mi at the
    defaults), plus the results.

    Args:
        max_chars: the longest text that is cached (a positive int).
        maxsize: how many texts are kept at most (a positive int).

    Returns:
        A decorator for a function of one ``str``. The function it returns has the cache's
        ``cache_info()`` and ``cache_clear()``, and ``max_chars``.

    >>> seen = []
    >>> @bounded_text_cache(max_chars=3, maxsize=8)
    ... def shout(text):
    ...     seen.append(text)
    ...     return text.upper()
    >>> shout("abc"), shout("abc"), shout("abcd"), shout("abcd")
    ('ABC', 'ABC', 'ABCD', 'ABCD')
    >>> seen
    ['abc', 'abcd', 'abcd']
    """
    for name, value in (("max_chars", max_chars), ("maxsize", maxsize)):
        if type(value) is not int or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")

    def decorate(fn: Callable[[str], object]) -> Callable[[str], object]:
        cached = functools.lru_cache(maxsize=maxsize)(fn)

        @functools.wraps(fn)
        def lookup(text: str):
            return cached(text) if len(text) <= max_chars else fn(text)

        lookup.cache_info = cached.cache_info
        lookup.cache_clear = cached.cache_clear
        lookup.max_chars = max_chars
        return lookup

    return decorate
