"""Synthetic canvas drawings: MNIST digits re-drawn as mouse strokes along their skeletons, and non-digits."""

import numpy as np
from PIL import Image, ImageDraw
from scipy import ndimage
from skimage.morphology import skeletonize

from recognizer.training.render import CANVAS, HEIGHTS, place_strokes, strokes_to_ink

NEIGHBOURS = ((0, 1), (1, 0), (1, 1), (1, -1))
SPARSE_POINTS = (5, 13)  # a sparsely recorded stroke's points: 5 to 12, as a slow tablet or a fast hand leaves them
# Pen digits are re-drawn from smaller than people draw them on the page, so that a thick pen on a small digit
# (its loops filling in) is seen in training too.
PEN_HEIGHTS = (40, HEIGHTS[1])


def skeleton_segments(digit):
    """Line segments (y0, x0, y1, x1) joining neighbouring pixels of a 28x28 digit's skeleton."""
    skeleton = skeletonize(digit > 0.35 * digit.max())
    segments = []
    for y, x in np.argwhere(skeleton):
        for dy, dx in NEIGHBOURS:
            ny, nx = y + dy, x + dx
            if 0 <= ny < 28 and 0 <= nx < 28 and skeleton[ny, nx]:
                segments.append((y, x, ny, nx))
    points = np.argwhere(skeleton)
    isolated = [(y, x, y, x) for y, x in points] if not segments else []
    return np.array(segments + isolated, dtype=np.float32).reshape(-1, 4)


def draw_segments(segments, width, size=CANVAS):
    """Draw segments ([y0, x0, y1, x1] in canvas pixels) with a round pen, anti-aliased, as ink."""
    scale = 2
    image = Image.new("L", (size * scale, size * scale), 0)
    draw = ImageDraw.Draw(image)
    r = width * scale / 2
    for y0, x0, y1, x1 in segments * scale:
        draw.line((x0, y0, x1, y1), fill=255, width=max(1, int(round(width * scale))))
        draw.ellipse((x1 - r, y1 - r, x1 + r, y1 + r), fill=255)
        draw.ellipse((x0 - r, y0 - r, x0 + r, y0 + r), fill=255)
    return np.asarray(image.resize((size, size), Image.Resampling.BOX), dtype=np.float32) / 255.0


def _smooth_warp(points, rng, amount):
    """Wobble points with a smooth random displacement, like an unsteady hand."""
    field = ndimage.gaussian_filter(rng.normal(0, 1, (2, 8, 8)), (0, 1.5, 1.5)) * amount
    grid = np.clip(points / 28.0 * 7, 0, 7)
    dy = ndimage.map_coordinates(field[0], grid.T, order=1)
    dx = ndimage.map_coordinates(field[1], grid.T, order=1)
    return points + np.stack([dy, dx], axis=1)


def stray_mark(points, width, rng, size=CANVAS, tries=10):
    """A short stroke or dot near the digit's points but clear of them, as a slipped mouse or a stray click leaves."""
    lo, hi = points.min(axis=0), points.max(axis=0)
    extent = max(hi - lo)
    reach = 0.35 * extent
    for _ in range(tries):
        start = rng.uniform(np.maximum(lo - reach, width), np.minimum(hi + reach, size - width))
        angle = rng.uniform(0, 2 * np.pi)
        end = np.clip(
            start + rng.uniform(0, 0.2) * extent * np.array([np.sin(angle), np.cos(angle)]), width, size - width
        )
        along = start + np.linspace(0, 1, 6)[:, None] * (end - start)
        gap = np.sqrt(((along[:, None, :] - points[None, :, :]) ** 2).sum(-1)).min()
        if gap > 1.5 * width:
            return np.concatenate([start, end])[None, :]
    return np.zeros((0, 4), dtype=np.float32)


def pen_drawing(digit, rng, size=CANVAS, stray=0.0):
    """Re-draw a 28x28 digit as a canvas drawing: its skeleton, warped, placed and drawn with a random pen.

    With chance `stray` a stray mark is added, detached from the digit (for training: the label stays the digit's).
    """
    segments = skeleton_segments(digit)
    points = segments.reshape(-1, 2)
    points = _smooth_warp(points, rng, amount=rng.uniform(0.0, 2.5))
    angle = np.deg2rad(rng.uniform(-12, 12))
    shear = rng.uniform(-0.3, 0.3)
    matrix = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]]) @ np.array(
        [[1, 0], [shear, 1]]
    )
    points = (points - 14.0) @ matrix.T
    height = rng.uniform(0.3, 0.85) * size
    extent = max(np.ptp(points[:, 0]), 1.0)
    points = points * (height / extent) * np.array([1.0, rng.uniform(0.8, 1.2)])
    lo, hi = points.min(axis=0), points.max(axis=0)
    width = rng.choice([4, 6, 8, 10, 12, 14, 16, 20]) * rng.uniform(0.8, 1.2)
    margin = width
    offset = [rng.uniform(margin - lo[k], max(margin - lo[k], size - margin - hi[k])) for k in range(2)]
    placed = points + offset
    segments = placed.reshape(-1, 4)
    if stray and rng.random() < stray:
        segments = np.concatenate([segments, stray_mark(placed, width, rng, size)])
    return draw_segments(segments, width, size)


