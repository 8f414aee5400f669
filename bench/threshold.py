"""How the answer's confidence threshold trades abstaining on digits against naming non-digits. `python bench/threshold.py`

Validation data only, never a test set: 2000 MNIST *train* digits (half re-drawn with a pen, half as canvas
images, renderings the training set does not hold) and 250 fresh non-digits of each kind. The shipped
threshold, `answer.MIN_CONFIDENCE`, is the highest one that abstains on at most 0.1% of these digits.
"""
import numpy as np
from common import table  # (importing common puts the repository on sys.path)

from recognizer import answer, data, dataset, synth, weights
from recognizer.cnn import ConvNet
from recognizer.evaluate import fresh_mix
from recognizer.fnn import FNN

THRESHOLDS = (0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6)
SEED = 777


def mixed(fnn, cnn, images):
    """The answer's combined probabilities for each image."""
    return fresh_mix(fnn.probabilities(images), cnn.probabilities(images))


def main():
    fnn = FNN(weights.load(weights.SHIPPED / "fnn.npz"))
    cnn = ConvNet(weights.load(weights.SHIPPED / "cnn.npz"))
    x_train, y_train, _, _ = data.load_mnist()
    pick = np.random.default_rng(SEED).choice(len(x_train), 2000, replace=False)
    digits = np.concatenate([dataset.pen_drawings(x_train[pick[:1000]], SEED),
                             dataset.canvas_renderings(x_train[pick[1000:]])])
    mix = mixed(fnn, cnn, digits)
    junk = {kind: mixed(fnn, cnn, dataset.non_digits(250, seed=SEED + 222, kind=kind)) for kind in synth.NON_DIGITS}
    rows = []
    for threshold in THRESHOLDS:
        named = mix.max(1) >= threshold
        right = (mix.argmax(1) == y_train[pick]) & named
        marker = " (shipped)" if threshold == answer.MIN_CONFIDENCE else ""
        rows.append([f"{threshold:.2f}{marker}", f"{right.mean():.2%}", f"{1 - named.mean():.2%}"]
                    + [f"{(m.max(1) < threshold).mean():.1%}" for m in junk.values()])
    table(["threshold", "digits right", "digits abstained"] + [f"{kind} abstained" for kind in junk], rows)


if __name__ == "__main__":
    main()
