"""The recognizer as the web app uses it: reading with the newest models, keeping drawings, learning corrections."""

import hashlib
import json
import logging
import secrets
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from recognizer.learning.augment import correction_variants
from recognizer.learning.group import GroupCommit
from recognizer.learning.online import Correction, OnlineLearner, Refused, UpdatedModels
from recognizer.nets import weights
from recognizer.reading import pen
from recognizer.reading.preprocess import to_mnist
from recognizer.reading.reader import MODELS, Reader, model_versions, row
from recognizer.state import drawings, problems
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
    client: str = None


def request_key(request_id):
    """How a request_id is kept in the store and the history: hashed, so /stats shows no client's strings."""
    return hashlib.sha256(request_id.encode()).hexdigest()[:32]


def watched(models_dir, replay):
    """The drawings the online guard watches: the replay's held-out MNIST digits and, once `python -m
    recognizer.training.watched` has drawn them, training writers' pen digits (models/watched.npz)."""
    path = Path(models_dir) / "watched.npz"
    if not path.exists():
        log.warning("%s is missing: the online guard watches MNIST digits only", path)
        return replay["holdout_x"], replay["holdout_y"]
    pens = weights.load(path)
    return np.concatenate([replay["holdout_x"], pens["x"]]), np.concatenate([replay["holdout_y"], pens["y"]])


