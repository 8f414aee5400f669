"""The updated models' versions in a store: immutable version objects and a pointer moved by compare-and-swap.

Every version's sha256 is in its key and in the pointer, and is checked on every read. A pointer or version
that cannot be read back as written (garbage, cut short, missing) is survived: the newest intact version is
found by listing the versions, served, and the pointer moved back to it by compare-and-swap; `problems` says
what was found, for /health and the log.
"""

import fcntl
import hashlib
import json
import logging
import random
import re
import tempfile
import threading
import time
import uuid
import zlib
from contextlib import contextmanager, nullcontext
from dataclasses import replace
from pathlib import Path

import numpy as np

from recognizer.learning.online import UpdatedModels
from recognizer.nets import weights
from recognizer.state.store import LocalStore, StoreUnavailable

POINTER = "models/current.json"
# models/<commit number>-v<model version>-<writer's nonce>-<sha256 of the object>.npz; the nonce keeps two
# writers' versions apart even were their bytes alike (older stores: the nonce alone, unchecked)
VERSION_KEY = re.compile(r"^models/(\d{8})-v(\d{8})-(?:[0-9a-f]{12}-)?([0-9a-f]+)\.npz$")
# A version stores its weights as float16 differences from a full copy, its base, stored once under
# models/base-<commit number>-<nonce>-<sha256>.npz and used by the next BASE_EVERY commits: a version is then about
# 0.1 MB (compressed: the FNN's differences and the CNN's output layer's, all that online learning moves), not the
# 4.3 MB of both updated models, and a worker refreshing downloads that (and each base once). Over 256 commits the
# bases add 17 KB a commit.
BASE_KEY = re.compile(r"^models/base-(\d{8})-[0-9a-f]{12}-([0-9a-f]{64})\.npz$")
BASE_EVERY = 256
SETTLE_SECONDS = 8.0  # how long an unknown swap outcome is read back for before the commit gives up
log = logging.getLogger(__name__)


def version_key(seq, version, digest):
    return f"models/{seq:08d}-v{version:08d}-{uuid.uuid4().hex[:12]}-{digest}.npz"


def base_key(seq, digest):
    return f"models/base-{seq:08d}-{uuid.uuid4().hex[:12]}-{digest}.npz"


def _params(state):
    return {f"{name}/{k}": v for name, net in state.nets().items() for k, v in net.params.items()}


def _with_params(state, params):
    """`state` with the weights `params` (named as _params names them)."""
    nets = {name: type(net)({k: params[f"{name}/{k}"] for k in net.params}) for name, net in state.nets().items()}
    return replace(state, fnn=nets["fnn"], cnn=nets["cnn"])


def as_stored(state, base):
    """(`state` as a version over `base` holds it, the float16 differences it holds): each weight the base's plus
    its difference. A committer continues from this, not from its exact float32 weights, so every process learns
    from the same numbers."""
    params, deltas, base_params = {}, {}, _params(base)
    for k, v in _params(state).items():
        b = base_params[k]
        delta = (v - b).astype(np.float16) if v is not b else None
        if delta is not None and delta.any():
            params[k], deltas[k] = b + delta.astype(np.float32), delta
        else:
            params[k] = b
    return _with_params(state, params), deltas


def delta_bytes(state, deltas, base_ref):
    """The version object of `state` (as_stored over the base `base_ref` names, with `deltas`): its differences
    from the base, where it has any, and what changes with every correction besides (recent corrections,
    history), as a zlib-compressed .npz."""
    arrays = {f"delta/{k}": v for k, v in deltas.items()}
    arrays.update(state.extras(), base=np.frombuffer(json.dumps(base_ref).encode(), dtype=np.uint8))
    return zlib.compress(
        weights.to_bytes(arrays), 1
    )  # half the size of float16 differences, at a fifth of level 6's cost


class Damaged(Exception):
    """A stored pointer or version that cannot be read back as it was written."""


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
        fcntl.flock(f, fcntl.LOCK_EX)  # released by the kernel too if this process dies holding it
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


