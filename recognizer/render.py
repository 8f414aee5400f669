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
