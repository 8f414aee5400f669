"""Training runs side by side: `python bench/runs.py DIR [DIR ...]` (each a training run's --out, or models/).

Each run's answer on every evaluation set (as `bench/accuracy.py` scores it), the runs' mean and range, and how
many of each set's digits every run misreads. Seeds of one recipe differ by a few digits per thousand, as much as
most recipe changes, so a recipe is judged by the mean of its runs; the misses all of them share are what no seed
or ensemble of them fixes (docs/experiments.md).
"""

import sys
from pathlib import Path

import numpy as np

from common import table  # (importing common puts the repository on sys.path)
from recognizer.nets import weights
from recognizer.training import dataset
from recognizer.training.evaluate import answers


def right_answers(models, images, labels):
    """A (runs, images) array: whether each run's answer names each image's label."""
    return np.array(
        [[a == y for a, y in zip(answers(f.probabilities(images), c.probabilities(images)), labels)] for f, c in models]
    )


def main(directories):
    models = [weights.load_models(directory) for directory in directories]
    rows = []
    for name, (images, labels) in dataset.evaluation_sets().items():
        right = right_answers(models, images, labels)
        share = right.mean(axis=1)
        rows.append(
            [name, str(len(labels))]
            + [f"{s:.2%}" for s in share]
            + [f"{share.mean():.2%}", f"{share.min():.2%} to {share.max():.2%}", str(int((~right.any(axis=0)).sum()))]
        )
    runs = [Path(directory).name for directory in directories]
    table(["set", "images", *runs, "mean", "range", "missed by every run"], rows)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__.splitlines()[0])
    main(sys.argv[1:])
