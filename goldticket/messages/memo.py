"""What this process built, by the SHA-256 of the exact bytes, so that decoding those bytes
again in the same process (the embedded ledger's peer decoding the proposal its client just
built) costs a hash instead of a parse. Only bytes hashing alike hit: a message with any byte
changed misses and is decoded from scratch, and every signature is still checked over the bytes
themselves by whoever checks it. An entry is what decoding the bytes gives (tested)."""

from __future__ import annotations

import collections
import threading
from typing import Any

from .crypto import sha256

SIZE = 1024


class Memo:
    def __init__(self, size: int = SIZE) -> None:
        self._size = size
        self._entries: collections.OrderedDict[bytes, Any] = collections.OrderedDict()
        self._lock = threading.Lock()

    def remember(self, data: bytes, value: Any) -> None:
        digest = sha256(data)
        with self._lock:
            self._entries[digest] = value
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)

    def recall(self, data: bytes) -> Any | None:
        digest = sha256(data)
        with self._lock:
            return self._entries.get(digest)


PROPOSALS = Memo()
# Envelope payloads the embedded peer endorsed, as decode_transaction gives them: the signing
# service checking the payload it is asked to sign in the same process parses nothing (#22).
TRANSACTIONS = Memo()
