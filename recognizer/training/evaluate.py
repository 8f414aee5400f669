"""Score the models the way users meet them: each model, and the chosen answer with its abstentions."""

import numpy as np

from recognizer.reading import answer


def fresh_mix(fnn_probs, cnn_probs):
    """The answer's combined probabilities per image, for original models (updated ones equal to them)."""
    return answer.combined({"fnn": fnn_probs, "fnn_updated": fnn_probs, "cnn": cnn_probs, "cnn_updated": cnn_probs})


def answers(fnn_probs, cnn_probs):
    """The chosen answer (digit or None) per image, for original models."""
    return [answer.decide(mix)[0] for mix in fresh_mix(fnn_probs, cnn_probs)]


def accuracy_table(fnn, cnn, sets):
    """Per named (images, labels) set: accuracy of fnn, cnn and the answer, and how often the answer abstained."""
    rows = {}
    for name, (images, labels) in sets.items():
        fnn_probs, cnn_probs = fnn.probabilities(images), cnn.probabilities(images)
        chosen = answers(fnn_probs, cnn_probs)
        rows[name] = {
            "images": len(labels),
            "fnn": float((fnn_probs.argmax(1) == labels).mean()),
            "cnn": float((cnn_probs.argmax(1) == labels).mean()),
            "answer": float(np.mean([a == y for a, y in zip(chosen, labels)])),
            "abstained": float(np.mean([a is None for a in chosen])),
        }
    return rows


def abstention_table(fnn, cnn, sets):
    """Per named set of non-digit images: how often the answer abstained (higher is better)."""
    return {
        name: float(np.mean([a is None for a in answers(fnn.probabilities(x), cnn.probabilities(x))]))
        for name, x in sets.items()
    }
