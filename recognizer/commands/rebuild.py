"""Rebuild the updated models from every stored correction, oldest first: `python -m recognizer.commands.rebuild
[--without-client HASH]`.

For when the online updates went wrong or the learning changed: the updated models are reset to the originals,
then each correction people made (route "train") is learned again in the order it came in, each one committed
as a new version. `--without-client` leaves out the corrections of one client (its salted hash, as
GET /admin/clients lists them): its drawings stay stored, they are just not learned.
"""

import argparse

from recognizer.learning.online import Refused
from recognizer.nets.weights import MODELS_DIR
from recognizer.reading.preprocess import to_mnist
from recognizer.service import Recognizer
from recognizer.state.drawings import stored_drawings
from recognizer.state.store import open_store, url_from_environment


def replay(recognizer, without_client=None, log=print):
    """Reset `recognizer`'s updated models, then learn the stored corrections again, leaving out those of
    `without_client`; return (learned, refused, left out, the model_version reached)."""
    store = recognizer.store
    corrections = [(d, d.meta(store) or {}) for d in stored_drawings(store)]
    corrections = [(d, meta) for d, meta in corrections if meta.get("route") == "train"]
    recognizer.reset()
    learned = refused = left_out = 0
    for drawing, meta in corrections:
        if without_client and meta.get("client") == without_client:
            left_out += 1
            continue
        ink = drawing.ink(store)
        try:
            state = recognizer.learn(
                to_mnist(ink),
                recognizer.variants(ink),
                drawing.digit,
                replayed=True,
                sample_id=drawing.sample_id,
                client=meta.get("client"),
                at=meta.get("time"),
            )
            learned += 1
            log(f"{drawing.sample_id}: learned {drawing.digit} -> version {state.version}")
        except Refused as error:
            refused += 1
            log(f"{drawing.sample_id}: refused {drawing.digit} ({error})")
    return learned, refused, left_out, recognizer.versions.state.version


def rebuild(store, models_dir=MODELS_DIR, seed=0, log=print, without_client=None):
    """replay() with a recognizer of its own on `store`: (learned, refused, the model_version reached)."""
    learned, refused, _, version = replay(Recognizer(store, models_dir, seed=seed), without_client, log)
    return learned, refused, version


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=str(MODELS_DIR), help="the original weights (default: %(default)s)")
    parser.add_argument("--without-client", help="leave out this client's corrections (GET /admin/clients)")
    args = parser.parse_args()
    url = url_from_environment()
    learned, refused, version = rebuild(open_store(url), args.models, without_client=args.without_client)
    print(f"rebuilt {url}: {learned} corrections learned, {refused} refused; model_version {version}")


if __name__ == "__main__":
    main()
