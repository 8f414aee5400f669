"""Find the digits of a drawn number, left to right: connected strokes, grouped where they are parts of one digit.

A digit is one connected stroke or several (a 4's two strokes, a 5's floating hat, a 7's bar) whose columns
overlap once the writing's slant is taken out. A speck (a dot, a slip of the pen) belongs to the digit whose box it
lies in, and is left out anywhere else. Digits that touch make one part; `splits` offers the cuts that may part
such a pair, for the models to judge.
"""

from dataclasses import dataclass

import numpy as np

from recognizer.reading import preprocess
from recognizer.reading.preprocess import MAX_SLANT, BlankDrawing, ink_box

FAINT = 0.05  # a pixel with more ink than this is part of its stroke (its anti-aliased edge too)
SPECK = 0.25  # a part whose longest side is under this share of the drawing's height is a speck
OVERLAP = 0.4  # parts whose columns overlap by this share of the narrower one are strokes of one digit ...
CLOSE = 0.05  # ... and so are parts closer than this share of the drawing's height (a 4's two strokes),
SMALL = 0.4  # ... and a part under this share of it whose box meets a bigger one's (a 7's hook)
NEAR = 0.15  # a speck this close to a digit's box (as a share of the drawing's height) is part of it
MAX_DIGITS = 32  # more separate parts than this is not a number but a scatter (and would cost quadratic time)
WIDE = 0.9  # a part wider than this share of its height may be two digits that touch ...
CUTS = 3  # ... cut along the writing's slant at the columns of least ink in its middle half, this many
MATCH = 0.9  # a box sent to /train names the digit whose box it covers this well (intersection over union)


class TooManyParts(ValueError):
    """The drawing falls apart into more pieces than any number has digits."""


@dataclass(frozen=True)
class Digit:
    """One digit of a drawing: its box (left, top, right, bottom; right and bottom exclusive) and its ink alone."""

    box: tuple
    ink: np.ndarray


def runs(mask):
    """The horizontal runs of a boolean image: (row, start, end) arrays, end exclusive, in reading order."""
    height, width = mask.shape
    padded = np.zeros((height, width + 2), dtype=np.int8)
    padded[:, 1:-1] = mask
    steps = np.diff(padded.ravel())  # a row's padding keeps its runs from joining the next row's
    starts, ends = np.flatnonzero(steps == 1) + 1, np.flatnonzero(steps == -1) + 1
    row = starts // (width + 2)
    return row, starts - row * (width + 2) - 1, ends - row * (width + 2) - 1


def connected(row, start, end, width):
    """Label 8-connected runs: runs in neighbouring rows whose columns touch get one label (0, 1, ...)."""
    n = len(row)
    stride = width + 2
    starts, ends = row * stride + start, row * stride + end  # both sorted: the runs come in reading order
    above = (row - 1) * stride
    lo = np.searchsorted(ends, above + start, "left")  # runs of the row above that end at or after start
    hi = np.searchsorted(starts, above + end, "right")  # ... and start at or before end
    counts = np.maximum(hi - lo, 0)
    a = np.repeat(np.arange(n), counts)
    b = np.repeat(lo - np.cumsum(counts) + counts, counts) + np.arange(counts.sum())
    parent = np.arange(n)
    while True:  # hook each pair's roots to the smaller, compress
        ra, rb = parent[a], parent[b]
        if np.array_equal(ra, rb):
            return np.unique(parent, return_inverse=True)[1]
        low = np.minimum(ra, rb)
        np.minimum.at(parent, ra, low)
        np.minimum.at(parent, rb, low)
        while not np.array_equal(parent[parent], parent):
            parent = parent[parent]


def lean(row, start, end, label):
    """The writing's slant (columns per row), pooled over the parts' own second moments as deslanting measures it."""
    length = (end - start).astype(np.float64)
    x_sum = (start + end - 1) * length / 2.0
    count = label.max() + 1
    n = np.bincount(label, length, count)
    sy, sx = np.bincount(label, row * length, count), np.bincount(label, x_sum, count)
    syy, sxy = np.bincount(label, row * row * length, count), np.bincount(label, row * x_sum, count)
    var_y, cov = (syy - sy * sy / n).sum(), (sxy - sx * sy / n).sum()
    return float(np.clip(cov / var_y, -MAX_SLANT, MAX_SLANT)) if var_y > 0 else 0.0


