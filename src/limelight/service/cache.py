"""The online tier's precomputed answers: rendered JSON per member (and per title), kept until it changes.

A member's entries are dropped when their events are folded in; everything is dropped when a new
model version is swapped in. Bounded: past `max_entries` entries or `max_bytes` of rendered JSON (a
page of 100 recommendations is ~15 KB: 50,000 entries could hold 0.75 GB), the least recently used go first.

An answer rendered while its owner's events were being folded in is not kept: `forget` (before and after
a fold) moves the owner's epoch on, and `fetch` keeps what it rendered only if the epoch did not move
meanwhile. (Kept, it was the page from before the fold — the title just finished still on it — served
until the member's next event.)
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable

__all__ = ["ResponseCache"]


class ResponseCache:
    def __init__(self, max_entries: int = 50_000, max_bytes: int = 256 * 1024 * 1024) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.bytes = 0
        self._data: OrderedDict[tuple[str, str, Hashable], bytes] = OrderedDict()
        self._by_owner: dict[str, set[tuple[str, str, Hashable]]] = {}
        self._epoch: dict[str, int] = {}  # owner → how many times their answers were forgotten
        self._cleared = 0  # how many times everything was (a model swap)
        self.hits = 0
        self.misses = 0

    def get(self, kind: str, owner: str, variant: Hashable = None) -> bytes | None:
        key = (kind, owner, variant)
        found = self._data.get(key)
        if found is None:
            self.misses += 1
        else:
            self.hits += 1
            self._data.move_to_end(key)
        return found

    def peek(self, kind: str, owner: str, variant: Hashable = None) -> bytes | None:
        """The cached answer or None, without counting a hit or a miss (the caller counts)."""
        return self._data.get((kind, owner, variant))

    def put(self, kind: str, owner: str, variant: Hashable, body: bytes) -> None:
        if self.max_entries <= 0:
            return
        key = (kind, owner, variant)
        previous = self._data.pop(key, None)
        if previous is not None:
            self.bytes -= len(previous)
        self._data[key] = body
        self.bytes += len(body)
        self._by_owner.setdefault(owner, set()).add(key)
        while self._data and (len(self._data) > self.max_entries or self.bytes > self.max_bytes):
            old, dropped = self._data.popitem(last=False)
            self.bytes -= len(dropped)
            owned = self._by_owner.get(old[1])
            if owned is not None:
                owned.discard(old)

    def fetch(self, kind: str, owner: str, variant: Hashable, render: Callable[[], bytes]) -> bytes:
        """The cached answer, or `render()` it, keep it and return it."""
        body = self.get(kind, owner, variant)
        if body is None:
            epoch = (self._epoch.get(owner, 0), self._cleared)
            body = render()
            if (self._epoch.get(owner, 0), self._cleared) == epoch:  # not forgotten while rendering
                self.put(kind, owner, variant, body)
        return body

    def forget(self, owners: list[str] | set[str]) -> None:
        for owner in owners:
            self._epoch[owner] = self._epoch.get(owner, 0) + 1
            for key in self._by_owner.pop(owner, ()):
                dropped = self._data.pop(key, None)
                if dropped is not None:
                    self.bytes -= len(dropped)

    def clear(self) -> None:
        self._cleared += 1
        self._data.clear()
        self.bytes = 0
        self._by_owner.clear()

    def __len__(self) -> int:
        return len(self._data)
