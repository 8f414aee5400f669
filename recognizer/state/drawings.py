"""The drawings people sent, as the store keeps them: drawings/<digit>/<sample_id>.png plus its .json."""

import datetime
import json
import time
import uuid
from collections import Counter
from dataclasses import dataclass

from recognizer.reading.images import ink_from_bytes, ink_png


@dataclass(frozen=True)
class Drawing:
    sample_id: str
    digit: int
    key: str  # the PNG's key; the metadata sits beside it as .json

    def png(self, store):
        return store.get(self.key)[0]

    def ink(self, store):
        """The drawing as the canvas sent it (ink = 1), ready for preprocessing."""
        return ink_from_bytes(self.png(store), "PNG")

    def meta(self, store):
        """The metadata (time, route, predictions shown), or None where it was never written."""
        try:
            return json.loads(store.get(self.key[: -len(".png")] + ".json")[0])
        except KeyError:
            return None


def stored_drawings(store):
    """Every stored drawing, oldest first: sample ids start with the time they came in."""
    found = []
    for key in store.keys("drawings/"):
        _, digit, name = key.split("/")
        if name.endswith(".png") and digit.isdigit():
            found.append(Drawing(name[: -len(".png")], int(digit), key))
    return sorted(found, key=lambda drawing: drawing.sample_id)


def counts(store):
    """Stored drawings per digit ("0" to "9")."""
    found = Counter(drawing.digit for drawing in stored_drawings(store))
    return {str(d): found[d] for d in range(10)}


def new_sample_id():
    """Sortable by time (replay order), unique across workers."""
    return datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%S%fZ") + "-" + uuid.uuid4().hex[:8]


def keep(store, ink, digit, route, shown, sample_id=None, client=None):
    """Write the labelled drawing and its metadata: immutable, before anything else happens. A `sample_id`
    given (a retried request's) completes whatever part of that drawing is not stored yet; `client` is the salted
    hash of who sent it (service.client_key), never the address."""
    sample_id = sample_id or new_sample_id()
    meta = {
        "sample_id": sample_id,
        "digit": digit,
        "route": route,
        "time": time.time(),
        "predictions": shown["predictions"],
        "answer": shown["answer"],
        "model_versions": shown["model_versions"],
        **({"client": client} if client else {}),
    }
    # the metadata first: the PNG is what makes a drawing count, so a write that fails half-way leaves none
    for key, data in (
        (f"drawings/{digit}/{sample_id}.json", json.dumps(meta).encode()),
        (f"drawings/{digit}/{sample_id}.png", ink_png(ink)),
    ):
        try:
            store.put_new(key, data)
        except FileExistsError:
            pass  # written by the first try of this request
    return sample_id


def claim_sample_id(store, request):
    """The sample_id a retried request's drawing was stored under, claimed by its first try."""
    key = f"requests/{request}/drawing.json"
    try:
        store.put_new(key, json.dumps({"sample_id": new_sample_id()}).encode())
    except FileExistsError:
        pass
    return json.loads(store.get(key)[0])["sample_id"]
