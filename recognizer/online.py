"""Learn from one correction without forgetting: augmented variants, replay, a few steps, and a guard."""
import json
from dataclasses import dataclass, field, replace

import numpy as np

from recognizer import weights
from recognizer.cnn import ConvNet
from recognizer.fnn import FNN

RECENT = 64            # earlier corrections kept in the state and replayed with new ones
REPLAY_BATCH = 40      # exemplars mixed into every step
RECENT_BATCH = 8       # earlier corrections mixed into every step
MIN_STEPS, MAX_STEPS = 2, 8
FNN_RATE, CNN_RATE = 0.05, 0.02
GUARD_STEP = 0.01      # an update may cost at most this much held-out accuracy ...
GUARD_TOTAL = 0.015    # ... and the updated models may drift at most this far below the originals
UPDATED = ("fnn_updated", "cnn_updated")


class Refused(Exception):
    """The guard refused a correction because it would sink held-out accuracy."""


@dataclass
class UpdatedModels:
    """Everything that changes with corrections: both updated models, recent corrections and the score history."""
    version: int
    fnn: FNN
    cnn: ConvNet
    recent_x: np.ndarray = field(default_factory=lambda: np.zeros((0, 28, 28), dtype=np.uint8))
    recent_y: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    history: list = field(default_factory=list)

    def to_bytes(self):
        arrays = {f"fnn/{k}": v for k, v in self.fnn.params.items()}
        arrays.update({f"cnn/{k}": v for k, v in self.cnn.params.items()})
        arrays.update(version=np.array(self.version), recent_x=self.recent_x, recent_y=self.recent_y,
                      history=np.frombuffer(json.dumps(self.history).encode(), dtype=np.uint8))
        return weights.to_bytes(arrays)

    @classmethod
    def from_bytes(cls, data):
        arrays = weights.load(data)
        part = lambda prefix: {k.split("/", 1)[1]: v for k, v in arrays.items() if k.startswith(prefix)}
        return cls(int(arrays["version"]), FNN(part("fnn/")), ConvNet(part("cnn/")),
                   arrays["recent_x"], arrays["recent_y"], json.loads(arrays["history"].tobytes() or b"[]"))


class OnlineLearner:
    """Applies one correction to the updated models; the CNN learns in its dense head on frozen conv features."""

    def __init__(self, cnn, replay_x, replay_y, holdout_x, holdout_y, seed=None):
        self.replay_x = replay_x.astype(np.float32) / 255.0
        self.replay_features = cnn.features(self.replay_x)
        self.replay_y = replay_y.astype(np.int64)
        self.holdout_x = holdout_x.astype(np.float32) / 255.0
        self.holdout_features = cnn.features(self.holdout_x)
        self.holdout_y = holdout_y.astype(np.int64)
        self.rng = np.random.default_rng(seed)

    def holdout_accuracy(self, fnn, cnn):
        """Accuracy of (fnn, cnn) on the held-out digits the guard watches."""
        return (float((fnn.probabilities(self.holdout_x).argmax(1) == self.holdout_y).mean()),
                float((cnn.head_probabilities(self.holdout_features).argmax(1) == self.holdout_y).mean()))

    def learn(self, state, drawing, variants, label, right, baseline):
        """Return a new state one version on, having learned `label` for `drawing` (28x28) and its variants.

        `right` says which of the four models named the drawing correctly before learning (for /stats);
        `baseline` is the originals' held-out accuracy (fnn, cnn). Raises Refused if the guard says no.
        """
        fnn, cnn = state.fnn.copy(), state.cnn.copy()
        new_x = np.concatenate([drawing[None], variants]).astype(np.float32)
        new_features = cnn.features(new_x)
        recent_x = state.recent_x.astype(np.float32) / 255.0
        recent_features = cnn.features(recent_x)
        before = self.holdout_accuracy(fnn, cnn)
        for step in range(MAX_STEPS):
            pick = self.rng.choice(len(self.replay_y), REPLAY_BATCH, replace=False)
            old = self.rng.choice(len(state.recent_y), min(RECENT_BATCH, len(state.recent_y)), replace=False)
            labels = np.concatenate([np.full(len(new_x), label), self.replay_y[pick], state.recent_y[old]])
            targets = np.eye(10, dtype=np.float32)[labels]
            images = np.concatenate([new_x, self.replay_x[pick], recent_x[old]])
            _, grads = fnn.loss_and_gradients(images, None, l2=0.0, targets=targets)
            fnn.apply(grads, FNN_RATE)
            _, grads = cnn.head_loss_and_gradients(
                np.concatenate([new_features, self.replay_features[pick], recent_features[old]]), targets)
            cnn.apply(grads, CNN_RATE)
            if step + 1 >= MIN_STEPS and self._learned(fnn, cnn, new_x[:1], new_features[:1], label):
                break
        after = self.holdout_accuracy(fnn, cnn)
        for name, b, a, o in zip(UPDATED, before, after, baseline):
            if a < b - GUARD_STEP or a < o - GUARD_TOTAL:
                raise Refused(f"learning this would lower {name}'s held-out accuracy from {b:.1%} to {a:.1%}")
        drawing_u8 = weights.to_uint8(drawing)[None]
        return replace(
            state, version=state.version + 1, fnn=fnn, cnn=cnn,
            recent_x=np.concatenate([state.recent_x, drawing_u8])[-RECENT:],
            recent_y=np.concatenate([state.recent_y, [label]])[-RECENT:],
            history=state.history + [{"version": state.version + 1, "digit": int(label), "right": right}],
        )

    @staticmethod
    def _learned(fnn, cnn, image, features, label):
        return (fnn.probabilities(image)[0].argmax() == label
                and cnn.head_probabilities(features)[0].argmax() == label)
