"""A drawing's pieces from the strokes it was drawn with: each stroke is a piece, its ink the drawing's pixels
within reach of its pen's path, so digits that touch on the canvas still come apart where they were drawn apart.
The pieces stay in the order they were drawn: people mostly finish one digit before they start the next, so a digit
is strokes drawn one after another; a stroke added to an earlier digit afterwards (a 5's hat, a 7's bar, a 4's
stem, once the next digit is written) goes back beside it."""

from dataclasses import replace

import numpy as np
from PIL import Image, ImageDraw

from recognizer.reading import segment
from recognizer.reading.preprocess import stroke_width

COVERED = 0.9  # strokes that reach less of the drawing's ink than this were not what drew it: the image alone serves
NARROW = 0.55  # strokes drawn one after another whose ink is one part no wider than this share of the height join
MAX_STROKES = 255  # more strokes than this are read from the image alone (a scribble, or shading); each has a byte


def owners(paths, radii, shape):
    """Which stroke (1, 2, ...; 0: none) each pixel of the drawing lies within reach of: every stroke drawn as a
    thick line with a disc as wide at each point, at each of `radii` in turn (largest first), so that a stroke's
    core takes the pixels of another's blurred edge, and where two strokes meet the later one has them. Drawn in
    bytes (at most MAX_STROKES strokes): PIL hands an 8-bit image to numpy seventy times faster than a 32-bit one."""
    image = Image.new("L", (shape[1], shape[0]), 0)
    draw = ImageDraw.Draw(image)
    paths = [[tuple(point) for point in path.tolist()] for path in paths]
    for radius in radii:
        pen = max(1, int(round(2 * radius)))
        half = (pen - 1) / 2  # PIL's ellipse spans its box's last pixels too
        for k, points in enumerate(paths, 1):
            if len(points) > 1:
                draw.line(points, fill=k, width=pen)
            for x, y in points:
                draw.ellipse((x - half, y - half, x + half, y + half), fill=k)
    return np.asarray(image)


def thinned(points, spacing):
    """A stroke's points less those within `spacing` of the last one kept (its ends stay): the same path within a
    fraction of the pen, drawn in a fraction of the time."""
    listed = points.tolist()  # a list's numbers are read many times faster than an array's
    kept = [listed[0]]
    for point in listed[1:-1]:
        if abs(point[0] - kept[-1][0]) + abs(point[1] - kept[-1][1]) >= spacing:
            kept.append(point)
    return np.asarray(kept + [listed[-1]] if len(listed) > 1 else kept)


def pieces(ink, strokes):
    """The drawing's pieces from its strokes (arrays or lists of [x, y] or [x, y, t] points in its pixels), specks
    joined to the stroke they lie by, a stroke through two digits cut; None when the strokes do not account for the
    ink. Raises BlankDrawing, TooManyParts."""
    paths = [np.asarray(stroke, dtype=np.float64)[:, :2] for stroke in strokes or [] if len(stroke)]
    if not paths or len(paths) > MAX_STROKES:
        return None
    parts, layout = segment.components(ink)
    if one_digit(parts, layout, len(paths)):
        return parts, layout
    left, top, right, bottom = segment.union([part.box for part in parts])
    box = ink[top:bottom, left:right]  # all the ink: each stroke's pixels are found within it
    inked = box > segment.FAINT
    pen = stroke_width(box)
    paths = [thinned(path, pen / 3) for path in paths]
    owner = owners(paths, (pen / 2 + max(2.0, pen / 4), pen / 2 + 1), ink.shape)  # its blurred edge, its core
    labels = np.where(inked, owner[top:bottom, left:right], 0)  # stroke k's pixels are k + 1
    found_runs = segment.runs(labels)
    _, start, end, _ = found_runs
    if (end - start).sum() < COVERED * np.count_nonzero(inked):
        return None
    found = segment.labelled(found_runs, labels, (left, top), len(paths), layout)
    found = reattached([p for p in found if p is not None])
    return segment.settled(together(found, parts, layout), layout, in_order=True), layout


def reattached(found):
    """Pieces in drawing order, each stroke drawn later for an earlier digit moved back beside it: people write
    left to right, and a stroke is an earlier digit's when it shares at least SHARED of its columns along the
    slant with one of that digit's strokes and less with everything drawn since, or when the pen went back
    past the stroke drawn just before it (it goes after the last stroke whose middle lies before its own)."""
    los, his = np.array([p.lo for p in found]), np.array([p.hi for p in found])
    shared = segment.shared_columns(los, his)
    shared[np.triu_indices(len(found))] = -np.inf  # with the strokes drawn before it
    best, most = shared.argmax(axis=1).tolist(), shared.max(axis=1, initial=-np.inf).tolist()
    los, his = los.tolist(), his.tolist()  # (a list's numbers are read many times faster than an array's)
    order = []  # which pieces, in their new order
    for i, (lo, hi) in enumerate(zip(los, his)):
        at, enough = len(order), segment.SHARED * (hi - lo)
        if order and best[i] != order[-1] and most[i] >= enough:
            after = order.index(best[i]) + 1  # just after the stroke it shares most with ...
            since = order[after:]  # ... unless what was drawn since shares as much
            if segment.sharing(min(los[j] for j in since), max(his[j] for j in since), found[i])[0] < enough:
                at = after
        if at == len(order) and order and hi <= los[order[-1]]:
            at = max((n + 1 for n, j in enumerate(order) if los[j] + his[j] < lo + hi), default=0)
        order.insert(at, i)
    return [found[i] for i in order]


def one_digit(parts, layout, stroke_count):
    """Whether a drawing is one piece whatever ink each of its strokes has, so finding that can be skipped: one
    connected part drawn with one stroke that is not cut (nor would the image alone cut it), or narrow enough that
    `together` joins all its strokes."""
    if len(parts) != 1:
        return False
    return parts[0].hi - parts[0].lo <= (segment.WIDE if stroke_count == 1 else NARROW) * layout.height


def part_of(piece, parts):
    """Which connected part of the drawing a piece's ink lies in (-1: none)."""
    row, col = divmod(int(np.argmax(piece.mask)), piece.mask.shape[1])  # its first pixel
    x, y = piece.box[0] + col, piece.box[1] + row
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
