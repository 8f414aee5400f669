"""Learn from one correction without forgetting: augmented variants, replay, a few steps, and a guard.

Each updated model learns on its own: a few SGD steps on the drawing, its variants (up to 24), exemplars of every
digit and earlier corrections (replay), with a pull back toward the original weights (L2-SP), stopping once
the drawing is named right. A guard (guard.py) then checks the model on digits it knew, overall and digit by
digit (train digits kept out of the replay buffer and training writers' pens, so it tells forgetting, not how well
the model generalises); if the step cost too much it is retried at half the rate, then a quarter, and otherwise that
model is left as it was. A correction neither model can learn safely is refused; one both original models firmly
contradict is held back before any learning.
"""

import json
import logging
import time
from dataclasses import dataclass, field, replace

import numpy as np

from recognizer.learning.guard import PAIR_BUDGET, Guard, firmly_contradicted, learned_misreadings
from recognizer.nets import weights
from recognizer.nets.cnn import ConvNet
from recognizer.nets.fnn import FNN

RECENT = 64  # earlier corrections kept in the state and replayed with new ones
REPLAY_BATCH = 128  # exemplars mixed into every step
RECENT_BATCH = 8  # earlier corrections mixed into every step
MIN_STEPS = 2
# A model stops once it names the drawing right and this share of its variants too, or after MAX_STEPS. The FNN
# (every weight learns, and it drifts) stops at the drawing; the CNN's output layer over frozen features hardly
# drifts and its rare mistakes are confident ones, so it goes on until the variants are mostly right as well; its
# steps cost next to nothing (625 x 10 weights).
MAX_STEPS = {"fnn": 12, "cnn": 64}
VARIANTS_RIGHT = {"fnn": 0.0, "cnn": 0.75}
RATES = {"fnn": 0.02, "cnn": 0.1}
BACKOFF = (1.0, 0.5, 0.25)
# Pull toward the original weights per step (L2-SP), against drift: harder on the FNN, all of whose weights learn.
ANCHOR = {"fnn": 0.5, "cnn": 0.2}
HISTORY = 10_000  # corrections remembered for /stats
UNLEARNED = 200  # queued corrections refused or withdrawn, remembered until their queue entries are removed

log = logging.getLogger(__name__)


class Refused(Exception):
    """The guard refused a correction because learning it would make the models forget digits they knew."""


class HeldBack(Refused):
    """A correction that both original models firmly contradict: kept, but not learned into the shared models."""


@dataclass
class UpdatedModels:
    """Everything that changes with corrections: both updated models, recent corrections, the score history, the
    guard's scores of the models (so that the next update need not score them again) and the queued corrections
    it did not learn (state/queue.py)."""

    version: int
    fnn: FNN
    cnn: ConvNet
    recent_x: np.ndarray = field(default_factory=lambda: np.zeros((0, 28, 28), dtype=np.uint8))
    recent_y: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    history: list = field(default_factory=list)
    scores: dict = field(default_factory=dict)  # {"watched": Guard.fingerprint, model name: Guard.scores of it}
    unlearned: list = field(default_factory=list)  # [{"key": queue entry, "refused" or "withdrawn": why}], newest last

    def nets(self):
        return {"fnn": self.fnn, "cnn": self.cnn}

    def extras(self):
        """Everything but the weights, as arrays for an .npz (with_extras reads them back)."""
        as_json = lambda value: np.frombuffer(json.dumps(value).encode(), dtype=np.uint8)
        return {
            "version": np.array(self.version),
            "recent_x": self.recent_x,
            "recent_y": self.recent_y,
            "history": as_json(self.history),
            "scores": as_json(self.scores),
            "unlearned": as_json(self.unlearned),
        }

    def with_extras(self, arrays):
        """This state with the version, recent corrections, history and scores in `arrays` (written by extras)."""
        loaded = lambda name: json.loads(arrays[name].tobytes()) if name in arrays and arrays[name].size else None
        return replace(
            self,
            version=int(arrays["version"]),
            recent_x=arrays["recent_x"],
            recent_y=arrays["recent_y"],
            history=loaded("history") or [],
            scores=loaded("scores") or {},  # none in versions stored before scores were kept
            unlearned=loaded("unlearned") or [],
        )

    def to_bytes(self):
        arrays = {f"fnn/{k}": v for k, v in self.fnn.params.items()}
        arrays.update({f"cnn/{k}": v for k, v in self.cnn.params.items()})
        return weights.to_bytes({**arrays, **self.extras()})

    def with_unlearned(self, records):
        """This state remembering `records` of queued corrections it did not learn (the newest UNLEARNED)."""
        return replace(self, unlearned=(self.unlearned + records)[-UNLEARNED:]) if records else self

    def renumbered(self, version):
        """This state as version `version` (its newest history entry too): numbers once used are not used again."""
        history = self.history[:-1] + [{**self.history[-1], "version": version}] if self.history else []
        return replace(self, version=version, history=history)

    @classmethod
    def from_bytes(cls, data):
        arrays = weights.load(data)
        part = lambda prefix: {k.split("/", 1)[1]: v for k, v in arrays.items() if k.startswith(prefix)}
        return cls(0, FNN(part("fnn/")), ConvNet(part("cnn/"))).with_extras(arrays)


