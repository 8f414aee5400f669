"""What the `strokes` field costs a request: parsing and checking it against doing the same for the request's image,
and what it adds to a stored drawing. `python bench/strokes.py [--repeat N]`

Drawings: a dev digit on the page's square pad, a four-digit number on its wide pad (dev digits, composed as the
page's pad lays them), and the most the contract takes (200 strokes, 20,000 points) on the wide pad; every point
[x, y, t] to 2 decimals, as the page sends them.
"""

import argparse
import json
import statistics
import time
from functools import partial

import numpy as np

from common import table  # (importing common puts the repository on sys.path)
from recognizer.reading.images import decode_data_url, ink_png, to_png_data_url
from recognizer.state.drawings import kept_strokes
from recognizer.training import data, render
from web import requests as body_reader


def as_sent(strokes):
    """Strokes as the page sends them: [x, y, t] to 2 decimals, t in whole ms, 8 ms a point."""
    clock = iter(range(0, 10**7, 8))
    return [[[round(x, 2), round(y, 2), next(clock)] for x, y in stroke] for stroke in strokes]


def drawings():
    """(name, ink, strokes as sent) for each drawing measured."""
    samples = data.load_strokes()
    digit = samples[0]
    rng = np.random.default_rng(0)
    laid, pen, _ = render.compose_number([s["strokes"] for s in samples[1:5]], rng)
    number = [stroke for strokes in laid for stroke in strokes]
    across, tall = render.WIDE_PAD
    most = [
        [[20 + (k * 4 + j * 7) % (across - 40), 20 + (j * 13 + k * 3) % (tall - 40)] for j in range(100)]
        for k in range(200)
    ]
    return [
        ("a digit (square pad)", render.strokes_to_ink(digit["strokes"], digit["width"]), as_sent(digit["strokes"])),
        ("a 4-digit number (wide pad)", render.strokes_to_ink(number, pen, tall, across), as_sent(number)),
        ("200 strokes, 20,000 points", render.strokes_to_ink(most, pen, tall, across), as_sent(most)),
    ]


def read_image(text):
    """The image field as the server reads it: JSON, then the data URL decoded and checked."""
    return decode_data_url(json.loads(text))


def read_strokes(text, ink):
    """The strokes field as the server reads it: JSON, then checked and made arrays."""
    return body_reader.strokes({"strokes": json.loads(text)}, ink)


def milliseconds(work, repeat):
    """The median time of `work()` over `repeat` runs, in ms."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30, help="runs per measurement (the median is shown)")
    args = parser.parse_args()
    rows = []
    for name, ink, strokes in drawings():
        image_text, strokes_text = json.dumps(to_png_data_url(ink)), json.dumps(strokes)
        image = milliseconds(partial(read_image, image_text), args.repeat)
        parsed = milliseconds(partial(read_strokes, strokes_text, ink), args.repeat)
        kept = len(json.dumps(kept_strokes(read_strokes(strokes_text, ink))))
        rows.append(
            [
                name,
                f"{sum(map(len, strokes)):,}",
                f"{image:.2f}",
                f"{parsed:.2f}",
                f"{parsed / image:.2f}x",
                f"{len(strokes_text) / 1024:.1f}",
                f"{kept / 1024:.1f}",
                f"{len(ink_png(ink)) / 1024:.1f}",
            ]
        )
    table(
        [
            "drawing",
            "points",
            "image: JSON + decode (ms)",
            "strokes: JSON + check (ms)",
            "strokes / image",
            "strokes sent (KiB)",
            "strokes kept in .json (KiB)",
            "stored PNG (KiB)",
        ],
        rows,
    )


if __name__ == "__main__":
    main()
