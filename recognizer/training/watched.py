"""Write models/watched.npz: training writers' pen digits, drawn on the page and preprocessed as the server does,
for the online guard to watch digit by digit: `python -m recognizer.training.watched [--out models]`.

Only the pen sets' TRAINING writers are drawn (data.pen_split(name)[0]); the held-out writers stay for measuring.
Of each digit, the drawings kept are those the shipped CNN is least sure of: a wrong lesson moves the boundary
between two digits, and other writers' drawings near it give way first, long before the sure ones move (watching
drawings chosen at random, four held-out writers' 4s in a hundred turned 9 after three 4s taught as 9 were let
through; docs/experiments.md). A few seconds, no retraining: `make train` runs it after the nets.
"""

import argparse
from pathlib import Path

import numpy as np

from recognizer.nets import weights
from recognizer.reading.preprocess import to_mnist
from recognizer.training import data, synth

PER_SET_AND_DIGIT = 60  # drawings of each digit from each pen set: 180 a digit beside the replay's MNIST ones ...
CANDIDATES = 2  # ... the least sure of this many times as many, among those the CNN reads right


def watched_drawings(cnn, seed=0, per_set_and_digit=PER_SET_AND_DIGIT, candidates=CANDIDATES):
    """(28x28 uint8 images, labels): each digit drawn by training writers of every pen set, those `cnn` reads
    right least surely first."""
    rng = np.random.default_rng(seed)
    images, labels = [], []
    for name in data.PEN_SETS:
        training, _ = data.pen_split(name)
        for digit in range(10):
            pens = [p for p in training if p["label"] == digit]
            picks = rng.permutation(len(pens))[: per_set_and_digit * candidates]
            drawn = np.stack([to_mnist(synth.pen_digit(pens[i]["strokes"], rng)) for i in picks])
            probabilities = cnn.probabilities(drawn)
            sureness = np.where(probabilities.argmax(axis=1) == digit, probabilities[:, digit], np.inf)
            kept = np.argsort(sureness, kind="stable")[:per_set_and_digit]
            images.append(drawn[kept])
            labels += [digit] * len(kept)
    return weights.to_uint8(np.concatenate(images)), np.array(labels, dtype=np.int64)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=weights.SHIPPED, help="folder of the models (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    _, cnn = weights.load_models(args.out)
    x, y = watched_drawings(cnn, args.seed)
    weights.save(args.out / "watched.npz", {"x": x, "y": y})
    print(f"wrote {args.out / 'watched.npz'}: {len(y)} drawings, {np.bincount(y, minlength=10).tolist()} per digit")


if __name__ == "__main__":
    main()
