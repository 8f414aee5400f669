"""Which worker learns for every machine: a lease in the store, taken, renewed and given back by compare-and-swap.

One learner at a time commits the whole queue while the others read the versions it publishes, so the machines
do not compute updates of which only one can win. The lease is an efficiency, not the safety: the pointer's
compare-and-swap keeps every update whoever commits, so a clock that is off or a holder that died only costs time
(its lease runs out after SECONDS).
"""

import json
import time
import uuid

KEY = "models/learner.json"
SECONDS = 2.0
LOOK_AGAIN = 0.2  # seconds before another worker's lease is read again (it may have been given back) ...
BUSY = 0.5  # ... or this long after it was seen publishing a version: a learner at work keeps its lease


class Lease:
    """This worker's view of the lease: whether it holds it, and until when."""

    def __init__(self, store, seconds=SECONDS):
        self.store, self.seconds = store, seconds
        self.holder = uuid.uuid4().hex
        self._etag, self._until, self._theirs_until = None, 0.0, 0.0

    def held(self):
        """Whether this worker holds the lease now: renewed when half of it has gone, taken when it is free. Another
        worker's lease is read again after at most LOOK_AGAIN seconds (BUSY after it published): it may have been
        given back."""
        now = time.time()
        if self._until - now > self.seconds / 2:
            return True
        if self._until > now and self._write(self._etag, now):  # ours: renewed without reading it first
            return True
        if now < self._theirs_until:
            return False
        try:
            data, etag = self.store.get(KEY)
        except KeyError:
            data, etag = b"{}", None
        try:
            lease = json.loads(data)
            if lease["holder"] != self.holder and lease["until"] > now:
                self._theirs_until = min(lease["until"], now + LOOK_AGAIN)
                return False
        except (ValueError, TypeError, KeyError):
            pass  # not a lease this code wrote: taken over
        return self._write(etag, now)

    def published(self):
        """Another worker was just seen publishing a version: its lease need not be read again for BUSY seconds."""
        if self._until <= time.time():
            self._theirs_until = max(self._theirs_until, time.time() + BUSY)

    def release(self):
        """Give the lease back, so that the next worker with corrections to learn need not wait for it to run out."""
        if self._until > time.time():
            self._until = 0.0
            self.store.swap(KEY, json.dumps({"holder": self.holder, "until": 0}).encode(), self._etag)

    def _write(self, etag, now):
        data = json.dumps({"holder": self.holder, "until": now + self.seconds}).encode()
        written = self.store.swap(KEY, data, etag)
        self._etag, self._until = written, (now + self.seconds) if written else 0.0
        return bool(written)
