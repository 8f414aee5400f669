"""The recognizer as the web app uses it: four models, the store, predictions, corrections and statistics."""
import datetime
import hashlib
import json
import logging
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import numpy as np

from recognizer import answer, segment, weights
from recognizer.augment import correction_variants
from recognizer.drawings import stored_drawings
from recognizer.images import ink_png, to_png_data_url
from recognizer.online import OnlineLearner, Refused, UpdatedModels
from recognizer.preprocess import BlankDrawing, to_mnist
from recognizer.store import StoreUnavailable
from recognizer.versions import Contended, ModelVersions, host_lock

MODELS = ("fnn", "fnn_updated", "cnn", "cnn_updated")
log = logging.getLogger(__name__)


class NotLearned(Exception):
    """A correction was stored but not learned: `refused` by the guard, or the store failed during the update."""

    def __init__(self, sample_id, cause):
        super().__init__(str(cause))
        self.sample_id, self.refused = sample_id, isinstance(cause, Refused)


def new_sample_id():
    """Sortable by time (replay order), unique across workers."""
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%S%fZ") + "-" + uuid.uuid4().hex[:8]


def request_key(request_id):
    """How a request_id is kept in the store and the history: hashed, so /stats shows no client's strings."""
    return hashlib.sha256(request_id.encode()).hexdigest()[:32]


def row(probs, i):
    """The four models' probabilities for image `i` of a batch."""
    return {name: probs[name][i] for name in MODELS}


def preprocessed(found):
    """(digit, its 28x28 image) for each digit found, leaving out one of faint ink only (nothing to read)."""
    for digit in found:
        try:
            yield digit, to_mnist(digit.ink)
        except BlankDrawing:
            pass


def reading(probs, image):
    """The answer, each model's top three and the preview for one image the four models read."""
    return {"answer": answer.choose(probs)[0], "predictions": {name: answer.top3(probs[name]) for name in MODELS},
            "preview": to_png_data_url(image)}


def described(entry, state, trouble=""):
    """A reading as the contract's top level: with its message (why no digit is named) and the model versions."""
    message = "; ".join(m for m in (answer.NOT_A_DIGIT if entry["answer"] is None else "", trouble) if m)
    return {"answer": entry["answer"], "message": message, "predictions": entry["predictions"],
            "model_versions": model_versions(state), "preview": entry["preview"]}


def model_versions(state):
    """The contract's model_versions: both updated models move together, one version per accepted correction."""
    return {"fnn_updated": state.version, "cnn_updated": state.version}


