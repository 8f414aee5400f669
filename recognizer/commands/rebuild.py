"""Rebuild the updated models from every stored correction, oldest first: `python -m recognizer.commands.rebuild`.

For when the online updates went wrong or the learning changed: the updated models are reset to the originals,
then each correction people made (route "train") is learned again in the order it came in, each one committed
as a new version, so model_version ends at the number of corrections learned.
"""

import argparse

from recognizer.learning.augment import correction_variants
from recognizer.learning.online import Refused
from recognizer.nets.weights import MODELS_DIR
from recognizer.reading.preprocess import to_mnist
from recognizer.service import Recognizer
from recognizer.state.drawings import stored_drawings
from recognizer.state.store import open_store, url_from_environment


def rebuild(store, models_dir=MODELS_DIR, seed=0, log=print):
    """Reset, then replay the corrections; return (learned, refused, the model_version reached)."""
    recognizer = Recognizer(store, models_dir, seed=seed)
    corrections = [d for d in stored_drawings(store) if (d.meta(store) or {}).get("route") == "train"]
    recognizer.reset()
    learned = refused = 0
    for drawing in corrections:
        ink = drawing.ink(store)
        try:
            state = recognizer.learn(
                to_mnist(ink), correction_variants(ink, recognizer.rng), drawing.digit, replayed=True
            )
            learned += 1
            log(f"{drawing.sample_id}: learned {drawing.digit} -> version {state.version}")
        except Refused as error:
            refused += 1
            log(f"{drawing.sample_id}: refused {drawing.digit} ({error})")
    return learned, refused, recognizer.versions.state.version


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=str(MODELS_DIR), help="the original weights (default: %(default)s)")
    args = parser.parse_args()
    url = url_from_environment()
    learned, refused, version = rebuild(open_store(url), args.models)
    print(f"rebuilt {url}: {learned} corrections learned, {refused} refused; model_version {version}")


if __name__ == "__main__":
    main()
