"""Pick one answer from the models that learn from people, or none when they are not sure enough to name a digit."""

import numpy as np

# The answer is the updated models' (copies of the originals until the first correction), so a person who has
# corrected a drawing meets an answer that learned it; the originals are still shown beside them, and the online
# guard keeps the updated models within 0.5 points of them on the digits it watches. With the originals holding half
# of the answer, it still missed the taught digit after one correction in 40-48% of the drawings it had got wrong
# (docs/experiments.md; now 7-10%). The CNN is the stronger model; the FNN adds a second
# opinion that tips close calls. The threshold is the highest that abstains on at most 0.5% of digits that models
# of this recipe never learned from (the validation split's held-out train digits, never the test sets); it
# refuses 78% of fresh scribbles and all lines, blobs and dots there (`make threshold`, `bench/threshold.py`).
WEIGHTS = {"cnn_updated": 0.8, "fnn_updated": 0.2}
MIN_CONFIDENCE = 0.325
NOT_A_DIGIT = "can't recognize this as a digit"


def combined(probabilities):
    """The weighted mean of the updated models' probability vectors (`probabilities` may name all four)."""
    return sum(weight * np.asarray(probabilities[name]) for name, weight in WEIGHTS.items())


def decide(mix):
    """Return (digit or None, message) from the combined probability vector."""
    best = int(np.argmax(mix))
    if mix[best] < MIN_CONFIDENCE:
        return None, NOT_A_DIGIT
    return best, ""


def top3(probs):
    """The three most probable digits of each row of a batch, highest first, as the contract's JSON lists: one sort
    for all the rows."""
    order = np.argsort(probs, axis=1)[:, :-4:-1]
    chosen = np.take_along_axis(probs, order, axis=1)
    return [
        [{"digit": d, "probability": round(p, 4)} for d, p in zip(digits, ps)]
        for digits, ps in zip(order.tolist(), chosen.tolist())
    ]
