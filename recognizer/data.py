"""Load the data sets: the shared MNIST digits and pen-stroke drawings, and drawings people labelled in the app."""
import json
import os
from pathlib import Path

import numpy as np

SHARED = Path(os.environ.get("SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


def load_mnist(path=None):
    """Return (x_train, y_train, x_test, y_test) as uint8 white-on-black 28x28 digits and int labels."""
    with np.load(path or SHARED / "mnist-8k.npz") as data:
        return (data["x_train"], data["y_train"].astype(np.int64),
                data["x_test"], data["y_test"].astype(np.int64))


def load_strokes(path=None):
    """Return the pen-stroke drawings: a list of {"label", "width", "strokes"}."""
    with open(path or SHARED / "dev-strokes-300.json") as f:
        return json.load(f)


def load_drawings(path):
    """Return (x, y) of a data set written by `python -m recognizer.export`, checked: it joins MNIST in training."""
    try:
        with np.load(path, allow_pickle=False) as data:
            x, y = data["x"], data["y"]
    except (OSError, ValueError, KeyError) as error:
        raise ValueError(f"{path} is not a data set written by recognizer.export ({error})") from None
    if x.dtype != np.uint8 or x.ndim != 3 or x.shape[1:] != (28, 28) or y.shape != (len(x),):
        raise ValueError(f"{path}: expected x as N x 28 x 28 uint8 and N labels, got {x.dtype} {x.shape} and {y.shape}")
    if not np.isin(y, np.arange(10)).all():
        raise ValueError(f"{path}: labels must be digits 0-9")
    return x, y.astype(np.int64)
