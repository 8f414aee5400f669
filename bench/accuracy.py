"""Accuracy of each model and of the chosen answer, through the server's preprocessing. `python bench/accuracy.py [DIR]`

Sets, none trained on: each pen set's held-out writers (UJI, UNIPEN, pendigits) and the bridger iPad writer (real
pen strokes drawn onto the page's canvas at any size, place and pen width; the held-out writers also at each pen in
turn, in a hairline as tools that turn ink into images draw it, small, narrower and wider, turned 15 degrees each
way, and as a pen recording 12 or 8 points a stroke would leave them), HwD-1000 (small-canvas drawings), the
official MNIST test digits as 200x200 canvas images, the dev strokes; then non-digits, where abstaining is right;
then the answer's most common confusions on the real writers and how the errors spread over the held-out writers.
DIR holds the weights to score (default: the shipped models/).
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

REAL = ("bridger (iPad)", "hwd-1000")
SAMPLED = (12, 8)  # points a stroke, as slower tablets record them (the pen sets': a median of 31 to 46)
HAIRLINES = (1, 2)  # pens in canvas pixels (the page's: 14), thinner than any trained on
SMALL = (40, 60)  # digits this tall on the 200 px canvas (the page's pens then fill their loops)
WIDTHS = (0.6, 1.6)  # digits this much narrower or wider than their writer wrote them (a tablet's other aspect)
TURNS = (15, -15)  # digits turned this many degrees (anticlockwise, clockwise), as on a paper or tablet askew


def transformed(pen, matrix):
    """A pen digit with its strokes' points multiplied by a 2x2 matrix (y down, as on the canvas)."""
    return {**pen, "strokes": [(np.asarray(s, dtype=np.float64)[:, :2] @ matrix.T).tolist() for s in pen["strokes"]]}


def turn(degrees):
    """The matrix that turns a drawing anticlockwise as it is seen (y grows downward)."""
    angle = np.deg2rad(degrees)
    return np.array([[np.cos(angle), np.sin(angle)], [-np.sin(angle), np.cos(angle)]])


def by_pen_and_sampling():
    """Every held-out writer's digits at each pen in turn (thin, the page's, thick), in a 1 and a 2 px hairline,
    small (at a random pen, then the thick one), narrower and wider, turned both ways, then as a pen recording
    12, then 8 points a stroke would have left them."""
    pens = data.held_out_pens()
    labels = np.array([p["label"] for p in pens])
    sets = {f"  all of them at pen {share}x": (dataset.pen_set(pens, 2024, PAGE_PEN * share), labels) for share in PENS}
    sets.update({f"  all of them in a {px} px line": (dataset.pen_set(pens, 2024, px), labels) for px in HAIRLINES})
    sets["  all of them 40-60 px tall"] = (dataset.pen_set(pens, 2024, heights=SMALL), labels)
    sets["  all of them 40-60 px tall, pen 1.5x"] = (dataset.pen_set(pens, 2024, PAGE_PEN * 1.5, SMALL), labels)
    for width in WIDTHS:
        wider = [transformed(p, np.diag([width, 1.0])) for p in pens]
        sets[f"  all of them {width}x as wide"] = (dataset.pen_set(wider, 2024), labels)
    for degrees in TURNS:
        turned = [transformed(p, turn(degrees)) for p in pens]
        sets[f"  all of them turned {degrees} degrees"] = (dataset.pen_set(turned, 2024), labels)
    for count in SAMPLED:
        recorded = [{**p, "strokes": synth.recorded_with(p["strokes"], count)} for p in pens]
        sets[f"  all of them, {count} points a stroke"] = (dataset.pen_set(recorded, 2025), labels)
    return sets


def writers_table(fnn, cnn, held_out):
    """Per held-out set: how the answer's errors spread over its writers."""
    rows = []
    for name, (images, labels, writers) in held_out.items():
        chosen = answers(fnn.probabilities(images), cnn.probabilities(images))
        errors = Counter(w for w, a, y in zip(writers, chosen, labels) if a != y)
        counts = sorted(errors.values(), reverse=True)
        half = next((k + 1 for k in range(len(counts)) if sum(counts[: k + 1]) * 2 >= sum(counts)), 0)
        worst = ", ".join(f"{w.split(':', 1)[1]} {n}/{writers.count(w)}" for w, n in errors.most_common(3))
        rows.append([name, str(len(set(writers))), str(sum(counts)), str(len(errors)), str(half), worst or "-"])
    table(
        [
            "held-out set",
            "writers",
            "errors",
            "writers with an error",
            "writers with half the errors",
            "worst writers (errors/digits)",
        ],
        rows,
    )


def main(directory):
    fnn, cnn = weights.load_models(directory)
    held_out = dataset.held_out_sets()
    sets = dataset.evaluation_sets()
    named = {name: sets[name] for name in held_out}
    named.update(by_pen_and_sampling())
    named.update({name: value for name, value in sets.items() if name not in held_out})
    rows = accuracy_table(fnn, cnn, named)
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
    for name in list(held_out) + list(REAL):
        images, labels = sets[name]
        for chosen, label in zip(answers(fnn.probabilities(images), cnn.probabilities(images)), labels):
            if chosen != label:
                confusions[(int(label), "none" if chosen is None else str(chosen))] += 1
    table(
        ["written", "answer", "times (real writers' sets)"],
        [[str(written), said, str(times)] for (written, said), times in confusions.most_common(10)],
    )
    print()
    writers_table(fnn, cnn, held_out)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else weights.SHIPPED)
