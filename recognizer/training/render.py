"""Draw digits the way the page sends them: dark round-capped pen strokes on a light canvas."""

import numpy as np
from PIL import Image, ImageDraw

CANVAS = 200
SUPERSAMPLE = 2


def strokes_to_ink(strokes, width, size=CANVAS, across=None):
    """Render pen strokes ([[x, y], ...] lists on a size x size canvas, or `across` x size) to an anti-aliased
    ink array."""
    scale = SUPERSAMPLE
    across = across or size
    image = Image.new("L", (across * scale, size * scale), 0)
    draw = ImageDraw.Draw(image)
    radius = width * scale / 2.0
    for stroke in strokes:
        points = [(x * scale, y * scale) for x, y in stroke]
        if len(points) > 1:
            draw.line(points, fill=255, width=max(1, int(round(width * scale))), joint="curve")
        for x, y in (points[0], points[-1]) if len(points) > 1 else points:
            draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=255)
    small = image.resize((across, size), Image.Resampling.BOX)
    return np.asarray(small, dtype=np.float32) / 255.0


def mnist_to_canvas(digit, size=CANVAS):
    """Enlarge a 28x28 MNIST digit (uint8, white on black) to a size x size canvas ink array."""
    image = Image.fromarray(np.asarray(digit, dtype=np.uint8))
    return np.asarray(image.resize((size, size), Image.Resampling.BILINEAR), dtype=np.float32) / 255.0


PAGE_PEN = CANVAS / 14  # the page's pen width (static/js/ink.js: PEN_RATIO)
PENS = (0.5, 1.0, 1.5)  # pens people draw with, as shares of the page's: a thin one, the page's, a thick one
HEIGHTS = (60, 170)  # the long side of a digit as people draw it on the page, in canvas pixels


def place_strokes(strokes, rng, width, size=CANVAS, heights=HEIGHTS):
    """Scale strokes (in any units) so their box's long side is 60-170 px, and put them anywhere on the canvas."""
    points = [np.asarray(stroke, dtype=np.float64).reshape(-1, 2) for stroke in strokes if len(stroke)]
    every = np.concatenate(points)
    lo, hi = every.min(axis=0), every.max(axis=0)
    scale = rng.uniform(*heights) / max(float((hi - lo).max()), 1e-6)
    extent = (hi - lo) * scale
    margin = width / 2 + 1
    offset = np.array([rng.uniform(margin, max(margin, size - margin - e)) for e in extent])
    return [((p - lo) * scale + offset).tolist() for p in points]


def pen_to_canvas(strokes, rng, width=None, size=CANVAS, heights=HEIGHTS):
    """A pen digit's strokes drawn as a person would on the page: `heights` tall, anywhere, at `width` (or a random
    pen)."""
    width = width if width is not None else PAGE_PEN * rng.choice(PENS)
    return strokes_to_ink(place_strokes(strokes, rng, width, size, heights), width, size)


def scaled(strokes, height):
    """Strokes (in any units) scaled so their box is `height` tall, with its top-left corner at the origin."""
    points = [np.asarray(stroke, dtype=np.float64).reshape(-1, 2) for stroke in strokes if len(stroke)]
    every = np.concatenate(points)
    lo, hi = every.min(axis=0), every.max(axis=0)
    scale = height / max(float(hi[1] - lo[1]), 1e-6)
    return [(p - lo) * scale for p in points], (hi - lo) * scale


WIDE_PAD = (840, 280)  # the page's pad in number mode (static/js/main.js: WIDE_ASPECT x EXPORT_HEIGHT)


def compose_number(digit_strokes, rng, gaps=(0.1, 0.6), heights=(0.4, 0.7), wave=0.06, pad=WIDE_PAD):
    """Write pen digits side by side as a person writes a number on the page's wide pad, with its pen.

    The number is `heights` of the pad tall; each digit's height varies by up to 15% around that, its baseline
    wanders by `wave` of it, and the blank between two digits' ink is `gaps` of it (below 0: the digits overlap
    and may touch; one range, or one per neighbouring pair). A number too long for the pad is written smaller.
    Returns (each digit's strokes on the pad, the pen width, each digit's ink box (left, top, right, bottom)).
    """
    across, tall = pad
    pen = tall / 14
    height = rng.uniform(*heights) * tall
    laid, x = [], pen
    blanks = gaps if np.ndim(gaps) == 2 else [gaps] * len(digit_strokes)
    for strokes, blank in zip(digit_strokes, list(blanks) + [(0, 0)]):
        points, size = scaled(strokes, height * rng.uniform(0.85, 1.15))
        bottom = tall / 2 + height / 2 + rng.uniform(-wave, wave) * height
        top = bottom - size[1] - pen
        laid.append(([p + (x + pen / 2, top + pen / 2) for p in points], (x, top, x + size[0] + pen, bottom)))
        x += size[0] + pen + rng.uniform(*blank) * height
    shrink = min(1.0, (across - 2 * pen) / (laid[-1][1][2] - pen))
    centre = np.array([pen, tall / 2])
    digits = [[((p - centre) * shrink + centre).tolist() for p in points] for points, _ in laid]
    boxes = [
        (
            pen + (left - pen) * shrink,
            tall / 2 + (top - tall / 2) * shrink,
            pen + (right - pen) * shrink,
            tall / 2 + (bottom - tall / 2) * shrink,
        )
        for _, (left, top, right, bottom) in laid
    ]
    return digits, pen * shrink, boxes


def punctuated(digits, boxes, pen, after, mark, length=0.2, at=0.5):
    """A number's strokes with a point, a comma or a hyphen written after digit `after`, `at` of the way across the
    blank to the next digit, as a decimal point, a thousands comma or a telephone number's hyphen is (`digits`,
    `boxes` and `pen` as compose_number gives them). A comma starts at the digits' foot and curls down and to the
    left, a hyphen lies level halfway up; each is `length` of the digit's height long."""
    _, top, right, bottom = boxes[after]
    x, y, tall = right + at * (boxes[after + 1][0] - right), bottom - pen / 2, length * (bottom - top)
    middle = (top + bottom) / 2
    comma = [[x + 0.15 * tall, y - 0.2 * tall], [x + 0.1 * tall, y + 0.3 * tall], [x - 0.25 * tall, y + 0.8 * tall]]
    stroke = {"point": [[x, y]], "comma": comma, "hyphen": [[x - tall / 2, middle], [x + tall / 2, middle]]}[mark]
    return [s for digit in digits[: after + 1] for s in digit] + [stroke] + [s for d in digits[after + 1 :] for s in d]


def added_later(digits, rng, share=0.5):
    """A number's strokes as written by someone who adds a digit's last stroke (a 5's hat, a 7's bar, a 4's stem)
    only after the rest of the number: each digit of several strokes but the last, with chance `share`."""
    now, later = [], []
    for k, digit in enumerate(digits):
        late = len(digit) > 1 and k < len(digits) - 1 and rng.random() < share
        now += digit[:-1] if late else digit
        later += digit[-1:] if late else []
    return now + later
