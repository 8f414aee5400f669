"""Corrections waiting to be learned, kept in the store under queue/: whichever worker commits next, on whichever
machine, learns every one queued (group commit across machines), and the version it publishes says what became
of each (learned: its sample_id in the history; refused or withdrawn: its key in `unlearned`)."""

import json
import logging
import re
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from recognizer.nets import weights

PREFIX = "queue/"
KEY = re.compile(r"^queue/[0-9A-Za-z-]+\.[0-9a-f]{12}\.npz$")  # <sample_id>.<nonce: one per try>.npz
READERS = 8  # entries read at once: each read waits on the store, not on the CPU

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)  # its arrays have no truth value: one is equal to itself alone
class Queued:
    """One correction to learn: the drawing and its variants as 28x28 uint8 images, its label, the stored
    drawing's sample_id and who sent it. `key` is its queue entry; each try of a request queues an entry of its
    own. `features` are the original CNN's features of the drawing and its variants (float16), computed by the
    request that queued it: most of what learning it costs, on a core the learner does not need."""

    image: np.ndarray
    variants: np.ndarray
    digit: int
    sample_id: str = None
    request: str = None
    client: str = None
    at: float = None
    key: str = None
    features: np.ndarray = None

    @classmethod
    def new(cls, image, variants, digit, sample_id, request=None, client=None, at=None):
        """A correction ready to queue, its 28x28 [0, 1] images quantised as every worker will read them."""
        key = f"{PREFIX}{sample_id}.{uuid.uuid4().hex[:12]}.npz"
        images = weights.to_uint8(image), weights.to_uint8(np.asarray(variants).reshape(-1, 28, 28))
        return cls(*images, int(digit), sample_id, request, client, at, key)

    def settled_by(self, done):
        """Whether a version whose `settled` set is `done` learned this correction, or refused or withdrew it."""
        return self.sample_id in done or self.key in done

    def images(self):
        """The drawing and its variants as the models read them: float32 in [0, 1]."""
        return np.concatenate([self.image[None], self.variants]) / np.float32(255.0)

    def to_bytes(self):
        fields = {"digit": self.digit, "sample_id": self.sample_id, "request": self.request, "client": self.client}
        meta = np.frombuffer(json.dumps({**fields, "at": self.at}).encode(), dtype=np.uint8)
        features = {} if self.features is None else {"features": self.features}
        return weights.to_bytes({"image": self.image, "variants": self.variants, "meta": meta, **features})

    @classmethod
    def from_bytes(cls, key, data):
        arrays = weights.load(data)
        meta = json.loads(arrays["meta"].tobytes())
        return cls(arrays["image"], arrays["variants"], key=key, features=arrays.get("features"), **meta)


def read(store, key):
    """The entry stored under `key`: KeyError when absent; whatever reading bytes that are not one raises."""
    return Queued.from_bytes(key, store.get(key)[0])


class Queue:
    """The store's queue of corrections, with the entries this process has read (they never change) and those it
    is removing (not read again while a listing still shows them)."""

    def __init__(self, store):
        self.store = store
        self._read, self._removed = {}, set()
        self._pool = ThreadPoolExecutor(READERS, thread_name_prefix="queue")

    def put(self, item):
        """Queue `item` for whichever worker commits next."""
        try:
            self.store.put_new(item.key, item.to_bytes())
        except FileExistsError:  # its key has a part only this try knows: a write of ours landed, its answer lost
            pass  # (and a learner may have taken it from the queue already, so there may be nothing to read back)
        self._read[item.key] = item

    def waiting(self):
        """Every queued entry, oldest first (sample ids start with the time): read in parallel, each once."""
        keys = [key for key in self.store.keys(PREFIX) if KEY.match(key)]
        self._removed &= set(keys)  # gone from the listing: forgotten
        keys = [key for key in keys if key not in self._removed]
        self._read = {key: self._read[key] for key in keys if key in self._read}  # forget what others removed
        unread = [key for key in keys if key not in self._read]
        for key, item in zip(unread, self._pool.map(self._get, unread)):
            if item is not None:
                self._read[key] = item
        return sorted((self._read[key] for key in keys if key in self._read), key=lambda item: item.key)

    def _get(self, key):
        """The entry under `key`; None once another worker removed it, or when it cannot be read as one."""
        try:
            return read(self.store, key)
        except KeyError:
            return None
        except Exception as error:  # noqa: BLE001 - bytes that are not an entry: left for `check` to report
            log.warning("%s cannot be read as a queued correction: %s", key, error)
            return None

    def remove(self, items):
        """Delete entries in the background, in one request (the future says when): one left behind is listed and
        read again by the next worker to commit, and settled already."""
        keys = [item.key for item in items]
        for key in keys:
            self._read.pop(key, None)
        self._removed.update(keys)
        return self._pool.submit(self._delete, keys)

    def _delete(self, keys):
        try:
            self.store.delete_many(keys)
        except Exception as error:  # noqa: BLE001 - any store failure: the next worker to commit lists them again
            self._removed.difference_update(keys)
            log.info("could not remove %d entries from the queue: %s", len(keys), error)


def settled(state):
    """What the version `state` settled: the sample ids it learned and the queue keys it refused or withdrew."""
    return {h["sample_id"] for h in state.history if "sample_id" in h} | {u["key"] for u in state.unlearned}