@dataclass(frozen=True)
class Correction:
    """One correction to learn: the drawing (28x28), its variants, its label, which models named it right before
    (None: a replayed one), the fields its history entry adds, when it was made (seconds since the epoch;
    None: now) and, by model, the original's features of the drawing and its variants where they were computed
    already (by the request that queued it)."""

    drawing: np.ndarray
    variants: np.ndarray
    label: int
    right: dict = None
    note: dict = None
    at: float = None
    features: dict = None


class OnlineLearner:
    """Applies one correction to the updated models. The CNN learns its output layer alone (the layers below it
    stay frozen: what it learns is a small change, cheap to compute, to check and to store, and a few lies move
    other people's digits less than through its hidden layer), so the replay and guard digits' features are
    computed once, here."""

    def __init__(self, originals, replay_x, replay_y, holdout_x, holdout_y, seed=None):
        self.replay_y = replay_y.astype(np.int64)
        replay_x = replay_x.astype(np.float32) / 255.0
        self.replay = {name: net.features(replay_x) for name, net in originals.nets().items()}
        self.guard = Guard(originals.nets(), holdout_x.astype(np.float32) / 255.0, holdout_y)
        self.originals = originals.nets()
        self.rng = np.random.default_rng(seed)
        self._recent = {}  # (model, a recent correction's bytes) -> the originals' features of it

    def holdout_accuracy(self, state):
        """Each model's accuracy on all the drawings the guard watches."""
        return {name: self.guard.scores(name, net)[0] for name, net in state.nets().items()}

    def learn(self, state, drawing, variants, label, right, note=None):
        """Return a new state one version on, having learned `label` for `drawing` (28x28) and its variants.

        `right` says which models named the drawing correctly before (kept for /stats; None for a replayed
        correction, which /stats must not count twice). Raises Refused when the guard lets neither model learn it
        (HeldBack when the originals firmly contradict it).
        `note` adds fields to its history entry (the sample and request it came from).
        """
        return self.learn_group(state, [Correction(drawing, variants, label, right, note)])

    def learn_group(self, state, corrections):
        """Return a new state len(corrections) versions on, having learned every Correction in one fit: a group
        costs about as many steps as one correction, so a busy server learns many per second. Each correction's
        history entry names its own version. Raises HeldBack when the originals firmly contradict one of them or
        one is a misreading taught too often this hour (guard.py), Refused when the guard lets neither model learn
        the group."""
        inputs = [np.concatenate([c.drawing[None], c.variants]).astype(np.float32) for c in corrections]
        new_y = np.concatenate([np.full(len(x), c.label) for c, x in zip(corrections, inputs)])
        drawn = np.cumsum([0] + [len(x) for x in inputs[:-1]])  # where each drawing is in new_y
        features = {  # the originals' features are the updated ones' too
            name: np.concatenate(
                [
                    c.features[name] if c.features and name in c.features else net.features(x)
                    for c, x in zip(corrections, inputs)
                ]
            ).astype(np.float32)
            for name, net in self.originals.items()
        }
        now = time.time()
        taught, misread = learned_misreadings(state.history, max(c.at or now for c in corrections)), []
        for c, at in zip(corrections, drawn):
            rows = slice(at, at + 1 + len(c.variants))
            probabilities = [net.head_probabilities(features[n][rows]) for n, net in self.originals.items()]
            if firmly_contradicted(probabilities, c.label):
                raise HeldBack(f"the original models both firmly read this drawing as another digit than {c.label}")
            read_as = int(np.mean([p[0] for p in probabilities], axis=0).argmax())  # row 0: the drawing itself
            if read_as == c.label:
                misread.append(None)
                continue
            if taught[read_as, c.label] >= PAIR_BUDGET:
                raise HeldBack(
                    f"{PAIR_BUDGET} drawings the original models read as {read_as} were taught as {c.label} "
                    "within the hour: more wait until it has passed"
                )
            taught[read_as, c.label] += 1
            misread.append(read_as)
        known = state.scores if state.scores.get("watched") == self.guard.fingerprint else {}
        nets, learned, scores = {}, {}, {"watched": self.guard.fingerprint}
        for name, net in state.nets().items():
            stale = not net.same_features(self.originals[name])  # learned when more than the output layer moved
            if stale:  # the replay's and the guard's features are not its own: it starts again from the original
                log.warning("the updated %s starts again from the original: its lower layers differ", name)
                net = self.originals[name]
            recent = self._recent_features(name, state.recent_x)
            before = (not stale and known.get(name)) or self.guard.scores(name, net)
            fitted = self._fit(name, net, features[name], recent, state.recent_y, new_y, drawn, before)
            learned[f"{name}_updated"] = fitted is not None
            nets[name], scores[name] = fitted or (net, before)
        if not any(learned.values()):
            raise Refused("learning this drawing would make both updated models too much worse at digits they knew")
        drawings = weights.to_uint8(np.stack([c.drawing for c in corrections]))
        entries = [
            {
                "version": state.version + i + 1,
                "digit": int(c.label),
                "learned": learned,
                "at": round(c.at or now, 3),
                **({"read_as": read_as} if read_as is not None else {}),
                **({"right": c.right} if c.right is not None else {}),
                **(c.note or {}),
            }
            for i, (c, read_as) in enumerate(zip(corrections, misread))
        ]
        return replace(
            state,
            version=state.version + len(corrections),
            fnn=nets["fnn"],
            cnn=nets["cnn"],
            recent_x=np.concatenate([state.recent_x, drawings])[-RECENT:],
            recent_y=np.concatenate([state.recent_y, [c.label for c in corrections]])[-RECENT:],
            history=(state.history + entries)[-HISTORY:],
            scores=scores,
        )

    def _recent_features(self, name, recent_x):
        """The originals' features of the recent corrections (uint8 28x28), each computed once: every update
        replays them, and each stays among them for RECENT corrections."""
        keys = [(name, x.tobytes()) for x in recent_x]
        missing = [(key, x) for key, x in zip(keys, recent_x) if key not in self._recent]
        if missing:
            found = self.originals[name].features(np.stack([x for _, x in missing]).astype(np.float32) / 255.0)
            self._recent.update(zip((key for key, _ in missing), found))
            for key in list(self._recent)[: max(0, len(self._recent) - 4 * RECENT)]:  # the oldest first
                del self._recent[key]
        if not keys:
            return self.originals[name].features(recent_x / 255.0)  # none: an empty array of the right width
        return np.stack([self._recent[key] for key in keys])

    def _fit(self, name, net, new, recent, recent_y, new_y, drawn, before):
        """(a copy of `net` that has learned the corrections and passes the guard, its scores), or None: `new_y`
        labels the features `new`, whose rows `drawn` are the drawings themselves; `recent` are earlier
        corrections'; `before` are `net`'s scores."""
        for backoff in BACKOFF:
            candidate = net.copy()
            for step in range(MAX_STEPS[name]):
                pick = self.rng.choice(len(self.replay_y), REPLAY_BATCH, replace=False)
                old = self.rng.choice(len(recent_y), min(RECENT_BATCH, len(recent_y)), replace=False)
                labels = np.concatenate([new_y, self.replay_y[pick], recent_y[old]])
                inputs = np.concatenate([new, self.replay[name][pick], recent[old]])
                _, grads = candidate.head_loss_and_gradients(inputs, np.eye(10, dtype=np.float32)[labels])
                for weight, grad in grads.items():
                    grad += ANCHOR[name] * (candidate.params[weight] - self.originals[name].params[weight])
                candidate.apply(grads, RATES[name] * backoff)
                named = candidate.head_probabilities(new).argmax(1) == new_y
                if step + 1 >= MIN_STEPS and named[drawn].all() and named.mean() >= VARIANTS_RIGHT[name]:
                    break
            after = self.guard.scores(name, candidate)
            if self.guard.allows(name, before, after):
                return candidate, after
        return None
