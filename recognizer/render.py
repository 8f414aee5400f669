"""Draw digits the way the page sends them: dark round-capped pen strokes on a light canvas."""
import numpy as np
from PIL import Image, ImageDraw

CANVAS = 200
SUPERSAMPLE = 2


def strokes_to_ink(strokes, width, size=CANVAS):
    """Render pen strokes ([[x, y], ...] lists on a size x size canvas) to an anti-aliased ink array."""
    scale = SUPERSAMPLE
    image = Image.new("L", (size * scale, size * scale), 0)
    draw = ImageDraw.Draw(image)
    radius = width * scale / 2.0
    for stroke in strokes:
        points = [(x * scale, y * scale) for x, y in stroke]
        if len(points) > 1:
            draw.line(points, fill=255, width=max(1, int(round(width * scale))), joint="curve")
        for x, y in (points[0], points[-1]) if len(points) > 1 else points:
            draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=255)
    small = image.resize((size, size), Image.Resampling.BOX)
    return np.asarray(small, dtype=np.float32) / 255.0


def mnist_to_canvas(digit, size=CANVAS):
    """Enlarge a 28x28 MNIST digit (uint8, white on black) to a size x size canvas ink array."""
    image = Image.fromarray(np.asarray(digit, dtype=np.uint8))
    return np.asarray(image.resize((size, size), Image.Resampling.BILINEAR), dtype=np.float32) / 255.0


PAGE_PEN = CANVAS / 14          # the page's pen width (static/app.js: PEN_RATIO)
HEIGHTS = (60, 170)             # the long side of a digit as people draw it on the page, in canvas pixels


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


def pen_to_canvas(strokes, rng, width=None, size=CANVAS):
    """A pen digit's strokes drawn as a person would on the page: any size and place, at `width` (or a random pen)."""
    width = width if width is not None else PAGE_PEN * rng.choice([0.5, 1.0, 1.5])
    return strokes_to_ink(place_strokes(strokes, rng, width, size), width, size)
