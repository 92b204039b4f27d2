"""The response cache: least recently used out first, bounded in entries and in bytes."""

from __future__ import annotations

from limelight.service.cache import ResponseCache


def test_the_least_recently_used_answer_goes_first() -> None:
    """Eviction went by insertion order: a member's page read a thousand times went before one read once."""
    cache = ResponseCache(max_entries=2)
    cache.put("home", "a", None, b"A")
    cache.put("home", "b", None, b"B")
    assert cache.get("home", "a") == b"A"  # used: now the most recent
    cache.put("home", "c", None, b"C")
    assert cache.peek("home", "a") == b"A" and cache.peek("home", "b") is None


def test_the_cache_is_bounded_in_bytes_too() -> None:
    """50,000 entries of up to 15 KB each could hold 0.75 GB."""
    cache = ResponseCache(max_entries=100, max_bytes=25)
    for owner in "abcd":
        cache.put("recs", owner, 10, b"x" * 10)
    assert cache.bytes <= 25 and len(cache) == 2
    assert cache.peek("recs", "c", 10) and cache.peek("recs", "d", 10) and not cache.peek("recs", "a", 10)
    cache.put("recs", "d", 10, b"y" * 5)  # replacing an answer counts its new size only
    cache.forget({"c"})
    assert cache.bytes == 5 and len(cache) == 1
    cache.clear()
    assert cache.bytes == 0 and len(cache) == 0


def test_an_answer_rendered_while_its_owner_was_forgotten_is_not_kept() -> None:
    cache = ResponseCache()

    def render() -> bytes:
        cache.forget({"m1"})  # the member's events were folded in meanwhile
        return b"stale"

    assert cache.fetch("home", "m1", None, render) == b"stale"
    assert cache.peek("home", "m1") is None
    assert cache.fetch("home", "m1", None, lambda: b"fresh") == b"fresh" and cache.peek("home", "m1") == b"fresh"