def extent(values, label, count, reduce, initial):
    """Per-label minimum or maximum of per-run values."""
    out = np.full(count, initial, dtype=np.float64)
    reduce.at(out, label, values)
    return out


def grouped(left, right, members, close):
    """Union parts whose column ranges overlap enough, or that `close(i, j)` says nearly meet; return each part's
    group (0, 1, ...) in left-to-right order."""
    group = {i: i for i in members}

    def root(i):
        while group[i] != i:
            i = group[i]
        return i

    for x, i in enumerate(members):
        for j in members[x + 1 :]:
            overlap = min(right[i], right[j]) - max(left[i], left[j])
            if overlap >= OVERLAP * min(right[i] - left[i], right[j] - left[j]) or close(i, j):
                group[root(j)] = root(i)
    roots = {i: root(i) for i in members}
    centre = {r: np.mean([(left[i] + right[i]) / 2 for i in members if roots[i] == r]) for r in set(roots.values())}
    order = {r: k for k, r in enumerate(sorted(centre, key=centre.get))}
    return {i: order[roots[i]] for i in members}


def digits(ink):
    """The drawing's digits, left to right; a drawing of one digit gives its whole ink box. Raises BlankDrawing,
    TooManyParts."""
    top, bottom, left, right = ink_box(ink)
    mask = ink > FAINT
    row, start, end = runs(mask)
    label = connected(row, start, end, ink.shape[1])
    count = label.max() + 1
    rows = row.astype(np.float64)
    tops = extent(rows, label, count, np.minimum, np.inf)
    bottoms = extent(rows + 1, label, count, np.maximum, -np.inf)
    lefts = extent(start, label, count, np.minimum, np.inf)
    rights = extent(end, label, count, np.maximum, -np.inf)
    tallest = bottom - top  # the line's height
    sizes = np.maximum(bottoms - tops, rights - lefts)
    speck = sizes < SPECK * tallest
    members = [int(i) for i in np.flatnonzero(~speck)]
    if len(members) > MAX_DIGITS:
        raise TooManyParts(f"the drawing falls into {len(members)} separate parts; a number has at most {MAX_DIGITS}")
    shift = lean(row, start, end, label) * (rows - rows.mean())  # columns measured along the writing's slant
    boxes = np.stack([lefts, tops, rights, bottoms], axis=1)
    reach = CLOSE * tallest

    def close(i, j):
        apart = distance(boxes[i], boxes[j])
        if apart > reach:
            return False
        if apart == 0 and min(sizes[i], sizes[j]) < SMALL * tallest:
            return True
        box = union([boxes[i], boxes[j]])
        return bool(
            (
                grown(filled(row, start, end, label == i, box), int(np.ceil(reach)))
                & filled(row, start, end, label == j, box)
            ).any()
        )

    group = grouped(
        extent(start - shift, label, count, np.minimum, np.inf),
        extent(end - shift, label, count, np.maximum, -np.inf),
        members,
        close,
    )
    if len(set(group.values())) <= 1:  # one digit, or specks only: the drawing whole
        return [Digit((int(left), int(top), int(right), int(bottom)), ink[top:bottom, left:right])]
    parts = {}
    for i in members:
        parts.setdefault(group[i], []).append(boxes[i])
    for i in np.flatnonzero(speck):  # a speck by a digit is part of it
        gap, g = min((distance(union(them), boxes[i]), g) for g, them in parts.items())
        if gap <= NEAR * tallest:
            group[int(i)] = g
            parts[g].append(boxes[i])
    owner = np.zeros(count, dtype=np.int16)  # 0: left out, else the digit's number + 1
    for i, g in group.items():
        owner[i] = g + 1
    pixels = np.zeros(ink.shape, dtype=np.int16)
    pixels[mask] = np.repeat(owner[label], end - start)  # mask's pixels come in the runs' reading order
    return [cut(ink, pixels, g + 1, union(parts[g])) for g in range(len(parts))]


