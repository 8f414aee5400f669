"""The updated models' versions in a store: immutable version objects and a pointer moved by compare-and-swap."""
import fcntl
import hashlib
import json
import logging
import random
import tempfile
import threading
import time
import uuid
from contextlib import contextmanager, nullcontext
from pathlib import Path

from recognizer.online import UpdatedModels
from recognizer.store import LocalStore, StoreUnavailable

POINTER = "models/current.json"
log = logging.getLogger(__name__)


class Contended(Exception):
    """Other writers kept winning the compare-and-swap; the correction was not applied."""


def host_lock(store):
    """The lock file that serialises this machine's committers to `store` (see ModelVersions).

    A local store keeps it in its own directory, so it goes when the store goes; another store's lives in
    the temporary directory, one per bucket and prefix.
    """
    if isinstance(store, LocalStore):
        return store.root / "commit.lock"
    return Path(tempfile.gettempdir()) / f"digits-commit-{hashlib.md5(repr(store).encode()).hexdigest()[:16]}.lock"


@contextmanager
def _locked(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)        # released by the kernel too if this process dies holding it
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


class ModelVersions:
    """Reads the current updated models and commits new versions, serialised across workers and machines.

    The compare-and-swap alone keeps every update; `lock` (a file, see host_lock) additionally makes the
    workers of one machine take turns, so that they do not each compute an update of which only one can win.
    """

    def __init__(self, store, originals, keep=20, attempts=30, lock=None):
        if keep < 1:
            raise ValueError(f"at least the current model version must be kept, not {keep}")
        self.store = store
        self.originals = originals           # version 0: what the updated models are after a reset
        self.keep = keep
        self.attempts = attempts
        self.lock = lock
        self._etag = None
        self._state = originals
        self._seq = 0                        # commits so far, resets included: orders the version objects
        self._reading = threading.RLock()    # a /predict thread's refresh must not change them mid-commit

    @property
    def state(self):
        """The newest version this process has seen."""
        return self._state

    def refresh(self):
        """Load the current version if the pointer moved; cheap when it did not (a conditional read)."""
        with self._reading:
            return self._refresh()

    def _refresh(self):
        for _ in range(self.attempts):
            try:
                changed = self.store.get_if_changed(POINTER, self._etag)
            except KeyError:                 # nothing committed yet: the originals are current
                self._etag, self._state, self._seq = None, self.originals, 0
                return self._state
            if changed is None:
                return self._state
            data, etag = changed
            pointer = json.loads(data)
            try:
                state = UpdatedModels.from_bytes(self.store.get(pointer["key"])[0])
            except KeyError:                 # pruned by newer commits between the two reads: read the pointer again
                continue
            self._etag, self._state, self._seq = etag, state, pointer.get("seq", 0)
            return state
        raise StoreUnavailable(f"the current model version kept vanishing while it was read from {POINTER}")

    def commit(self, change):
        """Apply `change(state) -> new state` to the newest version and publish it; retry if another writer won.
        Returns the version this call published (a newer one may already be current elsewhere)."""
        with _locked(self.lock) if self.lock else nullcontext():
            published = self._commit(change)
        self.refresh()
        return published

    def _commit(self, change):
        for attempt in range(self.attempts):
            with self._reading:              # the version, its pointer's ETag and its number, as one reading
                current, etag, seq = self.refresh(), self._etag, self._seq + 1
            new = change(current)
            key = f"models/{seq:08d}-v{new.version:08d}-{uuid.uuid4().hex[:12]}.npz"
            self.store.put_new(key, new.to_bytes())
            pointer = json.dumps({"version": new.version, "seq": seq, "key": key, "previous": etag}).encode()
            if self.store.swap(POINTER, pointer, etag) or self._published(key):
                self._prune()
                return new
            self.store.delete(key)           # lost the race: that version was never current
            time.sleep(random.uniform(0, 0.02 * (attempt + 1)))
        raise Contended(f"gave up after {self.attempts} attempts: other updates kept winning")

    def _published(self, key):
        """Whether the pointer names `key` after all: an S3 retry can report a conflict with its own first attempt."""
        try:
            return json.loads(self.store.get(POINTER)[0])["key"] == key
        except KeyError:
            return False

    def history(self):
        """Keys of the stored versions, oldest first (named by commit number: a reset's version 0 sorts in its turn)."""
        return [k for k in self.store.keys("models/") if k.endswith(".npz")]

    def _prune(self):
        """Delete all but the newest `keep` versions; a failure here loses nothing that is current."""
        try:
            history = sorted(self.history())
            old = history[:max(len(history) - self.keep, 0)]
            for key in old:
                self.store.delete(key)
        except StoreUnavailable as error:
            log.warning("could not prune old model versions: %s", error)
