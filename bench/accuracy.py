"""Accuracy of each model and of the chosen answer, through the server's preprocessing. `python bench/accuracy.py [DIR]`

Sets, none trained on: UJI's held-out writers and the bridger iPad writer (real pen strokes drawn onto the page's
canvas at any size, place and pen width; UJI's also at each pen in turn), HwD-1000 (small-canvas drawings), the
official MNIST test digits as 200x200 canvas images, the dev strokes; then non-digits, where abstaining is right;
then the answer's most common confusions on the real writers. DIR holds the weights to score (default: the
shipped models/).
"""

import sys
from collections import Counter
from pathlib import Path

import numpy as np

from common import table  # (importing common puts the repository on sys.path)
from recognizer.nets import weights
from recognizer.training import data, dataset, synth
from recognizer.training.evaluate import abstention_table, accuracy_table, answers
from recognizer.training.render import PAGE_PEN, PENS

REAL = ("uji held-out writers", "bridger (iPad)", "hwd-1000")


def by_pen():
    """UJI's held-out writers at each pen in turn (thin, the page's, thick): the same 300 digits three times."""
    _, uji = data.pen_split("uji")
    labels = np.array([p["label"] for p in uji])
    return {f"  the same at pen {share}x": (dataset.pen_set(uji, 2024, PAGE_PEN * share), labels) for share in PENS}


def main(directory):
    fnn, cnn = weights.load_models(directory)
    sets = dataset.evaluation_sets()
    rows = accuracy_table(fnn, cnn, {REAL[0]: sets[REAL[0]], **by_pen(), **sets})  # the pens below UJI's row
    table(
        ["set", "images", "fnn", "cnn", "answer", "answer abstained"],
        [
            [
                name,
                str(r["images"]),
                f"{r['fnn']:.2%}",
                f"{r['cnn']:.2%}",
                f"{r['answer']:.2%}",
                f"{r['abstained']:.2%}",
            ]
            for name, r in rows.items()
        ],
    )
    print()
    junk = {kind: dataset.non_digits(250, seed=4242, kind=kind) for kind in synth.NON_DIGITS}
    abstained = abstention_table(fnn, cnn, junk)
    table(
        ["non-digit", "images", "answer abstained (want high)"],
        [[kind, "250", f"{share:.1%}"] for kind, share in abstained.items()],
    )
    print()
    confusions = Counter()
    for name in REAL:
        images, labels = sets[name]
        for chosen, label in zip(answers(fnn.probabilities(images), cnn.probabilities(images)), labels):
            if chosen != label:
                confusions[(int(label), "none" if chosen is None else str(chosen))] += 1
    table(
        ["written", "answer", "times (real writers' sets)"],
        [[str(written), said, str(times)] for (written, said), times in confusions.most_common(10)],
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else weights.SHIPPED)