def union(boxes):
    """The box around several (left, top, right, bottom) boxes."""
    ls, ts, rs, bs = zip(*boxes)
    return min(ls), min(ts), max(rs), max(bs)


def distance(a, b):
    """How far apart two (left, top, right, bottom) boxes are: 0 when they overlap."""
    dx = max(a[0] - b[2], b[0] - a[2], 0)
    dy = max(a[1] - b[3], b[1] - a[3], 0)
    return float(np.hypot(dx, dy))


def filled(row, start, end, mine, box):
    """The pixels of the runs `mine` within a box, as a boolean image of the box."""
    left, top, right, bottom = (int(v) for v in box)
    inside = (row >= top) & (row < bottom) & mine
    edges = np.zeros((bottom - top, right - left + 1), dtype=np.int8)
    edges[row[inside] - top, start[inside] - left] = 1  # a row's runs never share a start or an end
    edges[row[inside] - top, end[inside] - left] = -1
    return np.cumsum(edges, axis=1, dtype=np.int8)[:, :-1] > 0


def grown(mask, radius):
    """The mask widened by `radius` pixels in every direction (a square's reach)."""
    out = mask.copy()
    for axis in (0, 1):
        spread = out.copy()
        for step in range(1, radius + 1):
            lead = [slice(None)] * 2
            trail = [slice(None)] * 2
            lead[axis], trail[axis] = slice(step, None), slice(None, -step)
            spread[tuple(lead)] |= out[tuple(trail)]
            spread[tuple(trail)] |= out[tuple(lead)]
        out = spread
    return out


def cut(ink, pixels, number, box):
    """A digit's ink alone inside its box: the pixels whose part is digit `number`'s."""
    left, top, right, bottom = (int(v) for v in box)
    inside = pixels[top:bottom, left:right] == number
    return Digit((left, top, right, bottom), np.where(inside, ink[top:bottom, left:right], np.float32(0)))


def splits(digit):
    """Ways to cut a wide digit into two that touch, fewest inked pixels first: (left, right) Digit pairs."""
    left, top, right, bottom = digit.box
    if right - left <= WIDE * (bottom - top):
        return []
    ink = digit.ink
    slope = float(np.clip(preprocess.slant(ink), -MAX_SLANT, MAX_SLANT))
    rows, cols = np.indices(ink.shape)
    column = np.floor(cols - slope * (rows - ink.shape[0] / 2)).astype(np.int64)
    column -= column.min()
    profile = np.bincount(column.ravel(), (ink > FAINT).ravel(), column.max() + 1)
    middle = np.arange(len(profile) // 4, 3 * len(profile) // 4)
    cuts = []
    for at in middle[np.argsort(profile[middle], kind="stable")]:
        if all(abs(at - c) > 0.08 * len(profile) for c in cuts):
            cuts.append(at)
        if len(cuts) == CUTS:
            break
    pairs = []
    for at in cuts:
        halves = [np.where(column < at, ink, 0.0), np.where(column >= at, ink, 0.0)]
        try:
            pairs.append(tuple(boxed(half, left, top) for half in halves))
        except BlankDrawing:
            pass
    return pairs


def boxed(ink, left, top):
    """A Digit of the ink in a part whose corner is at (left, top) of the drawing, cut to its own ink box."""
    t, b, lo, hi = ink_box(ink)
    return Digit((left + int(lo), top + int(t), left + int(hi), top + int(b)), ink[t:b, lo:hi].astype(np.float32))


def overlap_ratio(a, b):
    """Intersection over union of two (left, top, right, bottom) boxes."""
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    if width <= 0 or height <= 0:
        return 0.0
    inter = width * height
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def digit_in(ink, box, found):
    """The ink of the digit a box names: the digit of `found` there (its strokes alone), else whatever the box
    holds. Raises BlankDrawing when the box holds no drawing."""
    left, top, right, bottom = box
    part = ink[top:bottom, left:right]
    try:
        ink_box(part)
    except BlankDrawing:
        raise BlankDrawing("nothing is drawn in the box") from None
    best = max(found, key=lambda d: overlap_ratio(d.box, box), default=None)
    return best.ink if best is not None and overlap_ratio(best.box, box) >= MATCH else part
