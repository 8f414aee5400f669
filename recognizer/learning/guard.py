"""What the public may teach the shared models: a style, not a lie.

Three checks. First, a correction the original models both firmly contradict (a clean 1 labelled 7: neither gives
7 even FIRM across the drawing and its variants) is held back, kept but not learned; the styles people really
correct (a flagged 1 read as 7, an open 4 read as 9) keep at least a few percent for their digit in one model
(docs/experiments.md, 2026-12-02). Second, one misreading (drawings the originals read as one digit, taught as
another) is learned only a few times an hour, however many clients teach it: a writer's style needs two or three,
a group of pranksters many. Third, the guard proper: no update may cost any digit more than a small share
of the drawings of it that are watched. Watching the digits as one pool let a wrong lesson about one digit through
(clean 1s taught as 7s cost a tenth of the 1s, a hundredth of the pool); watched digit by digit, and over training
writers' pens as well as MNIST, such a lesson shows in its digit. And none may leave a digit's watched drawings much
less sure of it: a lie moves the boundary toward every drawing of its digit before it flips many of the watched
ones, which is where other writers' drawings give way. The limits hold per step (against one harmful correction)
and against the original models (against many small ones adding up).
"""

import hashlib
from collections import Counter

import numpy as np

CLASSES = 10
STEP = 0.01  # one update may cost the watched drawings, all together, at most this share ...
TOTAL = 0.01  # ... and leave them at most this far below the original model's accuracy;
# And it may cost any one digit at most this share of its watched drawings, per update and against the original
# model: the CNN, most of the answer, hardly moves for an honest style (its watched drawings are those it is least
# sure of, which a moving boundary flips first); the FNN, all of whose weights learn, moves more for one, and is
# held to the looser limit.
CLASS_LIMIT = {"fnn": 0.1, "cnn": 0.03}
# Nor may it lower a digit's watched drawings' mean probability of that digit by more than this: the CNN's output
# layer moves little for an honest style and a lie shows here first; the FNN is held by its accuracies alone.
SURENESS_LIMIT = {"fnn": 1.0, "cnn": 0.03}
FIRM = 0.02  # below this for the label (the likelier of the two originals, the median over the variants): held back
# A misreading (drawings the originals together read as one digit, taught as another) is learned at most this many
# times within PAIR_WINDOW seconds; more are held back. A writer's own style takes two or three; a prank takes many.
PAIR_BUDGET = 3
PAIR_WINDOW = 3600.0


def firmly_contradicted(probabilities, label):
    """Whether both original models firmly read a drawing and its variants (their `probabilities`, one array per
    model) as other than `label`."""
    likeliest = np.maximum(*(p[:, label] for p in probabilities))
    return bool(np.median(likeliest) < FIRM)


def learned_misreadings(history, now):
    """How often each misreading, (read as, taught as), was learned by either model in the PAIR_WINDOW to `now`,
    since the models were last reset or rolled back (what they learned before, they no longer hold all of)."""
    counted = Counter()
    for entry in reversed(history):
        if "reset" in entry or "rollback" in entry:
            break
        if "read_as" in entry and entry.get("at", 0) > now - PAIR_WINDOW and any(entry["learned"].values()):
            counted[entry["read_as"], entry["digit"]] += 1
    return counted


class Guard:
    """Scores a model's head on the watched drawings, digit by digit, and says whether an update may stand."""

    def __init__(self, originals, images, labels):
        self.labels = labels.astype(np.int64)
        # Names the watched drawings and what is scored, so that scores kept with a version are used only against
        # the same ones.
        watched = b"accuracy, sureness" + np.ascontiguousarray(images).tobytes() + self.labels.tobytes()
        self.fingerprint = hashlib.sha256(watched).hexdigest()[:16]
        self.counts = np.maximum(np.bincount(self.labels, minlength=CLASSES), 1)
        self.features = {name: net.features(images) for name, net in originals.items()}
        self.baseline = {name: self.scores(name, net) for name, net in originals.items()}

    def scores(self, name, net):
        """[accuracy on all watched drawings, then on each digit's, then each digit's mean probability of itself]
        of model `name`'s weights `net`."""
        probabilities = net.head_probabilities(self.features[name])
        right = probabilities.argmax(1) == self.labels
        own = probabilities[np.arange(len(self.labels)), self.labels]
        per_digit = lambda values: np.bincount(self.labels, weights=values, minlength=CLASSES) / self.counts
        return [float(right.mean()), *per_digit(right), *per_digit(own)]

    def allows(self, name, before, after):
        """Whether model `name` may go from scores `before` to scores `after`."""
        before, after, baseline = (np.asarray(scores) for scores in (before, after, self.baseline[name]))
        per_step = np.array([STEP] + [CLASS_LIMIT[name]] * CLASSES + [SURENESS_LIMIT[name]] * CLASSES)
        in_all = np.array([TOTAL] + [CLASS_LIMIT[name]] * CLASSES + [SURENESS_LIMIT[name]] * CLASSES)
        return bool((after >= before - per_step - 1e-9).all() and (after >= baseline - in_all - 1e-9).all())
