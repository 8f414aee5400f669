"""Load the data sets: MNIST, real pen digits as strokes, canvas drawings, and drawings people labelled in the app."""

import json
import os
from pathlib import Path

import numpy as np

SHARED = Path(os.environ.get("SHARED_DATA", Path(__file__).resolve().parents[3] / "shared" / "data"))
PEN_SETS = ("uji", "unipen", "pendigits")  # real writers' pen digits with writer ids
HELD_OUT_EVERY = {
    "uji": 4,
    "unipen": 5,
    "pendigits": 5,
}  # every n-th writer (in sorted order) is measured on, never trained on


def load_mnist(path=None):
    """Return (x_train, y_train, x_test, y_test) as uint8 white-on-black 28x28 digits and int labels."""
    with np.load(path or SHARED / "mnist.npz") as data:
        return (data["x_train"], data["y_train"].astype(np.int64), data["x_test"], data["y_test"].astype(np.int64))


def dev_sources():
    """The MNIST train digits the dev strokes were re-drawn from (mnist-8k's x_test): never trained on."""
    with np.load(SHARED / "mnist-8k.npz") as data:
        return data["x_test"]


def mnist_training_digits():
    """MNIST's train digits less the ones the dev strokes were drawn from, so dev-strokes-300 stays unseen."""
    x_train, y_train, _, _ = load_mnist()
    seen = {digit.tobytes() for digit in dev_sources()}
    keep = np.array([digit.tobytes() not in seen for digit in x_train])
    return x_train[keep], y_train[keep]


def load_strokes(path=None):
    """Return the pen-stroke drawings: a list of {"label", "width", "strokes"}."""
    with open(path or SHARED / "dev-strokes-300.json") as f:
        return json.load(f)


def load_pens(name):
    """Real pen digits (a PEN_SETS name or "bridger"): a list of {"label", "strokes"[, "writer", "quality"]},
    points in the pen's units."""
    with open(SHARED / f"pens-{name}.json") as f:
        return json.load(f)


def held_out_writers(name):
    """The writers of a pen set kept out of training: every HELD_OUT_EVERY-th in sorted order (UJI: 3, 7, ..., 59)."""
    every = HELD_OUT_EVERY[name]
    writers = sorted({p["writer"] for p in load_pens(name)})
    return {w for i, w in enumerate(writers) if i % every == every - 1}


def pen_split(name):
    """A pen set's digits as (training writers', held-out writers'): whole writers are kept out, never single
    drawings."""
    pens, held = load_pens(name), held_out_writers(name)
    return [p for p in pens if p["writer"] not in held], [p for p in pens if p["writer"] in held]


def held_out_pens():
    """Every pen set's held-out writers' digits, one set after another: what no shipped model trained on."""
    return [p for name in PEN_SETS for p in pen_split(name)[1]]


def load_hwd():
    """HwD-1000: (28x28 ink arrays in [0, 1], white ink on black as MNIST, labels); drawn dark on white."""
    with np.load(SHARED / "hwd-1000.npz") as data:
        return 255 - data["x"], data["y"].astype(np.int64)


def load_drawings(path):
    """Return (x, y, pens) of a data set written by `python -m recognizer.commands.export`, checked: x and y join
    MNIST in training; pens ({"label", "strokes"}, from the strokes.ndjson beside it, if any) are the drawings
    that came with their ink, re-drawn in training as the pen sets' digits are."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            x, y = data["x"], data["y"]
    except (OSError, ValueError, KeyError) as error:
        raise ValueError(f"{path} is not a data set written by recognizer.commands.export ({error})") from None
    if x.dtype != np.uint8 or x.ndim != 3 or x.shape[1:] != (28, 28) or y.shape != (len(x),):
        raise ValueError(f"{path}: expected x as N x 28 x 28 uint8 and N labels, got {x.dtype} {x.shape} and {y.shape}")
    if not np.isin(y, np.arange(10)).all():
        raise ValueError(f"{path}: labels must be digits 0-9")
    ink = path.parent / "strokes.ndjson"
    lines = ink.read_text().splitlines() if ink.exists() else []
    return x, y.astype(np.int64), [drawn_pen(line, f"{ink}:{k}") for k, line in enumerate(lines, 1)]


def drawn_pen(line, where):
    """One line of the export's strokes.ndjson (Quick, Draw!'s raw layout) as a pen digit {"label", "strokes"}:
    each stroke's [xs, ys(, ts)] as [x, y] points."""
    try:
        drawing = json.loads(line)
        label, strokes = drawing["word"], list(drawing["drawing"])
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(f"{where}: not a drawing in Quick, Draw!'s raw layout ({error})") from None
    if label not in tuple("0123456789"):
        raise ValueError(f"{where}: 'word' must be a digit 0-9, not {label!r}")
    try:
        points = [np.asarray(stroke[:2], dtype=np.float64).T for stroke in strokes]
    except (ValueError, TypeError):
        points = None
    if not points or any(p.ndim != 2 or p.shape[1] != 2 or not len(p) or not np.isfinite(p).all() for p in points):
        raise ValueError(f"{where}: 'drawing' must be strokes, each two lists of as many finite numbers (xs, ys)")
    return {"label": int(label), "strokes": [p.tolist() for p in points]}
