"""The drawings people sent, as the store keeps them: drawings/<digit>/<sample_id>.png plus its .json, and how many
there are of each digit: counts/<digit>.json, moved by compare-and-swap with every drawing stored, so that
counting them never lists the store (`python -m recognizer.commands.check --repair` rebuilds them by listing)."""

import datetime
import json
import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass

import numpy as np

from recognizer.reading.images import ink_from_bytes, ink_png
from recognizer.state.store import StoreUnavailable

ONCE_KEPT = 1000  # the newest sample ids given by retried requests a counter remembers having counted
COUNT_ATTEMPTS = 100
WRITES_KEPT = 64  # the last writes a counter knows (a writer whose answer was lost reads it again within a few)


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


def listed_counts(store):
    """Stored drawings per digit ("0" to "9"), by listing every one: what the counters should say."""
    found = Counter(drawing.digit for drawing in stored_drawings(store))
    return {str(d): found[d] for d in range(10)}


def counter_key(digit):
    return f"counts/{digit}.json"


def _counter(store, digit):
    """(the counter of `digit`'s drawings, its ETag; None while absent)."""
    try:
        data, etag = store.get(counter_key(digit))
        return json.loads(data), etag
    except KeyError:
        return {"count": 0, "once": []}, None


def counts(store):
    """Stored drawings per digit ("0" to "9"), as the counters say: ten small reads however many there are."""
    return {str(d): _counter(store, d)[0]["count"] for d in range(10)}


def set_counter(store, digit, change):
    """Move `digit`'s counter to `change(counter)` by compare-and-swap, again if another writer moved it first;
    `change` returning None leaves it as it is. The counter keeps a token of each of its last writes: a swap that
    landed though its answer was lost (an S3 client's retry then meets 412) is known by it, even after others
    wrote, and is not applied twice."""
    written = None
    for attempt in range(COUNT_ATTEMPTS):
        counter, etag = _counter(store, digit)
        writes = counter.get("writes", [])
        if written in writes:
            return
        new = change(counter)
        if new is None:
            return
        written = uuid.uuid4().hex[:12]
        data = json.dumps({**new, "writes": (writes + [written])[-WRITES_KEPT:]}).encode()
        if store.swap(counter_key(digit), data, etag):
            return
        time.sleep(random.uniform(0, min(0.005 * (attempt + 1), 0.1)))
    raise StoreUnavailable(f"the counter of {digit}s kept changing under {COUNT_ATTEMPTS} writes")


def count(store, digit, once=None):
    """Count one more drawing of `digit`; a drawing `once` names (a retried request's sample id) only once."""

    def one_more(counter):
        if once and once in counter["once"]:
            return None
        return {"count": counter["count"] + 1, "once": (counter["once"] + ([once] if once else []))[-ONCE_KEPT:]}

    set_counter(store, digit, one_more)


def new_sample_id():
    """Sortable by time (replay order), unique across workers."""
    return datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%S%fZ") + "-" + uuid.uuid4().hex[:8]


def keep(store, ink, digit, route, shown, sample_id=None, strokes=None, client=None, counted=True):
    """Write the labelled drawing and its metadata: immutable, before anything else happens, then count it (unless
    not `counted`: the caller then calls count(store, digit, sample_id given)). A `sample_id` given (a retried
    request's, or one the caller chose: new_sample_id) completes whatever part of that drawing is not stored or
    counted yet. `strokes` (the drawing's, in its pixels) are kept in the metadata; `client` is the salted hash of
    who sent it (service.client_key), never the address."""
    once, sample_id = sample_id, sample_id or new_sample_id()
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
    if strokes is not None:
        meta["strokes"] = kept_strokes(strokes)
    # the metadata first: the PNG is what makes a drawing count, so a write that fails half-way leaves none
    for key, data in (
        (f"drawings/{digit}/{sample_id}.json", json.dumps(meta).encode()),
        (f"drawings/{digit}/{sample_id}.png", ink_png(ink)),
    ):
        try:
            store.put_new(key, data)
        except FileExistsError:
            pass  # written by the first try of this request
    if counted:
        count(store, digit, once)
    return sample_id


def kept_strokes(strokes):
    """Strokes as the metadata keeps them: lists of points, each number to 2 decimals (a hundredth of a pixel)."""
    return [[[round(v, 2) for v in point] for point in np.asarray(stroke).tolist()] for stroke in strokes]


def claim_sample_id(store, request):
    """The sample_id a retried request's drawing was stored under, claimed by its first try."""
    key = f"requests/{request}/drawing.json"
    try:
        store.put_new(key, json.dumps({"sample_id": new_sample_id()}).encode())
    except FileExistsError:
        pass
    return json.loads(store.get(key)[0])["sample_id"]
