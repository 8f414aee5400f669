"""Pick one answer from the four models, or none when they are not confident enough to name a digit."""
import numpy as np

# The CNNs are the stronger models; the FNNs add a second opinion that tips close calls. The threshold is the
# highest that abstains on at most 0.5% of digits that models of this recipe never learned from (the validation
# split's held-out train digits, never the test sets); it refuses 78% of fresh scribbles and all lines, blobs and
# dots there (`make threshold`, which runs `bench/threshold.py`).
WEIGHTS = {"cnn": 0.4, "cnn_updated": 0.4, "fnn": 0.1, "fnn_updated": 0.1}
MIN_CONFIDENCE = 0.325
NOT_A_DIGIT = "can't recognize this as a digit"


def combined(probabilities):
    """The weighted mean of the models' probability vectors."""
    return sum(WEIGHTS[name] * np.asarray(p) for name, p in probabilities.items())


def choose(probabilities):
    """Return (digit or None, message) from each model's probability vector."""
    return decide(combined(probabilities))


def decide(mix):
    """Return (digit or None, message) from the combined probability vector."""
    best = int(np.argmax(mix))
    if mix[best] < MIN_CONFIDENCE:
        return None, NOT_A_DIGIT
    return best, ""


def top3(probs):
    """The three most probable digits, highest first, as the contract's JSON list."""
    order = np.argsort(probs)[::-1][:3]
    return [{"digit": int(d), "probability": round(float(probs[d]), 4)} for d in order]
