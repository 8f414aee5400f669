"""Write models/watched.npz: training writers' pen digits, drawn on the page and preprocessed as the server does,
for the online guard to watch digit by digit: `python -m recognizer.training.watched [--out models]`.

Only the pen sets' TRAINING writers are drawn (data.pen_split(name)[0]); the held-out writers stay for measuring.
A few seconds, no retraining: `make train` runs it after the nets.
"""

import argparse
from pathlib import Path

import numpy as np

from recognizer.nets import weights
from recognizer.reading.preprocess import to_mnist
from recognizer.training import data, synth

PER_SET_AND_DIGIT = 60  # drawings of each digit from each pen set: 180 a digit beside the replay's MNIST ones


def watched_drawings(seed=0, per_set_and_digit=PER_SET_AND_DIGIT):
    """(28x28 uint8 images, labels): each digit drawn by training writers of every pen set."""
    rng = np.random.default_rng(seed)
    images, labels = [], []
    for name in data.PEN_SETS:
        training, _ = data.pen_split(name)
        for digit in range(10):
            pens = [p for p in training if p["label"] == digit]
            for i in rng.permutation(len(pens))[:per_set_and_digit]:
                images.append(to_mnist(synth.pen_digit(pens[i]["strokes"], rng)))
                labels.append(digit)
    return weights.to_uint8(np.stack(images)), np.array(labels, dtype=np.int64)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=weights.SHIPPED, help="folder of the models (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    x, y = watched_drawings(args.seed)
    weights.save(args.out / "watched.npz", {"x": x, "y": y})
    print(f"wrote {args.out / 'watched.npz'}: {len(y)} drawings, {np.bincount(y, minlength=10).tolist()} per digit")


if __name__ == "__main__":
    main()
