"""The recognizer as the web app uses it: reading with the newest models, keeping drawings, learning corrections."""

import hashlib
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from recognizer.learning.augment import correction_variants
from recognizer.learning.group import GroupCommit
from recognizer.learning.online import Correction, OnlineLearner, Refused, UpdatedModels
from recognizer.nets import weights
from recognizer.reading import pen
from recognizer.reading.preprocess import to_mnist
from recognizer.reading.reader import MODELS, Reader, model_versions, row
from recognizer.state import drawings
from recognizer.state.store import StoreUnavailable
from recognizer.state.versions import Contended, ModelVersions, host_lock

log = logging.getLogger(__name__)


class NotLearned(Exception):
    """A correction was stored but not learned: `refused` by the guard, or the store failed during the update."""

    def __init__(self, sample_id, cause):
        super().__init__(str(cause))
        self.sample_id, self.refused = sample_id, isinstance(cause, Refused)


@dataclass(frozen=True)
class Queued:
    """A stored correction waiting to be learned: the drawing as sent and as the models see it."""

    ink: np.ndarray
    image: np.ndarray
    digit: int
    request: str
    sample_id: str


def request_key(request_id):
    """How a request_id is kept in the store and the history: hashed, so /stats shows no client's strings."""
    return hashlib.sha256(request_id.encode()).hexdigest()[:32]