class Recognizer:
    """Holds the original and updated models in memory and keeps the updated ones in step with the store."""

    def __init__(
        self,
        store,
        models_dir,
        refresh_seconds=1.0,
        keep_versions=20,
        seed=None,
        client_salt="",
        problems_kept_seconds=problems.KEPT_SECONDS,
    ):
        models_dir = Path(models_dir)
        self.store = store
        self.fnn, self.cnn = weights.load_models(models_dir)
        self.reader = Reader(self.fnn, self.cnn)
        replay = weights.load(models_dir / "replay.npz")
        watched_x, watched_y = watched(models_dir, replay)
        originals = UpdatedModels(0, self.fnn, self.cnn)
        self.learner = OnlineLearner(originals, replay["replay_x"], replay["replay_y"], watched_x, watched_y, seed=seed)
        self.versions = ModelVersions(
            store,
            originals,
            keep=keep_versions,
            lock=host_lock(store),
            on_damage=lambda lines: problems.remember(store, lines, time.time()),
        )
        self.client_salt = client_salt.encode()
        self.problems_kept_seconds = problems_kept_seconds
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

    def client_key(self, address):
        """Who sent a correction, as kept with it: a salted hash of the address, never the address. The salt is
        CLIENT_SALT, or one made at random once and kept in the store (clients/salt), shared by every worker."""
        if not self.client_salt:
            try:
                self.store.put_new("clients/salt", secrets.token_hex(32).encode())
            except FileExistsError:
                pass
            self.client_salt = self.store.get("clients/salt")[0]
        return hashlib.sha256(self.client_salt + b"/" + address.encode()).hexdigest()[:16]

    def problems(self):
        """Damage found in the store within the time problems are kept (state/problems.py); what this process
        found itself when the store cannot be listed."""
        try:
            return problems.recent(self.store, time.time(), self.problems_kept_seconds)
        except StoreUnavailable:
            return list(self.versions.problems)

    def probabilities(self, images, state, conv=None):
        """Each of the four models' probabilities for a batch of 28x28 images (Reader.probabilities)."""
        return self.reader.probabilities(images, state, conv)

    def predict(self, ink, strokes=None):
        """The /predict body for a drawing (and the strokes it was drawn with), read by the newest models; raises
        BlankDrawing."""
        return self.reader.predict(ink, self.current(), strokes)

    def save_sample(self, ink, digit, box=None, strokes=None, client=None):
        """Keep a labelled drawing (or the digit of it in `box`) for the data set without learning from it, with
        the salted hash of the `client` who sent it."""
        state = self.current()
        ink, strokes = self.digit_of(ink, box, strokes, state)
        shown = self.reader.describe(to_mnist(ink), state)
        return drawings.keep(self.store, ink, digit, "samples", shown, strokes=strokes, client=client)

    def digit_of(self, ink, box, strokes, state):
        """The drawing, or the digit of it a box names, with the strokes that drew it (in its pixels)."""
        if not box:
            return ink, strokes
        digit = self.reader.digit_in(ink, box, state, strokes)
        return digit.ink, pen.strokes_of(digit, strokes)

    def train(self, ink, digit, request_id=None, box=None, strokes=None, client=None):
        """Store a correction (the whole drawing, or the digit of it in `box`, with the strokes that drew it, and
        the salted hash of the `client` who sent it), then learn it into the updated models, together with every
        other correction queued in this process meanwhile (group commit).

        Returns the response body. Raises StoreUnavailable if the drawing could not be stored, and
        NotLearned once it is stored but the update was refused or failed, so it can be replayed later.
        A `request_id` makes a retried request apply once: its drawing is stored once, learned once, and
        the answer to the first try that succeeded is given again. `client` (client_key) is kept with the drawing
        and its history entry, so that its corrections can be rebuilt away.
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
            client=client,
        )
        try:
            state = self.learning.submit(Queued(ink, image, digit, request, sample_id, client))
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
        items = [(q.image, v, q.digit, q.request, q.sample_id, q.client, None) for q, v in zip(queued, variants)]
        refused = {}
        published = self.versions.commit(lambda state: self._learned(state, items, refused))
        return [refused.get(q.sample_id, published) for q in queued]

    def learn(self, image, variants, digit, replayed=False, request=None, sample_id=None, client=None, at=None):
        """Commit one correction on top of whatever version is newest in the store; raises Refused.

        A `replayed` one (rebuild) is not scored again: /stats counts what the models said to people; `at` is when
        it was made (None: now). A `request` already in the history was learned before: nothing is committed again.
        """
        refused = {}
        published = self.versions.commit(
            lambda state: self._learned(
                state, [(image, variants, digit, request, sample_id, client, at)], refused, replayed
            )
        )
        if refused:
            raise next(iter(refused.values()))
        return published

    def _learned(self, state, items, refused, replayed=False):
        """`state` having learned the (image, variants, digit, request, sample_id, client, at) items as one group, each
        request once; a group the guard refuses is learned one by one, so that one bad drawing refuses only
        itself. `refused` collects what was refused, by sample_id (None: a nameless one)."""
        refused.clear()  # a lost race computes the whole change again
        seen, todo = {h.get("request") for h in state.history} - {None}, []
        for image, variants, digit, request, sample_id, client, at in items:
            if request and request in seen:
                continue  # learned before, or earlier in this group: applies once
            seen.add(request)
            given = {"request": request, "client": client}
            todo.append((image, variants, digit, {key: value for key, value in given.items() if value}, sample_id, at))
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
                at,
            )
            for i, (image, variants, digit, note, sample_id, at) in enumerate(todo)
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

    def rollback(self, version):
        """Serve again the updated models of the newest stored version numbered `version`, as a new version (its
        history goes on: nothing learned since is forgotten by /stats); KeyError when no such version is kept."""
        key = next((key for _, number, key in self.versions.stored_versions() if number == version), None)
        if key is None:
            raise KeyError(version)
        earlier, _ = self.versions.read_version(key)

        def change(state):
            entry = {"version": state.version + 1, "rollback": version}
            return replace(earlier, version=state.version + 1, history=state.history + [entry])

        return self.versions.commit(change)

    def clients(self):
        """The corrections each client (client_key) taught the current models: count, digits, versions."""
        found = {}
        for entry in self.current().history:
            if "client" in entry:
                mine = found.setdefault(entry["client"], {"corrections": 0, "digits": {}, "versions": []})
                mine["corrections"] += 1
                mine["digits"][str(entry["digit"])] = mine["digits"].get(str(entry["digit"]), 0) + 1
                mine["versions"].append(entry["version"])
        return found

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