class Recognizer:
    """Holds the original and updated models in memory and keeps the updated ones in step with the store."""

    def __init__(self, store, models_dir, refresh_seconds=1.0, keep_versions=20, seed=None):
        models_dir = Path(models_dir)
        self.store = store
        self.fnn, self.cnn = weights.load_models(models_dir)
        replay = weights.load(models_dir / "replay.npz")
        originals = UpdatedModels(0, self.fnn, self.cnn)
        self.learner = OnlineLearner(originals, replay["replay_x"], replay["replay_y"],
                                     replay["holdout_x"], replay["holdout_y"], seed=seed)
        self.versions = ModelVersions(store, originals, keep=keep_versions, lock=host_lock(store))
        self.refresh_seconds = refresh_seconds
        self._refreshed = 0.0
        self._lock = threading.Lock()
        self.rng = np.random.default_rng(seed)

    def current(self):
        """The newest updated models, checking the store at most every `refresh_seconds`; the store being
        down only means serving the version already in memory."""
        now = time.monotonic()
        if now - self._refreshed >= self.refresh_seconds:
            self._refreshed = now
            try:
                self.versions.refresh()
            except Exception as error:       # any store failure: keep answering from memory
                log.warning("could not check for newer models: %s", error)
        return self.versions.state

    def probabilities(self, images, state, conv=None):
        """Each of the four models' probabilities for a batch of 28x28 images, in one pass per model.

        Online updates leave the CNN's convolutions frozen, so the original's features (`conv`, computed here when
        not given) serve the updated CNN too; a stored version whose convolutions differ gets its own pass."""
        conv = self.cnn.features(images) if conv is None else conv
        updated = state.cnn.head_probabilities(conv) if state.cnn.same_features(self.cnn) else \
            state.cnn.probabilities(images)
        return {"fnn": self.fnn.probabilities(images), "fnn_updated": state.fnn.probabilities(images),
                "cnn": self.cnn.head_probabilities(conv), "cnn_updated": updated}

    def describe(self, image, state):
        """The /predict fields for one preprocessed image: the answer, each model's top three, the preview."""
        return described(reading(row(self.probabilities(image[None], state), 0), image), state)

    def predict(self, ink):
        """Recognize a drawing as one digit (the top-level fields) and as a number (`number`, `digits`), every
        image in one batched pass; raises BlankDrawing."""
        state = self.current()
        whole, probs, parts, rows, trouble = self.read(ink, state)
        digits = [{"box": list(digit.box), **reading(r, image)} for (digit, image), r in zip(parts, rows)]
        unnamed = [k + 1 for k, entry in enumerate(digits) if entry["answer"] is None]
        if unnamed and len(digits) > 1:
            trouble = f"can't recognize digit {unnamed[0]} of {len(digits)} (from the left) as a digit"
        body = described(reading(probs, whole), state, trouble)
        body["number"] = "".join(str(entry["answer"]) for entry in digits) if digits and not unnamed else None
        body["digits"] = digits
        return body

    def read(self, ink, state):
        """The whole drawing's image and probabilities, its digits as [(Digit, image)] with theirs, and what kept
        it from being a number ("" when nothing did)."""
        whole = to_mnist(ink)
        try:
            found, trouble = segment.digits(ink), ""
        except segment.TooManyParts as error:
            found, trouble = [], str(error)
        single = len(found) == 1                  # a one-digit drawing's digit is the drawing whole
        parts = [(found[0], whole)] if single else list(preprocessed(found))
        probs = self.probabilities(np.stack([whole] + ([] if single else [image for _, image in parts])), state)
        parts, rows = self.parted(parts, [row(probs, k if single else k + 1) for k in range(len(parts))], state)
        return whole, row(probs, 0), parts, rows, trouble

    def digit_in(self, ink, box, state):
        """The ink of the digit a box names: one /predict found there (its strokes alone), else what the box holds."""
        return segment.digit_in(ink, box, [digit for digit, _ in self.read(ink, state)[2]])

    def parted(self, parts, rows, state):
        """Digits that touch: a wide part the models are unsure of becomes two where a cut of it reads surely."""
        trials = [(k, pair) for k, (digit, _) in enumerate(parts) if answer.unsure(rows[k])
                  for pair in segment.splits(digit)]
        if not trials:
            return parts, rows
        halves = [(half, to_mnist(half.ink)) for _, pair in trials for half in pair]
        probs = self.probabilities(np.stack([image for _, image in halves]), state)
        best = {}
        for t, (k, _) in enumerate(trials):
            two = [row(probs, 2 * t), row(probs, 2 * t + 1)]
            score = answer.surely_both(two)
            if score is not None and score > best.get(k, (0.0,))[0]:
                best[k] = (score, halves[2 * t:2 * t + 2], two)
        cut_parts, cut_rows = [], []
        for k, (part, r) in enumerate(zip(parts, rows)):
            cut_parts += best[k][1] if k in best else [part]
            cut_rows += best[k][2] if k in best else [r]
        return cut_parts, cut_rows

    def _store_drawing(self, ink, digit, route, shown, sample_id=None):
        """Write the labelled drawing and its metadata: immutable, before anything else happens. A `sample_id`
        given (a retried request's) completes whatever part of that drawing is not stored yet."""
        sample_id = sample_id or new_sample_id()
        meta = {"sample_id": sample_id, "digit": digit, "route": route, "time": time.time(),
                "predictions": shown["predictions"], "answer": shown["answer"],
                "model_versions": shown["model_versions"]}
        # the metadata first: the PNG is what makes a drawing count, so a write that fails half-way leaves none
        for key, data in ((f"drawings/{digit}/{sample_id}.json", json.dumps(meta).encode()),
                          (f"drawings/{digit}/{sample_id}.png", ink_png(ink))):
            try:
                self.store.put_new(key, data)
            except FileExistsError:
                pass                         # written by the first try of this request
        return sample_id

    def _request_sample(self, request):
        """The sample_id a retried request's drawing was stored under, claimed by its first try."""
        key = f"requests/{request}/drawing.json"
        try:
            self.store.put_new(key, json.dumps({"sample_id": new_sample_id()}).encode())
        except FileExistsError:
            pass
        return json.loads(self.store.get(key)[0])["sample_id"]

    def save_sample(self, ink, digit, box=None):
        """Keep a labelled drawing (or the digit of it in `box`) for the data set without learning from it."""
        state = self.current()
        ink = self.digit_in(ink, box, state) if box else ink
        return self._store_drawing(ink, digit, "samples", self.describe(to_mnist(ink), state))

    def train(self, ink, digit, request_id=None, box=None):
        """Store a correction (the whole drawing, or the digit of it in `box`), then learn it into the updated
        models as a new version.

        Returns the response body. Raises StoreUnavailable if the drawing could not be stored, and
        NotLearned once it is stored but the update was refused or failed, so it can be replayed later.
        A `request_id` makes a retried request apply once: its drawing is stored once, learned once, and
        the answer to the first try that succeeded is given again.
        """
        request = request_key(request_id) if request_id else None
        answered = f"requests/{request}/answer.json"
        if request:
            try:
                return json.loads(self.store.get(answered)[0])
            except KeyError:
                pass
        ink = self.digit_in(ink, box, self.current()) if box else ink
        image = to_mnist(ink)
        with self._lock:
            shown = self.describe(image, self.current())
            sample_id = self._store_drawing(ink, digit, "train", shown,
                                            self._request_sample(request) if request else None)
            variants = correction_variants(ink, self.rng)
            try:
                state = self.learn(image, variants, digit, request=request, sample_id=sample_id)
            except (Refused, Contended, StoreUnavailable) as error:
                raise NotLearned(sample_id, error) from error
            body = self.describe(image, state)
        entry = next(h for h in reversed(state.history) if h.get("sample_id") == sample_id)
        body = {"model_version": entry["version"], "sample_id": sample_id, "learned": entry["learned"], **body}
        if request:
            try:                             # learned and counted: a failure to note the answer changes nothing
                self.store.put_new(answered, json.dumps(body).encode())
            except FileExistsError:                  # a concurrent try of the same request answered first
                return json.loads(self.store.get(answered)[0])
            except StoreUnavailable as error:
                log.warning("learned %s, but could not keep its answer: %s", sample_id, error)
        return body

    def learn(self, image, variants, digit, replayed=False, request=None, sample_id=None):
        """Commit one correction on top of whatever version is newest in the store.

        A `replayed` one (rebuild) is not scored again: /stats counts what the models said to people. A
        `request` already in the history was learned before: nothing is committed again.
        """
        def change(state):
            if request and any(h.get("request") == request for h in state.history):
                return state
            right = None if replayed else {name: bool(int(np.argmax(p)) == digit)
                                           for name, p in row(self.probabilities(image[None], state), 0).items()}
            note = {**({"request": request} if request else {}), **({"sample_id": sample_id} if sample_id else {})}
            return self.learner.learn(state, image, variants, digit, right, note)
        return self.versions.commit(change)

    def reset(self):
        """Make the updated models copies of the originals again, keeping the version history."""
        def change(state):
            return UpdatedModels(0, self.fnn, self.cnn, history=state.history + [{"reset": True}])
        return self.versions.commit(change)

    def drawing_counts(self):
        """Stored drawings per digit ("0" to "9")."""
        counts = Counter(drawing.digit for drawing in stored_drawings(self.store))
        return {str(d): counts[d] for d in range(10)}

    def stats(self):
        """Drawings per digit, model versions, and predict-then-learn accuracy over the corrections."""
        counts = self.drawing_counts()
        state = self.current()
        corrections = [h for h in state.history if "right" in h]
        accuracy = {name: (sum(h["right"][name] for h in corrections) / len(corrections) if corrections else None)
                    for name in MODELS}
        return {
            "drawings": counts,
            "total_drawings": sum(counts.values()),
            "model_versions": model_versions(state),
            "corrections": len(corrections),
            "accuracy": accuracy,
            "history": state.history,
        }
