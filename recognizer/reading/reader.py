"""Read a drawing with the four models: as one digit and as a number, every image of it in one batched pass."""

import numpy as np

from recognizer.reading import answer, segment
from recognizer.reading import strokes as strokes_module
from recognizer.reading.images import to_png_data_url
from recognizer.reading.preprocess import BlankDrawing, to_mnist

MODELS = ("fnn", "fnn_updated", "cnn", "cnn_updated")
FLOOR = 1e-6  # the least confidence a group of pieces scores with (one too faint to read, too)


def row(probs, i):
    """The four models' probabilities for image `i` of a batch."""
    return {name: probs[name][i] for name in MODELS}


def readable(digit):
    """A digit's 28x28 image, or None when its ink is too faint to read (nothing to read)."""
    try:
        return to_mnist(digit.ink)
    except BlankDrawing:
        return None


def confidence(entry):
    """The log of how surely the models read a group of pieces ((Digit, image, probabilities), None: too faint)."""
    surest = FLOOR if entry is None else float(answer.combined(entry[2]).max())
    return float(np.log(max(surest, FLOOR)))


def readings(rows, images):
    """The answer, each model's top three and the preview for each of several images the four models read (their
    rows of probabilities), each model's rows sorted at once."""
    probs = {name: np.stack([r[name] for r in rows]) for name in MODELS}
    tops = {name: answer.top3(probs[name]) for name in MODELS}
    return [
        {
            "answer": answer.decide(mix)[0],
            "predictions": {name: tops[name][k] for name in MODELS},
            "preview": to_png_data_url(image),
        }
        for k, (mix, image) in enumerate(zip(answer.combined(probs), images))
    ]


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

        Online updates change the CNN's output layer alone, so the original's features (`conv`, computed here when
        not given) serve the updated CNN too; a stored version whose lower layers differ gets its own pass."""
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
        return described(readings([row(self.probabilities(image[None], state), 0)], [image])[0], state)

    def predict(self, ink, state, strokes=None):
        """Recognize a drawing as one digit (the top-level fields) and as a number (`number`, `digits`), every
        image in one batched pass; `strokes` (the ink as drawn, in the image's pixels) say which ink belongs
        together. Raises BlankDrawing."""
        whole, probs, parts, rows, trouble = self.read(ink, state, strokes)
        alone = len(rows) == 1 and rows[0] is probs  # one digit: the drawing whole, its reading made once
        shown = readings([probs] + rows[alone:], [whole] + [image for _, image in parts[alone:]])
        digits = [{"box": list(digit.box), **entry} for (digit, _), entry in zip(parts, shown[1 - alone :])]
        unnamed = [k + 1 for k, entry in enumerate(digits) if entry["answer"] is None]
        if unnamed and len(digits) > 1:
            trouble = f"can't recognize digit {unnamed[0]} of {len(digits)} (from the left) as a digit"
        body = described(shown[0], state, trouble)
        body["number"] = "".join(str(entry["answer"]) for entry in digits) if digits and not unnamed else None
        body["digits"] = digits
        return body

    def read(self, ink, state, strokes=None):
        """The whole drawing's image and probabilities, its digits as [(Digit, image)] with theirs, and what kept
        it from being a number ("" when nothing did).

        The drawing's pieces (its strokes, else its parts in the image) are grouped into digits as the models read
        them best. The groups of the grouping their shapes make likeliest are read in the same batch as the whole;
        any other group only when the grouping, scoring each unread group by its shape alone (an upper bound),
        still comes to it: the grouping reading them all would choose, from a few images more than the digits."""
        drawing = segment.whole_drawing(ink)
        whole = to_mnist(drawing.ink)  # cropped to its ink already: the same image, one look at the canvas fewer
        try:
            found, layout = strokes_module.pieces(ink, strokes) or segment.pieces(ink)
        except segment.TooManyParts as error:
            return whole, row(self.probabilities(whole[None], state), 0), [], [], str(error)
        costs = segment.candidates(found, layout)
        everything = (0, len(found))
        likeliest = segment.best(len(found), {span: -cost for span, cost in costs.items()})  # by shape alone
        read, whole_row = self.groups(ink, found, [span for span in likeliest if span != everything], state, whole)
        read[everything] = (drawing, whole, whole_row)
        while True:  # an unread group scores its shape alone (as if read surely): no grouping it is in beats this
            scores = {span: confidence(read[span]) - cost if span in read else -cost for span, cost in costs.items()}
            chosen = segment.best(len(found), scores)
            unread = [span for span in chosen if span not in read]
            if not unread:
                break
            read.update(self.groups(ink, found, unread, state)[0])
        chosen = [span for span in chosen if read[span] is not None]
        if len(chosen) == 1:  # a one-digit drawing's digit is the drawing whole
            return whole, whole_row, [(drawing, whole)], [whole_row], ""
        chosen.sort(key=lambda span: read[span][0].box[0] + read[span][0].box[2])  # strokes: drawing order
        return whole, whole_row, [read[span][:2] for span in chosen], [read[span][2] for span in chosen], ""

    def groups(self, ink, found, spans, state, whole=None):
        """Read groups of pieces (and the whole drawing's image, when given, first) in one batched pass:
        ({span: (Digit, image, probabilities), or None when too faint to read}, the whole's probabilities)."""
        digits = [(span, segment.group_ink(ink, found[span[0] : span[1]])) for span in spans]
        images = [(span, digit, readable(digit)) for span, digit in digits]
        shown = [(span, digit, image) for span, digit, image in images if image is not None]
        first = [] if whole is None else [whole]
        read = {span: None for span, _, image in images if image is None}
        if not first and not shown:  # every group asked for is too faint to read
            return read, None
        probs = self.probabilities(np.stack(first + [image for _, _, image in shown]), state)
        read.update({span: (digit, image, row(probs, k + len(first))) for k, (span, digit, image) in enumerate(shown)})
        return read, row(probs, 0) if first else None

    def digit_in(self, ink, box, state, strokes=None):
        """The Digit a box names: one /predict found there (its strokes alone), else what the box holds."""
        return segment.digit_in(ink, box, [digit for digit, _ in self.read(ink, state, strokes)[2]])
