"""The one bounded cache of work on texts (grading/text_cache.py), and the two that use it."""

import pytest

from lr_course.grading import flags, submission
from lr_course.grading.text_cache import bounded_text_cache


def _counting(max_chars, maxsize=4):
    calls = []

    @bounded_text_cache(max_chars=max_chars, maxsize=maxsize)
    def work(text):
        calls.append(text)
        return len(text)

    return work, calls


def test_a_text_up_to_the_bound_is_cached_and_a_longer_one_is_not():
    work, calls = _counting(max_chars=5)
    for text in ("abcde", "abcde", "abcdef", "abcdef"):
        assert work(text) == len(text)
    assert calls == ["abcde", "abcdef", "abcdef"]
    assert work.cache_info().currsize == 1      # the long text was never kept


def test_at_most_maxsize_texts_are_kept():
    work, calls = _counting(max_chars=10, maxsize=2)
    for text in ("a", "b", "c", "a"):
        work(text)
    assert calls == ["a", "b", "c", "a"]          # "a" was the least recently used, and dropped
    assert work.cache_info().currsize == 2


@pytest.mark.parametrize("option", [{"max_chars": 0}, {"maxsize": -1}, {"max_chars": 1.5}])
def test_a_bad_bound_is_refused_by_name(option):
    with pytest.raises(ValueError, match=next(iter(option))):
        bounded_text_cache(**option)


@pytest.mark.parametrize("work", [flags._scan_cached, submission._transform],
                         ids=["flags scan", "magics transform"])
def test_the_scan_and_the_transform_keep_only_short_texts(work):
    assert work.max_chars == 16384
    work.cache_clear()
    short, long = "import os\nx = 1\n", "x = 1\n" * 3000
    for text in (short, short, long, long):
        work(text)
    info = work.cache_info()
    assert (info.hits, info.misses, info.currsize) == (1, 1, 1)
