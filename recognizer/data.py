"""Load the shared data sets: MNIST digits and the pen-stroke drawings."""
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