class Recognizer:
    """Holds the original and updated models in memory and keeps the updated ones in step with the store."""

    def __init__(self, store, models_dir, refresh_seconds=1.0, keep_versions=20, seed=None):
        models_dir = Path(models_dir)
        self.store = store
        self.fnn, self.cnn = weights.load_models(models_dir)
        self.reader = Reader(self.fnn, self.cnn)
        replay = weights.load(models_dir / "replay.npz")
        originals = UpdatedModels(0, self.fnn, self.cnn)
        self.learner = OnlineLearner(
            originals, replay["replay_x"], replay["replay_y"], replay["holdout_x"], replay["holdout_y"], seed=seed
        )
        self.versions = ModelVersions(store, originals, keep=keep_versions, lock=host_lock(store))
        self.refresh_seconds = refresh_seconds
        self._refreshed = 0.0
        self.learning = GroupCommit(self._learn_queued)
        self.rng = np.random.default_rng(seed)

    def current(self):
        """The newest updated models, checking the store at most every `refresh_seconds`; the store being
        down only means serving the version already in memory."""
        now = time.monotonic()
        if now - self._refreshed >= self.refresh_seconds:
            self._refreshed = now
            try:
                self.versions.refresh()
            except Exception as error:  # any store failure: keep answering from memory
                log.warning("could not check for newer models: %s", error)
        return self.versions.state

    def probabilities(self, images, state, conv=None):
        """Each of the four models' probabilities for a batch of 28x28 images (Reader.probabilities)."""
        return self.reader.probabilities(images, state, conv)

    def predict(self, ink, strokes=None):
        """The /predict body for a drawing (and the strokes it was drawn with), read by the newest models; raises
        BlankDrawing."""
        return self.reader.predict(ink, self.current(), strokes)

    def save_sample(self, ink, digit, box=None, strokes=None):
        """Keep a labelled drawing (or the digit of it in `box`) for the data set without learning from it."""
        state = self.current()
        ink, strokes = self.digit_of(ink, box, strokes, state)
        shown = self.reader.describe(to_mnist(ink), state)
        return drawings.keep(self.store, ink, digit, "samples", shown, strokes=strokes)

    def digit_of(self, ink, box, strokes, state):
        """The drawing, or the digit of it a box names, with the strokes that drew it (in its pixels)."""
        if not box:
            return ink, strokes
        digit = self.reader.digit_in(ink, box, state, strokes)
        return digit, pen.strokes_of(digit, ink, box, strokes)

    def train(self, ink, digit, request_id=None, box=None, strokes=None):
        """Store a correction (the whole drawing, or the digit of it in `box`, with the strokes that drew it), then
        learn it into the updated models, together with every other correction queued in this process meanwhile
        (group commit).

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
        ink, strokes = self.digit_of(ink, box, strokes, self.current())
        image = to_mnist(ink)
        shown = self.reader.describe(image, self.current())
        sample_id = drawings.keep(
            self.store,
            ink,
            digit,
            "train",
            shown,
            drawings.claim_sample_id(self.store, request) if request else None,
            strokes=strokes,
        )
        try:
            state = self.learning.submit(Queued(ink, image, digit, request, sample_id))
        except (Refused, Contended, StoreUnavailable) as error:
            raise NotLearned(sample_id, error) from error
        body = self.reader.describe(image, state)
        entry = next(h for h in reversed(state.history) if h.get("sample_id") == sample_id)
        body = {"model_version": entry["version"], "sample_id": sample_id, "learned": entry["learned"], **body}
        if request:
            try:  # learned and counted: a failure to note the answer changes nothing
                self.store.put_new(answered, json.dumps(body).encode())
            except FileExistsError:  # a concurrent try of the same request answered first
                return json.loads(self.store.get(answered)[0])
            except StoreUnavailable as error:
                log.warning("learned %s, but could not keep its answer: %s", sample_id, error)
        return body

    def _learn_queued(self, queued):
        """Learn a group of Queued corrections as one version (GroupCommit's `apply`): the version published for
        each, or the Refused it met."""
        variants = [correction_variants(q.ink, self.rng) for q in queued]  # once, not again on a lost race
        items = [(q.image, v, q.digit, q.request, q.sample_id) for q, v in zip(queued, variants)]
        refused = {}
        published = self.versions.commit(lambda state: self._learned(state, items, refused))
        return [refused.get(q.sample_id, published) for q in queued]

    def learn(self, image, variants, digit, replayed=False, request=None, sample_id=None):
        """Commit one correction on top of whatever version is newest in the store; raises Refused.

        A `replayed` one (rebuild) is not scored again: /stats counts what the models said to people. A
        `request` already in the history was learned before: nothing is committed again.
        """
        refused = {}
        published = self.versions.commit(
            lambda state: self._learned(state, [(image, variants, digit, request, sample_id)], refused, replayed)
        )
        if refused:
            raise next(iter(refused.values()))
        return published

    def _learned(self, state, items, refused, replayed=False):
        """`state` having learned the (image, variants, digit, request, sample_id) items as one group, each
        request once; a group the guard refuses is learned one by one, so that one bad drawing refuses only
        itself. `refused` collects what was refused, by sample_id (None: a nameless one)."""
        refused.clear()  # a lost race computes the whole change again
        seen, todo = {h.get("request") for h in state.history} - {None}, []
        for image, variants, digit, request, sample_id in items:
            if request and request in seen:
                continue  # learned before, or earlier in this group: applies once
            seen.add(request)
            todo.append((image, variants, digit, {"request": request} if request else {}, sample_id))
        if not todo:
            return state
        probabilities = None if replayed else self.probabilities(np.stack([t[0] for t in todo]), state)
        corrections = [
            Correction(
                image,
                variants,
                digit,
                None if replayed else {n: bool(int(np.argmax(p)) == digit) for n, p in row(probabilities, i).items()},
                {**note, **({"sample_id": sample_id} if sample_id else {})},
            )
            for i, (image, variants, digit, note, sample_id) in enumerate(todo)
        ]
        try:
            return self.learner.learn_group(state, corrections)
        except Refused as error:
            if len(corrections) == 1:
                refused[todo[0][4]] = error
                return state
        for correction, item in zip(corrections, todo):
            try:
                state = self.learner.learn_group(state, [correction])
            except Refused as error:
                refused[item[4]] = error
        return state

    def reset(self):
        """Make the updated models copies of the originals again, keeping the version history."""

        def change(state):
            return UpdatedModels(0, self.fnn, self.cnn, history=state.history + [{"reset": True}])

        return self.versions.commit(change)

    def drawing_counts(self):
        """Stored drawings per digit ("0" to "9")."""
        return drawings.counts(self.store)

    def stats(self):
        """Drawings per digit, model versions, and predict-then-learn accuracy over the corrections."""
        counts = self.drawing_counts()
        state = self.current()
        corrections = [h for h in state.history if "right" in h]
        accuracy = {
            name: (sum(h["right"][name] for h in corrections) / len(corrections) if corrections else None)
            for name in MODELS
        }
        return {
            "drawings": counts,
            "total_drawings": sum(counts.values()),
            "model_versions": model_versions(state),
            "corrections": len(corrections),
            "accuracy": accuracy,
            "history": state.history,
        }