class ModelVersions:
    """Reads the current updated models and commits new versions, serialised across workers and machines.

    The compare-and-swap alone keeps every update; `lock` (a file, see host_lock) additionally makes the
    workers of one machine take turns, so that they do not each compute an update of which only one can win.
    """

    def __init__(self, store, originals, keep=20, attempts=30, lock=None, on_damage=None):
        if keep < 1:
            raise ValueError(f"at least the current model version must be kept, not {keep}")
        self.store = store
        self.originals = originals  # version 0: what the updated models are after a reset
        self.keep = keep
        self.attempts = attempts
        self.lock = lock
        self._etag = None
        self._state = originals
        self._seq = 0  # commits so far, resets included: orders the version objects
        self._floor = 0  # the highest model version a stored object names: new ones go above
        self._base = None  # ({"key", "sha256", "seq"}, its state): the base the newest version read is over
        self._reading = threading.RLock()  # a /predict thread's refresh must not change them mid-commit
        self.problems = []  # damage found behind the version served, and what was done about it
        self.on_damage = on_damage  # told those lines too, so that they can be remembered (state/problems.py)

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
            except KeyError:  # nothing committed yet, or the pointer was lost: the versions say which
                return self._recover(None, f"{POINTER} is missing")
            if changed is None:
                return self._state
            data, etag, pointer = *changed, {}
            try:
                pointer = read_pointer(data)
                state, _ = self.read_version(pointer["key"], pointer.get("sha256"))
            except KeyError:  # pruned by a newer commit between the two reads, or really missing
                try:
                    if self.store.get(POINTER)[1] != etag:
                        continue
                except KeyError:
                    continue
                return self._recover(etag, f"{POINTER} names {pointer['key']}, which is missing", pointer)
            except Damaged as error:
                return self._recover(etag, str(error), pointer)
            return self._serving(etag, state, pointer)
        raise StoreUnavailable(f"the current model version kept vanishing while it was read from {POINTER}")

    def _serving(self, etag, state, pointer):
        """Serve `state`, the version the pointer (its fields, its ETag) names, intact: returns it."""
        self._etag, self._state, self._seq = etag, state, pointer["seq"]
        self._floor = pointer.get("floor", 0)  # set by a repair: numbers it found used, not to use again
        self.problems = []
        return state

    def read_version(self, key, digest=None):
        """(the version stored under `key`, its sha256), checked against the sha256 its key (and its pointer) name."""
        data = self.store.get(key)[0]
        named = VERSION_KEY.match(key)
        actual = hashlib.sha256(data).hexdigest()
        expected = {digest} | ({named.group(3)} if named and len(named.group(3)) == 64 else set())
        if expected - {None, actual}:
            raise Damaged(f"{key} does not match its sha256: cut short or altered ({len(data)} bytes)")
        try:
            arrays = weights.load(data if data.startswith(b"PK") else zlib.decompress(data))
            if "base" not in arrays:  # a full version, as stores written before bases kept them
                return self._sharing(UpdatedModels.from_bytes(data)), actual
            ref = json.loads(arrays["base"].tobytes())
        except Exception as error:  # an unchecked older key whose bytes do not parse
            raise Damaged(f"{key} cannot be read as a version: {error}") from None
        base = self._read_base(ref["key"], ref["sha256"])
        params = {
            k: v + arrays[f"delta/{k}"].astype(np.float32) if f"delta/{k}" in arrays else v
            for k, v in _params(base).items()
        }
        state = _with_params(base, params).with_extras(arrays)
        self._base = (ref, base)
        return state, actual

    def _read_base(self, key, digest):
        """The full state a version's differences are from, checked against its sha256; each is downloaded once."""
        if self._base and self._base[0]["key"] == key:
            return self._base[1]
        data = self.store.get(key)[0]
        if hashlib.sha256(data).hexdigest() != digest:
            raise Damaged(f"{key}, a base of versions, does not match its sha256: cut short or altered")
        try:
            return self._sharing(UpdatedModels.from_bytes(data))
        except Exception as error:
            raise Damaged(f"{key} cannot be read as a base: {error}") from None

    def _sharing(self, state):
        """`state` holding the originals' own array for each weight equal to theirs: every version over it then
        shares them, and telling which layers are the originals' (ConvNet.same_features) is an identity check.
        Without the originals (a check of the store alone), `state` as it is."""
        if self.originals is None:
            return state
        originals = _params(self.originals)
        return _with_params(
            state, {k: originals[k] if np.array_equal(v, originals[k]) else v for k, v in _params(state).items()}
        )

    def stored_versions(self):
        """(commit number, model version, key) of every stored version, newest first."""
        found = [(int(m.group(1)), int(m.group(2)), key) for key in self.history() if (m := VERSION_KEY.match(key))]
        return sorted(found, reverse=True)

    def _recover(self, etag, problem, named=None):
        """Serve the newest intact version after `problem` with the pointer (whose ETag is `etag`, None: absent;
        `named` is what it said, if it could be read), and move the pointer back to it by compare-and-swap.

        The repaired pointer carries the highest commit number and model version any stored object or the
        damaged pointer named, so that no later commit, in any process, uses one of them again."""
        named = named or {}
        self._base = None  # it may be the damage: the next commit writes a new one
        stored = self.stored_versions()
        if not stored and etag is None:  # a new store: the originals are current, nothing is wrong
            self._etag, self._state, self._seq, self.problems = None, self.originals, 0, []
            return self._state
        problems = [problem]
        self._seq = max([named.get("seq", 0)] + [seq for seq, _, _ in stored])
        for served, _, key in stored:
            try:
                state, digest = self.read_version(key)
            except (KeyError, Damaged) as error:
                problems.append(str(error) if isinstance(error, Damaged) else f"{key} vanished")
                continue
            # the numbers of what was lost (versions after this one, and the pointer's) are not used again
            self._floor = max([named.get("version", 0)] + [v for seq, v, _ in stored if seq > served])
            problems.append(f"serving version {state.version} ({key}), the newest intact one")
            pointer = json.dumps(
                {
                    "version": state.version,
                    "seq": self._seq,
                    "key": key,
                    "sha256": digest,
                    "floor": self._floor,
                    "previous": etag,
                    "repaired": problem,
                }
            ).encode()
            if repaired := self.store.swap(POINTER, pointer, etag):
                problems.append(f"{POINTER} repaired")
                etag = repaired
            break
        else:
            state = self.originals
            self._floor = max([named.get("version", 0)] + [version for _, version, _ in stored])
            problems.append("no intact version is left: serving the originals (version 0)")
        for line in problems:
            log.warning("model versions: %s", line)
        self._etag, self._state, self.problems = etag, state, problems
        if self.on_damage:
            self.on_damage(problems)
        return state

    def commit(self, change, prune=True, alone=False):
        """Apply `change(state) -> new state` to the newest version and publish it; retry if another writer won.
        Returns the version this call published (a newer one may already be current elsewhere), or the current
        one unchanged when `change` returned it as it was (nothing to learn: a request applied before).
        `prune=False` leaves deleting old versions to the caller (`prune`), off the commit's path. `alone` (the
        caller holds the learner's lease: no other worker is likely to commit) first tries on the version this
        process read or published last, without reading the pointer before and after the change; the swap still
        decides."""
        with _locked(self.lock) if self.lock else nullcontext():
            published = self._commit(change, prune, alone)
        try:  # published: nothing after this may turn the answer into a failure
            if self._state is not published:
                self.refresh()
        except StoreUnavailable as error:
            log.warning("published version %d, then could not refresh: %s", published.version, error)
        return published

    def _commit(self, change, prune, alone):
        for attempt in range(self.attempts):
            trusting = alone and attempt == 0 and self._etag is not None
            with self._reading:  # the version, its pointer's ETag and its number, as one reading
                current, etag, seq = self._state if trusting else self.refresh(), self._etag, self._seq + 1
            new = change(current)
            if new is current:
                return current
            if not trusting and self._moved(etag):  # another writer published meanwhile: write nothing of it
                continue
            if current.version < new.version <= self._floor:  # numbers a damaged version held are never reused
                new = new.renumbered(self._floor + 1)
            new, data, written_base = self._stored(new, seq)
            digest = hashlib.sha256(data).hexdigest()
            key = version_key(seq, new.version, digest)
            self.store.put_new(key, data)
            pointer = json.dumps(
                {"version": new.version, "seq": seq, "key": key, "sha256": digest, "previous": etag}
            ).encode()
            try:
                swapped = self.store.swap(POINTER, pointer, etag)
            except StoreUnavailable:  # sent, but no answer: whether it landed, the pointer says
                swapped = None
            if swapped:
                with self._reading:
                    if self._etag == etag:  # what was written is current here, unless a refresh read on meanwhile
                        self._serving(swapped, new, {"seq": seq})
            if swapped or self._published(key):
                if prune:
                    self.prune()
                return new
            for lost in (key, written_base):  # lost the race: that version was never current
                if lost:
                    self._discard(lost)
            time.sleep(random.uniform(0, 0.02 * (attempt + 1)))
        raise Contended(f"gave up after {self.attempts} attempts: other updates kept winning")

    def _moved(self, etag):
        """Whether the pointer has moved on from `etag` (one conditional read; not known: no, the swap decides)."""
        try:
            return self.store.get_if_changed(POINTER, etag) is not None
        except (KeyError, StoreUnavailable):
            return False

    def _stored(self, new, seq):
        """(`new` as stored, its version object, the key of a base written for it or None): over the current
        version's base while that is under BASE_EVERY commits old, else over a new base, `new` itself."""
        ref, base = self._base or ({"seq": -BASE_EVERY}, None)
        written = None
        if seq - ref["seq"] >= BASE_EVERY:
            data = new.to_bytes()
            digest = hashlib.sha256(data).hexdigest()
            written = base_key(seq, digest)
            self.store.put_new(written, data)
            ref, base = {"key": written, "sha256": digest, "seq": seq}, new
            self._base = (ref, base)
        new, deltas = as_stored(new, base)
        return new, delta_bytes(new, deltas, ref), written

    def _published(self, key):
        """Whether the pointer names `key` after all (an S3 retry can report a conflict with its own first attempt,
        or the answer to a swap was lost); read back for up to SETTLE_SECONDS, else StoreUnavailable."""
        deadline = time.monotonic() + SETTLE_SECONDS
        while True:
            try:
                return read_pointer(self.store.get(POINTER)[0])["key"] == key
            except (KeyError, Damaged):
                return False
            except StoreUnavailable:
                if time.monotonic() > deadline:
                    raise
                time.sleep(random.uniform(0.2, 0.6))

    def _discard(self, key):
        """Delete a version that never became current, so no recovery can take it for one (best effort)."""
        try:
            self.store.delete(key)
        except StoreUnavailable as error:
            log.warning("could not delete the unpublished version %s: %s", key, error)

    def history(self):
        """Keys of the stored versions, oldest first (named by commit number: a reset's version 0 sorts in its turn)."""
        return [k for k in self.store.keys("models/") if VERSION_KEY.match(k)]

    def prune(self):
        """Delete all but the newest `keep` versions, and the bases none of them can be over (each version's base is
        under BASE_EVERY commits older than it); a failure here loses nothing that is current."""
        try:
            keys = self.store.keys("models/")
            history = sorted(k for k in keys if VERSION_KEY.match(k))
            old = history[: max(len(history) - self.keep, 0)]
            kept_from = min((int(VERSION_KEY.match(k).group(1)) for k in history[len(old) :]), default=0)
            old += [k for k in keys if (m := BASE_KEY.match(k)) and int(m.group(1)) <= kept_from - BASE_EVERY]
            self.store.delete_many(old)
        except StoreUnavailable as error:
            log.warning("could not prune old model versions: %s", error)


def read_pointer(data):
    """The pointer's fields, checked; Damaged if it is not a pointer this code wrote."""
    try:
        pointer = json.loads(data)
        if isinstance(pointer["key"], str) and isinstance(pointer["seq"], int) and isinstance(pointer["version"], int):
            return pointer
    except (ValueError, TypeError, KeyError):
        pass
    raise Damaged(f"{POINTER} cannot be read as a pointer ({len(data)} bytes: {bytes(data[:40])!r})")
