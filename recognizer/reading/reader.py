"""Read a drawing with the four models: as one digit and as a number, every image of it in one batched pass."""

import numpy as np

from recognizer.reading import answer, segment
from recognizer.reading.images import to_png_data_url
from recognizer.reading.preprocess import BlankDrawing, to_mnist

MODELS = ("fnn", "fnn_updated", "cnn", "cnn_updated")


def row(probs, i):
    """The four models' probabilities for image `i` of a batch."""
    return {name: probs[name][i] for name in MODELS}


def preprocessed(found):
    """(digit, its 28x28 image) for each digit found, leaving out one of faint ink only (nothing to read)."""
    for digit in found:
        try:
            yield digit, to_mnist(digit.ink)
        except BlankDrawing:
            pass


def reading(probs, image):
    """The answer, each model's top three and the preview for one image the four models read."""
    return {
        "answer": answer.choose(probs)[0],
        "predictions": {name: answer.top3(probs[name]) for name in MODELS},
        "preview": to_png_data_url(image),
    }


def described(entry, state, trouble=""):
    """A reading as the contract's top level: with its message (why no digit is named) and the model versions."""
    message = "; ".join(m for m in (answer.NOT_A_DIGIT if entry["answer"] is None else "", trouble) if m)
    return {
        "answer": entry["answer"],
        "message": message,
        "predictions": entry["predictions"],
        "model_versions": model_versions(state),
        "preview": entry["preview"],
    }


def model_versions(state):
    """The contract's model_versions: both updated models move together, one version per accepted correction."""
    return {"fnn_updated": state.version, "cnn_updated": state.version}


class Reader:
    """The original models, and how they and a state's updated copies read a drawing."""

    def __init__(self, fnn, cnn):
        self.fnn, self.cnn = fnn, cnn

    def probabilities(self, images, state, conv=None):
        """Each of the four models' probabilities for a batch of 28x28 images, in one pass per model.

        Online updates leave the CNN's convolutions frozen, so the original's features (`conv`, computed here when
        not given) serve the updated CNN too; a stored version whose convolutions differ gets its own pass."""
        conv = self.cnn.features(images) if conv is None else conv
        updated = (
            state.cnn.head_probabilities(conv) if state.cnn.same_features(self.cnn) else state.cnn.probabilities(images)
        )
        return {
            "fnn": self.fnn.probabilities(images),
            "fnn_updated": state.fnn.probabilities(images),
            "cnn": self.cnn.head_probabilities(conv),
            "cnn_updated": updated,
        }

    def describe(self, image, state):
        """The /predict fields for one preprocessed image: the answer, each model's top three, the preview."""
        return described(reading(row(self.probabilities(image[None], state), 0), image), state)

    def predict(self, ink, state, strokes=None):
        """Recognize a drawing as one digit (the top-level fields) and as a number (`number`, `digits`), every
        image in one batched pass; `strokes` (the ink as drawn, in the image's pixels) say which ink belongs
        together. Raises BlankDrawing."""
        whole, probs, parts, rows, trouble = self.read(ink, state, strokes)
        digits = [{"box": list(digit.box), **reading(r, image)} for (digit, image), r in zip(parts, rows)]
        unnamed = [k + 1 for k, entry in enumerate(digits) if entry["answer"] is None]
        if unnamed and len(digits) > 1:
            trouble = f"can't recognize digit {unnamed[0]} of {len(digits)} (from the left) as a digit"
        body = described(reading(probs, whole), state, trouble)
        body["number"] = "".join(str(entry["answer"]) for entry in digits) if digits and not unnamed else None
        body["digits"] = digits
        return body

    def read(self, ink, state, strokes=None):
        """The whole drawing's image and probabilities, its digits as [(Digit, image)] with theirs, and what kept
        it from being a number ("" when nothing did)."""
        whole = to_mnist(ink)
        try:
            found, trouble = segment.digits(ink), ""
        except segment.TooManyParts as error:
            found, trouble = [], str(error)
        single = len(found) == 1  # a one-digit drawing's digit is the drawing whole
        parts = [(found[0], whole)] if single else list(preprocessed(found))
        probs = self.probabilities(np.stack([whole] + ([] if single else [image for _, image in parts])), state)
        parts, rows = self.parted(parts, [row(probs, k if single else k + 1) for k in range(len(parts))], state)
        return whole, row(probs, 0), parts, rows, trouble

    def digit_in(self, ink, box, state, strokes=None):
        """The ink of the digit a box names: one /predict found there (its strokes alone), else what the box holds."""
        return segment.digit_in(ink, box, [digit for digit, _ in self.read(ink, state, strokes)[2]])

    def parted(self, parts, rows, state):
        """Digits that touch: a wide part the models are unsure of becomes two where a cut of it reads surely."""
        trials = [
            (k, pair) for k, (digit, _) in enumerate(parts) if answer.unsure(rows[k]) for pair in segment.splits(digit)
        ]
        if not trials:
            return parts, rows
        halves = [(half, to_mnist(half.ink)) for _, pair in trials for half in pair]
        probs = self.probabilities(np.stack([image for _, image in halves]), state)
        best = {}
        for t, (k, _) in enumerate(trials):
            two = [row(probs, 2 * t), row(probs, 2 * t + 1)]
            score = answer.surely_both(two)
            if score is not None and score > best.get(k, (0.0,))[0]:
                best[k] = (score, halves[2 * t : 2 * t + 2], two)
        cut_parts, cut_rows = [], []
        for k, (part, r) in enumerate(zip(parts, rows)):
            cut_parts += best[k][1] if k in best else [part]
            cut_rows += best[k][2] if k in best else [r]
        return cut_parts, cut_rows
