"""Choose the answer's confidence threshold on digits the models never saw. `python bench/threshold.py DIR`

DIR holds models of the shipped recipe trained on the first 6000 MNIST train digits only
(`python -m recognizer.training.train --digits 6000 --out DIR`). They are scored on the other 1000 (as canvas images and
as 3 pen re-drawings each, `bench/validation.py`'s held-out sets) and on 250 fresh non-digits of each kind:
never a test set. The shipped models cannot be asked this themselves, as they learned from every train digit
and are surer of those than of a new person's. The shipped threshold, `answer.MIN_CONFIDENCE`, is the highest
that abstains on at most 0.5% of the held-out digits, half of the 1% that a real digit may be refused.
"""

import sys
from pathlib import Path

import numpy as np
from validation import held_out_sets

from common import table  # (importing common puts the repository on sys.path)
from recognizer.nets import weights
from recognizer.reading import answer
from recognizer.training import dataset, synth
from recognizer.training.evaluate import fresh_mix

THRESHOLDS = np.round(np.arange(0.25, 0.601, 0.025), 3)
DIGITS_ABSTAINED = 0.005  # the most of the held-out digits the chosen threshold may refuse
SEED = 777


def mixed(fnn, cnn, images):
    """The answer's combined probabilities for each image."""
    return fresh_mix(fnn.probabilities(images), cnn.probabilities(images))


def main(directory):
    fnn, cnn = weights.load_models(directory)
    sets = held_out_sets()
    mix = mixed(fnn, cnn, np.concatenate([x for x, _ in sets.values()]))
    confidence, labels = mix.max(1), np.concatenate([y for _, y in sets.values()])
    junk = {
        kind: mixed(fnn, cnn, dataset.non_digits(250, seed=SEED + 222, kind=kind)).max(1) for kind in synth.NON_DIGITS
    }
    chosen = max((t for t in THRESHOLDS if (confidence < t).mean() <= DIGITS_ABSTAINED), default=None)
    rows = []
    for threshold in THRESHOLDS:
        named = confidence >= threshold
        right = (mix.argmax(1) == labels) & named
        marks = [
            label
            for label, value in (("chosen", chosen), ("shipped", answer.MIN_CONFIDENCE))
            if value is not None and np.isclose(threshold, value)
        ]
        rows.append(
            [
                f"{threshold:.3f}" + (f" ({', '.join(marks)})" if marks else ""),
                f"{right.mean():.2%}",
                f"{1 - named.mean():.2%}",
            ]
            + [f"{(c < threshold).mean():.1%}" for c in junk.values()]
        )
    print(
        f"{len(labels)} held-out digits ({', '.join(f'{len(y)} {name}' for name, (_, y) in sets.items())}); "
        f"models from {directory}\n"
    )
    table(["threshold", "digits right", "digits abstained"] + [f"{kind} abstained" for kind in junk], rows)
    pick = "none of these" if chosen is None else f"{chosen:.3f}"
    print(
        f"\nthe highest threshold that abstains on at most {DIGITS_ABSTAINED:.1%} of the digits: {pick} "
        f"(shipped: {answer.MIN_CONFIDENCE})"
    )


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(Path(sys.argv[1]))
