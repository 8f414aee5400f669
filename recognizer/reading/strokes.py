"""A drawing's pieces from the strokes it was drawn with: each stroke is a piece, its ink the drawing's pixels
within reach of its pen's path, so digits that touch on the canvas still come apart where they were drawn apart.
The pieces stay in the order they were drawn: people finish one digit before they start the next, so a digit is
strokes drawn one after another."""

from dataclasses import replace

import numpy as np
from PIL import Image, ImageDraw

from recognizer.reading import segment
from recognizer.reading.preprocess import stroke_width

COVERED = 0.9  # strokes that reach less of the drawing's ink than this were not what drew it: the image alone serves
NARROW = 0.55  # strokes drawn one after another whose ink is one part no wider than this share of the height join
MAX_STROKES = 256  # more strokes than this are read from the image alone (a scribble, or shading)


def reach(points, radii, shape):
    """The pixels within each of `radii` (largest first) of a stroke's path, as (left, top, [boolean mask of that
    box for each radius]): one drawing, for each radius a thick line with a disc as wide at each point (PIL's own
    round joints are drawn in Python, a slice at a time)."""
    height, width = shape
    margin = int(np.ceil(radii[0])) + 1
    left, top = (max(int(np.floor(v)) - margin, 0) for v in points.min(axis=0))
    right = min(int(np.ceil(points[:, 0].max())) + margin + 1, width)
    bottom = min(int(np.ceil(points[:, 1].max())) + margin + 1, height)
    if right <= left or bottom <= top:
        return left, top, [np.zeros((0, 0), dtype=bool)] * len(radii)
    image = Image.new("L", (right - left, bottom - top), 0)
    draw = ImageDraw.Draw(image)
    path = [(float(x) - left, float(y) - top) for x, y in points]
    for value, radius in enumerate(radii, 1):
        pen = max(1, int(round(2 * radius)))
        if len(path) > 1:
            draw.line(path, fill=value, width=pen)
        half = (pen - 1) / 2  # PIL's ellipse spans its box's last pixels too
        for x, y in path:
            draw.ellipse((x - half, y - half, x + half, y + half), fill=value)
    drawn = np.asarray(image)
    return left, top, [drawn >= value for value in range(1, len(radii) + 1)]


def thinned(points, spacing):
    """A stroke's points less those within `spacing` of the last one kept (its ends stay): the same path within a
    fraction of the pen, drawn in a fraction of the time."""
    kept = [points[0]]
    for point in points[1:-1]:
        if abs(point[0] - kept[-1][0]) + abs(point[1] - kept[-1][1]) >= spacing:
            kept.append(point)
    return np.asarray(kept + [points[-1]] if len(points) > 1 else kept)


def pieces(ink, strokes):
    """The drawing's pieces from its strokes (arrays or lists of [x, y] or [x, y, t] points in its pixels), specks
    joined to the stroke they lie by, a stroke through two digits cut; None when the strokes do not account for the
    ink. Raises BlankDrawing, TooManyParts."""
    paths = [np.asarray(stroke, dtype=np.float64)[:, :2] for stroke in strokes or [] if len(stroke)]
    if not paths or len(paths) > MAX_STROKES:
        return None
    parts, layout = segment.components(ink)
    inked = ink > segment.FAINT
    pen = stroke_width(ink)
    paths = [thinned(path, pen / 3) for path in paths]
    # Where each stroke's ink lies (its blurred edge, and its own core)
    reaches = [reach(path, (pen / 2 + max(2.0, pen / 4), pen / 2 + 1), ink.shape) for path in paths]
    core = np.zeros(ink.shape, dtype=bool)
    for left, top, (_, own) in reaches:
        core[top : top + own.shape[0], left : left + own.shape[1]] |= own
    claimed = np.zeros(ink.shape, dtype=bool)
    found = []
    for left, top, (near, own) in reaches:
        window = (slice(top, top + near.shape[0]), slice(left, left + near.shape[1]))
        mine = (own | (near & ~core[window])) & inked[window]  # its own core, and its edge where no stroke's core is
        claimed[window] |= mine
        part = segment.piece(mine, left, top, layout)
        if part is not None:
            found.append(part)
    if claimed.sum() < COVERED * inked.sum():
        return None
    return segment.settled(together(found, parts, layout), layout, in_order=True), layout


def part_of(piece, parts):
    """Which connected part of the drawing a piece's ink lies in (-1: none)."""
    rows, cols = np.nonzero(piece.mask)
    x, y = piece.box[0] + cols[0], piece.box[1] + rows[0]
    for k, part in enumerate(parts):
        left, top, right, bottom = part.box
        if left <= x < right and top <= y < bottom and part.mask[y - top, x - left]:
            return k
    return -1


def together(found, parts, layout):
    """Strokes drawn one after the other whose ink is one connected part too narrow to be two digits, joined: one
    digit's strokes (a 4's two, a 9's loop and stem), however side by side."""
    out, last = [], None
    for piece in found:
        k = part_of(piece, parts)
        piece = replace(piece, part=k)
        narrow = k >= 0 and parts[k].hi - parts[k].lo <= NARROW * layout.height
        if out and narrow and k == last:
            out[-1] = segment.joined([out[-1], piece])
        else:
            out.append(piece)
        last = k
    return out
