"""Build the 28x28 training and evaluation sets: every drawing goes through the server's preprocessing.

Training images are rendered once, before training, by seeded chunks spread over the cores, so a run
repeats exactly. The distorted copies are distorted after preprocessing, so they may lean a little where
served drawings do not; preprocessing them again gained the CNN nothing (docs/experiments.md).
"""

import os
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from recognizer.reading.preprocess import to_mnist
from recognizer.training import data, styles, synth
from recognizer.training.distort import distort
from recognizer.training.render import HEIGHTS, mnist_to_canvas, pen_to_canvas, strokes_to_ink

UNIFORM = np.full(10, 0.1, dtype=np.float32)
STRAY = 0.1  # share of training pen drawings given a stray mark: people's canvases have slips and clicks


def _pen_chunk(args):
    digits, seed, stray = args
    rng = np.random.default_rng(seed)
    return np.stack([to_mnist(synth.pen_drawing(d / 255.0, rng, stray=stray)) for d in digits])


def _canvas_chunk(digits):
    return np.stack([to_mnist(mnist_to_canvas(d)) for d in digits])


def _non_digit_chunk(args):
    count, seed, kind = args
    rng = np.random.default_rng(seed)
    return np.stack([to_mnist(synth.non_digit(rng, kind)) for _ in range(count)])


def _real_pen_chunk(args):
    strokes, seed, sparse = args
    rng = np.random.default_rng(seed)
    return np.stack([to_mnist(synth.pen_digit(s, rng, sparse)) for s in strokes])


def _style_chunk(args):
    labels, seed = args
    rng = np.random.default_rng(seed)
    return np.stack([to_mnist(synth.pen_digit(styles.style_digit(label, rng), rng)) for label in labels])


def _pen_set_chunk(args):
    pens, seed, width, heights = args
    rng = np.random.default_rng(seed)
    return np.stack([to_mnist(pen_to_canvas(p["strokes"], rng, width, heights=heights)) for p in pens])


def _parallel(function, chunks):
    if not chunks:
        return np.zeros((0, 28, 28), dtype=np.float32)
    workers = min(len(chunks), os.cpu_count() or 1)
    with ProcessPoolExecutor(workers) as pool:
        return np.concatenate(list(pool.map(function, chunks)))


def pen_drawings(digits, seed, chunk=500, stray=0.0):
    """Each MNIST digit re-drawn as a canvas pen drawing, preprocessed; `stray` of them with a stray mark."""
    return _parallel(
        _pen_chunk, [(digits[i : i + chunk], seed * 100_003 + i, stray) for i in range(0, len(digits), chunk)]
    )


def canvas_renderings(digits, chunk=500):
    """Each MNIST digit enlarged to a 200x200 canvas and preprocessed back, as a scanned digit would arrive."""
    return _parallel(_canvas_chunk, [digits[i : i + chunk] for i in range(0, len(digits), chunk)])


def non_digits(count, seed, kind=None, chunk=500):
    """Scribbles, lines, blobs and dots (or one `kind`), preprocessed; trained towards a uniform guess."""
    return _parallel(_non_digit_chunk, [(min(chunk, count - i), seed * 7919 + i, kind) for i in range(0, count, chunk)])


def real_pen_drawings(pens, copies, seed, sparse=0.0, chunk=500):
    """`copies` re-drawings of each real pen digit (varied strokes, any size, place and pen; `sparse` of them
    recorded with few points a stroke), preprocessed."""
    strokes = [p["strokes"] for p in pens] * copies
    return _parallel(
        _real_pen_chunk, [(strokes[i : i + chunk], seed * 50_021 + i, sparse) for i in range(0, len(strokes), chunk)]
    )


def style_drawings(per_style, seed, chunk=500):
    """(images, labels): `per_style` drawings of each generated style (styles.STYLES), preprocessed."""
    labels = np.repeat(sorted(styles.STYLES), per_style)
    images = _parallel(_style_chunk, [(labels[i : i + chunk], seed * 30_011 + i) for i in range(0, len(labels), chunk)])
    return images, labels


def pen_set(pens, seed, width=None, heights=HEIGHTS, chunk=250):
    """Real pen digits as the page would send them (`heights` tall, anywhere, a random pen or `width`), preprocessed."""
    return _parallel(
        _pen_set_chunk, [(pens[i : i + chunk], seed * 1009 + i, width, heights) for i in range(0, len(pens), chunk)]
    )


def training_set(
    digits, labels, pens, distorted_copies, pen_copies, per_style, non_digit_count=None, seed=0, sparse=0.0
):
    """Return (images, soft targets): the MNIST-form `digits` as canvas renderings, distorted copies and pen
    re-drawings; real pen digits, each of `pens`' (digits, copies) pairs re-drawn `copies` times (`sparse` of
    them with few points a stroke); generated styles; non-digits."""
    rng = np.random.default_rng(seed)
    non_digit_count = len(digits) // 4 if non_digit_count is None else non_digit_count
    canvas = canvas_renderings(digits)
    parts = [canvas] + [distort(canvas, rng) for _ in range(distorted_copies)]
    parts += [pen_drawings(digits, seed + 1 + k, stray=STRAY) for k in range(pen_copies)]
    all_labels = [np.tile(labels, 1 + distorted_copies + pen_copies)]
    for k, (real, copies) in enumerate(pens):
        if len(real) and copies:
            parts.append(real_pen_drawings(list(real), copies, seed + 51 + 1000 * k, sparse))
            all_labels.append(np.tile([p["label"] for p in real], copies))
    if per_style:
        styled, styled_labels = style_drawings(per_style, seed + 61)
        parts.append(styled)
        all_labels.append(styled_labels)
    images = np.concatenate(parts + [non_digits(non_digit_count, seed + 99)])
    one_hot = np.eye(10, dtype=np.float32)[np.concatenate(all_labels).astype(np.int64)]
    targets = np.concatenate([one_hot, np.tile(UNIFORM, (non_digit_count, 1))])
    return images.astype(np.float32), targets


def held_out_sets(seed=12345):
    """Named (images, labels, writers) of each pen set's held-out writers, drawn as the page would send them."""
    sets = {}
    for k, name in enumerate(data.PEN_SETS):
        _, held = data.pen_split(name)
        sets[f"{name} held-out writers"] = (
            pen_set(held, seed + 7 * k),
            np.array([p["label"] for p in held]),
            [f"{name}:{p['writer']}" for p in held],
        )
    return sets


def evaluation_sets(seed=12345):
    """Named (images, labels) sets, none trained on: real writers' pens, HwD-1000, MNIST test, the dev strokes."""
    _, _, x_test, y_test = data.load_mnist()
    bridger = data.load_pens("bridger")
    hwd, hwd_labels = data.load_hwd()
    strokes = data.load_strokes()
    dev = np.stack([to_mnist(strokes_to_ink(s["strokes"], s["width"])) for s in strokes])
    return {
        **{name: (images, labels) for name, (images, labels, _) in held_out_sets(seed).items()},
        "bridger (iPad)": (pen_set(bridger, seed + 1), np.array([p["label"] for p in bridger])),
        "hwd-1000": (canvas_renderings(hwd), hwd_labels),
        "mnist test canvas": (canvas_renderings(x_test), y_test),
        "dev-strokes-300": (dev, np.array([s["label"] for s in strokes])),
    }