NON_DIGITS = ("scribble", "line", "blob", "dots")


def non_digit(rng, kind=None, size=CANVAS):
    """A drawing that is no digit: a scribble, a horizontal-ish line, a filled blob, or a spray of dots."""
    kind = kind or NON_DIGITS[rng.integers(len(NON_DIGITS))]
    width = rng.uniform(4, 16)
    if kind == "scribble":  # a long random zig-zag
        points = np.cumsum(rng.normal(0, size * 0.15, (rng.integers(12, 30), 2)), axis=0)
        points = (points - points.min(0)) / max(np.ptp(points), 1) * size * 0.7 + size * 0.15
        segments = np.concatenate([points[:-1], points[1:]], axis=1)
    elif kind == "line":  # a single straight line, not upright (an upright one is a 1)
        angle = np.deg2rad(rng.uniform(-50, 50) + rng.choice([0, 180]))
        length = rng.uniform(0.3, 0.8) * size / 2
        c = np.array([size / 2, size / 2]) + rng.uniform(-30, 30, 2)
        d = np.array([np.sin(angle), np.cos(angle)]) * length
        segments = np.array([[*(c - d), *(c + d)]])
    elif kind == "blob":  # a filled blob
        c = rng.uniform(0.3, 0.7, 2) * size
        radius = rng.uniform(0.15, 0.35) * size
        t = np.linspace(0, 2 * np.pi, 40)
        ring = np.stack([c[0] + radius * np.sin(t), c[1] + radius * np.cos(t)], axis=1)
        inner = [ring * f + c * (1 - f) for f in np.linspace(0, 1, 12)]
        points = np.concatenate(inner)
        segments = np.concatenate([points[:-1], points[1:]], axis=1)
        width = radius / 3
    else:  # dots spread over the canvas
        points = rng.uniform(0.1, 0.9, (rng.integers(5, 15), 2)) * size
        segments = np.concatenate([points, points], axis=1)
    return draw_segments(segments.astype(np.float32), width, size)


def _along(stroke, step=0.02, count=None):
    """Points evenly along a polyline: every `step` (so a smooth warp bends its straight runs too), or `count` of
    them (a pen that records few points: a slow tablet, a fast hand)."""
    if len(stroke) < 2:
        return stroke
    lengths = np.sqrt((np.diff(stroke, axis=0) ** 2).sum(axis=1))
    along = np.concatenate([[0.0], np.cumsum(lengths)])
    if along[-1] == 0:
        return stroke[:1]
    at = np.linspace(0, along[-1], count or max(2, int(along[-1] / step) + 1))
    return np.stack([np.interp(at, along, stroke[:, k]) for k in range(2)], axis=1)


def recorded_with(strokes, count):
    """Strokes as a pen that records `count` points of each leaves them: evenly along each (a slow tablet, a fast
    hand)."""
    return [_along(np.asarray(s, dtype=np.float64).reshape(-1, 2), count=count).tolist() for s in strokes if len(s)]


def varied_strokes(strokes, rng, turn=12, shear=0.3, stretch=0.2, wobble=0.04, sparse=0.0):
    """A pen digit's strokes ([x, y] points, any units) as another hand might draw them: turned, sheared,
    stretched and smoothly wobbled, and (a `sparse` share of the time) recorded with SPARSE_POINTS points a stroke;
    returned with their box's long side 1, centred on 0."""
    points = [np.asarray(s, dtype=np.float64).reshape(-1, 2) for s in strokes if len(s)]
    every = np.concatenate(points)
    lo, hi = every.min(axis=0), every.max(axis=0)
    span = max(float((hi - lo).max()), 1e-6)
    points = [(p - (lo + hi) / 2) / span for p in points]
    if sparse and rng.random() < sparse:
        count = int(rng.integers(*SPARSE_POINTS))
        points = [_along(p, count=count) for p in points]
    points = [_along(p) for p in points]
    angle = np.deg2rad(rng.uniform(-turn, turn))
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    matrix = (
        rotation
        @ np.array([[1.0, rng.uniform(-shear, shear)], [0.0, 1.0]])
        @ np.diag([1.0 + rng.uniform(-stretch, stretch), 1.0])
    )
    field = ndimage.gaussian_filter(rng.normal(0, 1, (2, 6, 6)), (0, 1.2, 1.2)) * rng.uniform(0, wobble) * 6
    out = []
    for p in points:
        grid = np.clip((p + 0.6) / 1.2 * 5, 0, 5).T[::-1]  # (row, col) = (y, x) on the field
        shift = np.stack([ndimage.map_coordinates(field[k], grid, order=1) for k in range(2)], axis=1)
        out.append((p + shift) @ matrix.T)
    return out


def pen_digit(strokes, rng, sparse=0.0):
    """A pen digit re-drawn as a page drawing: varied strokes at any size and place, with a random pen."""
    width = rng.choice([5, 7, 9, 11, 14, 14, 17, 20]) * rng.uniform(0.85, 1.15)
    placed = place_strokes(varied_strokes(strokes, rng, sparse=sparse), rng, width, heights=PEN_HEIGHTS)
    return strokes_to_ink(placed, width)
