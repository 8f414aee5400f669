"""The updated models' versions in a store: immutable version objects and a pointer moved by compare-and-swap."""
import json
import logging
import random
import time
import uuid

from recognizer.online import UpdatedModels
from recognizer.store import StoreUnavailable

POINTER = "models/current.json"
log = logging.getLogger(__name__)


class Contended(Exception):
    """Other writers kept winning the compare-and-swap; the correction was not applied."""


class ModelVersions:
    """Reads the current updated models and commits new versions, serialised across workers and machines."""

    def __init__(self, store, originals, keep=20, attempts=30):
        self.store = store
        self.originals = originals           # version 0: what the updated models are after a reset
        self.keep = keep
        self.attempts = attempts
        self._etag = None
        self._state = originals

    @property
    def state(self):
        """The newest version this process has seen."""
        return self._state

    def refresh(self):
        """Load the current version if the pointer moved; cheap when it did not (a conditional read)."""
        try:
            changed = self.store.get_if_changed(POINTER, self._etag)
        except KeyError:                     # nothing committed yet: the originals are current
            self._etag, self._state = None, self.originals
            return self._state
        if changed is not None:
            data, etag = changed
            pointer = json.loads(data)
            state = UpdatedModels.from_bytes(self.store.get(pointer["key"])[0])
            self._etag, self._state = etag, state
        return self._state

    def commit(self, change):
        """Apply `change(state) -> new state` to the newest version and publish it; retry if another writer won."""
        for attempt in range(self.attempts):
            current, etag = self.refresh(), self._etag
            new = change(current)
            key = f"models/v{new.version:08d}-{uuid.uuid4().hex[:12]}.npz"
            self.store.put_new(key, new.to_bytes())
            pointer = json.dumps({"version": new.version, "key": key, "previous": etag}).encode()
            if self.store.swap(POINTER, pointer, etag):
                self._prune()
                return self.refresh()
            self.store.delete(key)           # lost the race: that version was never current
            time.sleep(random.uniform(0, 0.02 * (attempt + 1)))
        raise Contended(f"gave up after {self.attempts} attempts: other updates kept winning")

    def history(self):
        """Keys of the stored versions, oldest first."""
        return [k for k in self.store.keys("models/") if k.endswith(".npz")]

    def _prune(self):
        """Delete all but the newest `keep` versions; a failure here loses nothing that is current."""
        try:
            old = sorted(self.history())[:-self.keep]
            for key in old:
                self.store.delete(key)
        except StoreUnavailable as error:
            log.warning("could not prune old model versions: %s", error)
