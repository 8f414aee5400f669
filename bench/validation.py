"""Compare training recipes on held-out MNIST *train* digits. `python bench/validation.py DIR [DIR ...]`

Train each recipe on the first 6000 train digits (`python -m recognizer.training.train --digits 6000 --out DIR`), then
score it here on the other 1000, as canvas images and as 3 pen re-drawings each: recipes are chosen this way,
never by their MNIST test score. (The shipped models learned from every train digit, so this says nothing of them.)
"""

import sys
from pathlib import Path

import numpy as np

from common import table  # (importing common puts the repository on sys.path)
from recognizer.nets import weights
from recognizer.training import data, dataset
from recognizer.training.evaluate import accuracy_table

HELD_OUT = slice(6000, 7000)
PEN_COPIES = 3


def held_out_sets():
    """The 1000 train digits a `--digits 6000` run never saw, as canvas images and as pen re-drawings."""
    x_train, y_train = data.mnist_training_digits()
    digits, labels = x_train[HELD_OUT], y_train[HELD_OUT]
    pens = np.concatenate([dataset.pen_drawings(digits, 500 + k) for k in range(PEN_COPIES)])
    return {
        "held-out canvas": (dataset.canvas_renderings(digits), labels),
        "held-out pens": (pens, np.tile(labels, PEN_COPIES)),
    }


def main(directories):
    sets = held_out_sets()
    rows = []
    for directory in map(Path, directories):
        scores = accuracy_table(*weights.load_models(directory), sets)
        for name, r in scores.items():
            wrong = round((1 - r["cnn"]) * r["images"])
            rows.append(
                [
                    str(directory),
                    name,
                    str(r["images"]),
                    f"{r['fnn']:.2%}",
                    f"{r['cnn']:.2%}",
                    str(wrong),
                    f"{r['answer']:.2%}",
                    f"{r['abstained']:.2%}",
                ]
            )
    table(["models", "set", "images", "fnn", "cnn", "cnn wrong", "answer", "answer abstained"], rows)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
