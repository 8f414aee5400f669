"""The recognizer as the web app uses it: reading with the newest models, keeping drawings, learning corrections."""

import hashlib
import json
import logging
import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np

from recognizer.learning.augment import correction_variants
from recognizer.learning.group import MOST, GroupCommit
from recognizer.learning.online import Correction, HeldBack, OnlineLearner, Refused, UpdatedModels
from recognizer.nets import weights
from recognizer.reading import pen
from recognizer.reading.preprocess import to_mnist
from recognizer.reading.reader import MODELS, Reader, model_versions, row
from recognizer.state import drawings, problems
from recognizer.state.lease import Lease
from recognizer.state.queue import Queue, Queued, settled
from recognizer.state.store import StoreUnavailable
from recognizer.state.versions import Contended, ModelVersions, host_lock

POLL_SECONDS = 0.05  # how often a worker reads the pointer (or the learner the queue) while a correction waits
IDLE_SECONDS = 0.5  # how long the learner goes on reading an empty queue before it gives the lease back
PRUNE_EVERY = 8  # a learner deletes old versions after every this many commits (listing them is a request too)
PATIENCE_SECONDS = 30.0  # how long a correction may wait to be learned before it is withdrawn (answered 503)
log = logging.getLogger(__name__)


class NotLearned(Exception):
    """A correction was stored but not learned: `refused` by the guard, or the store failed during the update."""

    def __init__(self, sample_id, cause):
        super().__init__(str(cause))
        self.sample_id, self.refused = sample_id, isinstance(cause, Refused)


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
        self.queue = Queue(store)
        self._housekeeping, self._pruning, self._commits = ThreadPoolExecutor(1, thread_name_prefix="pruning"), None, 0
        self._counting = ThreadPoolExecutor(8, thread_name_prefix="counting")
        self.lease, self._busy_until = Lease(store), 0.0
        self.learning = GroupCommit(self._learn_round)
        self.rng = np.random.default_rng(seed)
        self._seeding = threading.Lock()

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

    def variants(self, ink):
        """The variants of a correction's drawing (augment.py), from a seed of their own: requests make them at once."""
        with self._seeding:
            rng = np.random.default_rng(self.rng.integers(2**63))
        return correction_variants(ink, rng)

    def train(self, ink, digit, request_id=None, box=None, strokes=None, client=None):
        """Store a correction (the whole drawing, or the digit of it in `box`, with the strokes that drew it, and
        the salted hash of the `client` who sent it), queue it, then learn it into the updated models together
        with every other correction queued meanwhile, by any worker on any machine (group commit).

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
        once = drawings.claim_sample_id(self.store, request) if request else None
        sample_id = once or drawings.new_sample_id()

        def keep():
            """Store the drawing, then count it while it is queued (`counting`, a future)."""
            drawings.keep(self.store, ink, digit, "train", shown, sample_id, strokes, client, counted=False)
            return self._counting.submit(drawings.count, self.store, digit, once)

        keeping = self._counting.submit(keep)  # while its variants are made: the store's wait, not the CPU's
        item = Queued.new(image, self.variants(ink), digit, sample_id, request, client, time.time())
        item = replace(item, features=self.cnn.features(item.images()).astype(np.float16))
        self._queue(item, keeping.result())  # StoreUnavailable: not stored, so nothing is queued
        try:
            state = self.learning.submit(item)
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

    def _queue(self, item, counting):
        """Queue `item` while its drawing is counted (`counting`, a future); if either fails, withdraw it unless a
        worker learned it meanwhile, and raise NotLearned."""
        try:
            try:
                self.queue.put(item)
            finally:
                counting.result()  # StoreUnavailable: not counted
        except StoreUnavailable as error:
            try:
                learned = item.sample_id in settled(self._withdraw([item], error))
            except (Contended, StoreUnavailable):
                learned = False
            if not learned:
                raise NotLearned(item.sample_id, error) from error
            log.warning("learned %s, but could not count its drawing: %s", item.sample_id, error)

    def _learn_round(self, mine):
        """One round of this worker's learning thread (GroupCommit's `apply`): the worker holding the lease
        (state/lease.py) commits the queue, any worker's corrections; the others read the newest version. Returns
        (for each of `mine`, this worker's waiting corrections: the version that learned it, the Refused or store
        error it met, or None while it waits; whether the learner goes on for the others)."""
        more = False
        try:
            if self.lease.held():
                state, learned = self._commit_queue(mine)
                if learned:
                    self._busy_until = time.monotonic() + IDLE_SECONDS
                else:
                    time.sleep(POLL_SECONDS)
                more = time.monotonic() < self._busy_until
                if not more:
                    self.lease.release()
            else:
                before = self.versions.state
                state = self.versions.refresh()
                if state is before:
                    time.sleep(POLL_SECONDS)
                else:
                    self.lease.published()
        except (Contended, StoreUnavailable) as error:
            self._busy_until = 0.0
            try:
                self.lease.release()  # another worker may fare better
            except StoreUnavailable:
                pass
            state = self._withdraw(mine, error)
        done = settled(state)
        overdue = [q for q in mine if not q.settled_by(done) and time.time() - q.at > PATIENCE_SECONDS]
        if overdue:
            state = self._withdraw(overdue, Contended(f"not learned within {PATIENCE_SECONDS:.0f} s"))
            done = settled(state)
        return [self._result(state, done, item) for item in mine], more

    @staticmethod
    def _result(state, done, item):
        """What became of `item` by `state` (whose settled set is `done`): the version, an exception, or None."""
        if item.sample_id in done:
            return state
        record = next((u for u in reversed(state.unlearned) if u["key"] == item.key), None)
        if record is None:
            return None
        if "refused" in record:
            return (HeldBack if record.get("held_back") else Refused)(record["refused"])
        return StoreUnavailable(record["withdrawn"])

    def _commit_queue(self, mine):
        """Commit what is queued, any worker's, up to MOST, on the newest version: (the version, whether it learned
        or refused anything). What it settled leaves the queue; old versions are deleted in the background, so that
        the next commit need not wait for that."""
        listed, tried = [], []
        state = self.versions.commit(lambda s: self._learned_queue(s, mine, listed, tried), prune=False, alone=True)
        done = settled(state)
        found = {item.key: item for item in listed + mine}.values()
        self.queue.remove(item for item in found if item.settled_by(done))
        self._commits += bool(tried)
        if tried and self._commits % PRUNE_EVERY == 0 and (self._pruning is None or self._pruning.done()):
            self._pruning = self._housekeeping.submit(self.versions.prune)  # one at a time, after answering
        return state, bool(tried)

    def _learned_queue(self, state, mine, listed, tried):
        """`state` having learned what is queued and not settled yet (up to MOST), with a record of each it refused.
        `listed` is set to every entry found, `mine` among them, `tried` to those learned or refused."""
        found = self.queue.waiting()
        keys = {item.key for item in found}
        listed[:] = found + [item for item in mine if item.key not in keys]  # a store listing late still has them
        done = settled(state)
        tried[:] = [item for item in listed if not item.settled_by(done)][:MOST]
        new, refused = self._learned(state, tried)
        records = [
            {"key": key, "refused": str(error), **({"held_back": True} if isinstance(error, HeldBack) else {})}
            for key, error in refused.items()
        ]
        return new.with_unlearned(records)

    def _withdraw(self, mine, error):
        """After `error`, settle those of `mine` no version learned as withdrawn, so that no later commit learns
        one while its request is answered 503. When even that cannot be stored, their queue entries are deleted
        (only a commit that read one already can still learn it) and `error` stands for them."""

        def change(state):
            done = settled(state)
            records = [{"key": q.key, "withdrawn": str(error)} for q in mine if not q.settled_by(done)]
            return state.with_unlearned(records)

        try:
            return self.versions.commit(change)
        except (Contended, StoreUnavailable):
            log.error("%d queued corrections could not be withdrawn, only deleted, after: %s", len(mine), error)
            self.queue.remove(mine).result()
            raise error from None

    def learn(self, image, variants, digit, replayed=False, request=None, sample_id=None, client=None, at=None):
        """Commit one correction on top of whatever version is newest in the store, without queueing it; raises
        Refused.

        A `replayed` one (rebuild) is not scored again: /stats counts what the models said to people; `at` is when
        it was made (None: now). A `request` already in the history was learned before: nothing is committed again.
        """
        item = Queued.new(image, variants, digit, sample_id, request, client, at)
        refused = {}

        def change(state):
            new, found = self._learned(state, [item], replayed)
            refused.clear()  # a lost race computes the whole change again
            refused.update(found)
            return new

        published = self.versions.commit(change)
        if refused:
            raise refused[item.key]
        return published

    def _learned(self, state, items, replayed=False):
        """(`state` having learned the Queued `items` as one group, each request once; the Refused each
        refused one met, by queue key): a group the guard refuses is learned one by one, so that one bad drawing
        refuses only itself."""
        seen, todo = {h.get("request") for h in state.history} - {None}, []
        for item in items:
            if item.request and item.request in seen:
                continue  # learned before, or earlier in this group: applies once
            seen.add(item.request)
            todo.append(item)
        if not todo:
            return state, {}
        images = [item.images() for item in todo]
        features = [None if item.features is None else {"cnn": item.features.astype(np.float32)} for item in todo]
        conv = None if None in features else np.stack([f["cnn"][0] for f in features])
        probabilities = None if replayed else self.probabilities(np.stack([x[0] for x in images]), state, conv)
        corrections = []
        for i, (item, x) in enumerate(zip(todo, images)):
            note = {"request": item.request, "client": item.client, "sample_id": item.sample_id}
            read = {} if replayed else row(probabilities, i)
            right = None if replayed else {name: bool(int(np.argmax(p)) == item.digit) for name, p in read.items()}
            note = {k: v for k, v in note.items() if v}
            corrections.append(Correction(x[0], x[1:], item.digit, right, note, item.at, features[i]))
        try:
            return self.learner.learn_group(state, corrections), {}
        except Refused as error:
            if len(corrections) == 1:
                return state, {todo[0].key: error}
        refused = {}
        for correction, item in zip(corrections, todo):
            try:
                state = self.learner.learn_group(state, [correction])
            except Refused as error:
                refused[item.key] = error
        return state, refused

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
        """The corrections each client (client_key) taught the current models, since they were last reset (a rebuild
        resets them too): count, digits, versions."""
        history = self.current().history
        resets = [i for i, entry in enumerate(history) if entry.get("reset")]
        found = {}
        for entry in history[resets[-1] + 1 if resets else 0 :]:
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
