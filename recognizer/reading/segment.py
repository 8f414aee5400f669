"""Find the digits of a drawn number, left to right, by recognition: the ink falls into more pieces than there are
digits (its strokes where the page sent them, else its connected parts, wide ones cut along the writing's slant at
their least-inked columns), and the models choose which neighbouring pieces make one digit.

`pieces` gives the pieces from the image alone (`recognizer.reading.strokes` gives them from the strokes),
`candidates` the groups of neighbouring pieces that may be one digit with what their shapes say of it, and `best`
the grouping whose digits the models read most surely.
"""

from dataclasses import dataclass, replace

import numpy as np

from recognizer.reading.preprocess import MAX_SLANT, BlankDrawing, ink_box

FAINT = 0.05  # a pixel with more ink than this is part of its stroke (its anti-aliased edge too)
SPECK = 0.25  # a piece whose longest side is under this share of the drawing's height is a speck ...
NEAR = 0.15  # ... part of the piece it lies this close to (as a share of the height), else left out
MARK = 0.45  # a piece under this share of the height tall (and under it wide), in a blank of its own, whose top ...
LOWER = 0.7  # ... lies this far down the digits beside it is a comma or a point (1,250; 3.5), and one between ...
HYPHEN = 0.3  # ... two digits whose top lies this far down (lower than a hat) a hyphen (555-1234): left out
MARKED = 256  # more pieces than this are a scatter, not a punctuated number (and would cost quadratic time)
MAX_DIGITS = 32  # more separate parts than this is not a number but a scatter (and would cost quadratic time)
WIDE = 0.7  # a part wider than this share of the height may be digits that touch: it is cut ...
WIDE_STROKE = 1.1  # (a stroke, only when wider than this: the pen went on from one digit into the next)
CUT_EVERY = 0.3  # ... about every this share of the height, where its ink is least tall near there,
CUT_EDGE = 0.12  # ... none nearer its ends or each other than this share of the height
MAX_GROUP = 10  # the most pieces one digit is made of (a 4 of two strokes, a 5 with its hat, a cut digit's pieces)
LINK = 0.15  # pieces of one digit overlap along the slant, or leave a blank narrower than this share of the height
SHARED = 0.5  # strokes drawn one after the other that overlap by this share of the narrower's columns ...
COLUMN = 0.3  # ... one at least this share of the height wide, are one digit's
WIDEST = 1.8  # no digit is wider along the slant than this share of the height
# What the shapes say (in units of the log of the models' confidence): a blank inside a digit costs GAP per height
# of it, a digit wider than the height WIDTH per height beyond it, and one under LOW of the height (a hat, a bar
# alone) LOWNESS. DIGIT is every digit's cost, which keeps the models' confidence in the halves of one digit from
# splitting it (bench/numbers.py, on the pen sets' training writers; docs/experiments.md).
GAP = 8.0
WIDTH = 0.5
LOW = 0.45
# Digits of a number are about as tall as each other (the two halves of an open 4 are not a 6 and a 1): one
# shorter than TALL of the height costs SHORTNESS per height it lacks.
TALL = 0.8
SHORTNESS = 2.0
LOWNESS = 2.0
DIGIT = 0.1
CUTTING = 0.3  # a digit cut from ink that runs on into the next costs this (digits seldom touch)
STACKED = 0.2  # a digit whose piece before or after it overlaps it along the slant by this share of the height ...
SPLIT = 3.0  # ... and by SHARED of the narrower costs this: neighbouring digits overlap by a sliver at most
SIDE = 0.25  # pieces not cut from one that overlap by less than this share of the narrower lie side by side ...
BESIDE = 0.5  # ... which costs this in one digit (a 1 beside a 5 is not a 6) ...
TOUCHING = 0.5  # ... and this share of it for strokes whose ink touches (a 4's bar reaching its stem)
MATCH = 0.9  # a box sent to /train names the digit whose box it covers this well (intersection over union)


class TooManyParts(ValueError):
    """The drawing falls apart into more pieces than any number has digits."""


@dataclass(frozen=True)
class Digit:
    """One digit of a drawing: its box (left, top, right, bottom; right and bottom exclusive) and its ink alone."""

    box: tuple
    ink: np.ndarray


@dataclass(frozen=True)
class Piece:
    """Ink that belongs to one digit: its box (left, top, right, bottom), which pixels of the box are its, the
    columns it spans along the writing's slant (first, last + 1), which piece it was cut from (-1: none) and, for a
    stroke, which connected part of the drawing its ink lies in (-1: not known)."""

    box: tuple
    mask: np.ndarray
    lo: float
    hi: float
    origin: int = -1
    part: int = -1


@dataclass(frozen=True)
class Layout:
    """How the drawing's pieces lie: its height (`line_height`), its slant (columns per row) and middle row."""

    height: float
    slope: float
    middle: float

    def columns(self, rows, cols):
        """Columns measured along the slant."""
        return cols - self.slope * (rows - self.middle)


def joined(pieces):
    """One Piece of several."""
    box = union([p.box for p in pieces])
    mask = np.zeros((box[3] - box[1], box[2] - box[0]), dtype=bool)
    for p in pieces:
        left, top, right, bottom = p.box
        mask[top - box[1] : bottom - box[1], left - box[0] : right - box[0]] |= p.mask
    part = pieces[0].part if all(p.part == pieces[0].part for p in pieces) else -1
    return Piece(box, mask, min(p.lo for p in pieces), max(p.hi for p in pieces), part=part)


def runs(labels):
    """The horizontal runs of one value other than 0 in an image (a boolean mask, or labels): (row, start, end,
    value) arrays, end exclusive, in reading order."""
    height, width = labels.shape
    padded = np.zeros((height, width + 2), dtype=labels.dtype)
    padded[:, 1:-1] = labels
    flat = padded.ravel()  # a row's padding keeps its runs from joining the next row's
    change = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    starts, ends = change[flat[change] != 0], change[flat[change - 1] != 0]
    row = starts // (width + 2)
    return row, starts - row * (width + 2) - 1, ends - row * (width + 2) - 1, flat[starts]


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


def components(ink):
    """The drawing's connected parts as Pieces, and its Layout. Raises BlankDrawing."""
    top, bottom, _, _ = ink_box(ink)
    inked = ink > FAINT
    row, start, end, _ = runs(inked)
    label = connected(row, start, end, ink.shape[1])
    layout = Layout(float(bottom - top), lean(row, start, end, label), (top + bottom) / 2.0)
    labels = np.zeros(ink.shape, dtype=np.int32)
    labels[inked] = np.repeat(label + 1, end - start)  # the runs come in reading order, as the pixels do
    found = labelled((row, start, end, label + 1), labels, (0, 0), label.max() + 1, layout)
    return found, replace(layout, height=line_height([p.box for p in found], layout.height))


def line_height(boxes, extent):
    """How tall a line's digits are, from its parts' boxes and its ink's whole height (`extent`): the most that any
    part and the parts above or below it reach, top to bottom (a 5's hat and its body make one digit's height; a
    neighbour sharing a sliver of its columns does not), which a line that rises or falls does not stretch as its
    whole extent would be. Specks are left out, and so is a scatter of more parts than a number has digits."""
    tall = [b for b in boxes if longest(b) >= SPECK * extent]
    if len(tall) > MAX_DIGITS:
        return extent
    heights = []
    for left, _, right, _ in tall:
        column = [b for b in tall if min(right, b[2]) - max(left, b[0]) >= SHARED * min(right - left, b[2] - b[0])]
        heights.append(max(b[3] for b in column) - min(b[1] for b in column))
    return float(max(heights, default=extent))


def labelled(found_runs, labels, origin, count, layout):
    """The Pieces of an image of labels (0: no ink, k + 1: piece k's) whose pixel [0, 0] lies at `origin` (left,
    top) of the drawing, given its runs (row, start, end, value) as `runs` finds them: one a label from 0 to
    count - 1, None where it has none. Their boxes and extents along the slant come from the runs' ends (a run's
    first and last pixels), their masks from the image: a few array operations for all of them, not a few for each."""
    row, start, end, value = found_runs
    x, y = origin
    order = np.argsort(value, kind="stable")
    row, start, end, label = row[order] + y, start[order] + x, end[order] + x, value[order] - 1
    bounds = np.searchsorted(label, np.arange(count + 1))
    present = np.flatnonzero(bounds[1:] > bounds[:-1])
    if not len(present):
        return [None] * count
    firsts = bounds[present]
    lean = layout.slope * (row - layout.middle)
    tops, bottoms = np.minimum.reduceat(row, firsts), np.maximum.reduceat(row, firsts) + 1
    lefts, rights = np.minimum.reduceat(start, firsts), np.maximum.reduceat(end, firsts)
    los, his = np.minimum.reduceat(start - lean, firsts), np.maximum.reduceat(end - 1 - lean, firsts) + 1
    found = [None] * count
    for k, t, b, left, right, lo, hi in zip(present, tops, bottoms, lefts, rights, los, his):
        box = (int(left), int(t), int(right), int(b))
        found[k] = Piece(box, labels[t - y : b - y, left - x : right - x] == k + 1, float(lo), float(hi))
    return found


def pieces(ink):
    """The drawing's pieces from the image alone: its connected parts, specks joined to the part they lie by, wide
    parts cut. Raises BlankDrawing, TooManyParts."""
    found, layout = components(ink)
    return settled(found, layout), layout


def settled(found, layout, in_order=False):
    """Pieces ready to group: punctuation left out, specks joined to the piece they lie by (or left out),
    wide pieces cut; left to right along the slant, or kept `in_order` (the order they were drawn in). Raises
    TooManyParts."""
    found = [p for p, mark in zip(found, punctuation(found, layout.height)) if not mark]
    small = [longest(p.box) < SPECK * layout.height for p in found]
    big = [p for p, s in zip(found, small) if not s]
    if not big:  # specks only: the drawing is one piece
        return [joined(found)]
    if len(big) > MAX_DIGITS:
        raise TooManyParts(f"the drawing falls into {len(big)} separate parts; a number has at most {MAX_DIGITS}")
    near = {}
    for speck in (p for p, s in zip(found, small) if s):
        gap, k = min((distance(b.box, speck.box), k) for k, b in enumerate(big))
        if gap <= NEAR * layout.height:
            near.setdefault(k, []).append(speck)
    big = [joined([b] + near[k]) if k in near else b for k, b in enumerate(big)]
    if in_order:
        big = overlapping(big, layout.height)
    out = [part for k, p in enumerate(big) for part in cut(p, layout, k, WIDE_STROKE if in_order else WIDE)]
    return out if in_order else sorted(out, key=lambda p: p.lo + p.hi)


def punctuation(found, height):
    """Which pieces are punctuation in a number: a point or a comma (low beside the digits nearest it, after the
    last digit too) or a hyphen (lower than a hat, between two digits), small and apart from the rest of the ink
    (touching no other stroke, sharing under half their columns along the slant with any other piece). A 7's bar,
    a 5's hat or a 1's foot shares its digit's columns, the end of a 4's bar touches its stem; a minus sign before
    a number is left to the models. A scatter of more than MARKED pieces has none."""
    small = [p.box[3] - p.box[1] < MARK * height and p.box[2] - p.box[0] < height for p in found]
    digits = [p for p, s in zip(found, small) if not s]
    if len(found) > MARKED or not digits or not any(small):  # (most drawings: nothing to weigh)
        return [False] * len(found)
    los, his = np.array([p.lo for p in found]), np.array([p.hi for p in found])
    parts = np.array([p.part for p in found])
    shared = shared_columns(los, his)
    touching = (parts[:, None] == parts) & (parts[:, None] != -1)  # (as `same_part`)
    np.fill_diagonal(shared, -np.inf)
    np.fill_diagonal(touching, False)
    apart = ((shared < SHARED * (his - los)[:, None]).all(axis=1) & ~touching.any(axis=1)).tolist()
    return [s and a and separating(p, digits) for p, s, a in zip(found, small, apart)]


def separating(p, digits):
    """Whether a small piece apart from the rest lies where punctuation does: its top below HYPHEN of the digits
    on both sides of it, or below LOWER of the digits beside it."""
    middle = p.lo + p.hi
    before = [d for d in digits if d.lo + d.hi < middle]
    after = [d for d in digits if d.lo + d.hi >= middle]
    beside = ([max(before, key=lambda d: d.hi)] if before else []) + ([min(after, key=lambda d: d.lo)] if after else [])
    top, bottom = min(d.box[1] for d in beside), max(d.box[3] for d in beside)
    return p.box[1] >= top + (HYPHEN if len(beside) == 2 else LOWER) * (bottom - top)


def overlapping(found, height):
    """Pieces drawn one after the other that overlap along the slant by most of the narrower one's width, joined:
    strokes of one digit (neighbouring digits overlap by a sliver at most, and a 1 narrower than COLUMN never
    joins this way)."""
    out = []
    for p in found:
        shared, narrower = sharing(out[-1].lo, out[-1].hi, p) if out else (0.0, 0.0)
        if out and shared >= SHARED * narrower and narrower >= COLUMN * height:
            out[-1] = joined([out[-1], p])
        else:
            out.append(p)
    return out


def shared_columns(los, his):
    """The columns along the slant each two of several pieces share (`sharing`'s, for every pair in one array
    operation), from their first and last columns."""
    return np.minimum.outer(his, his) - np.maximum.outer(los, los)


def sharing(lo, hi, p):
    """(the columns along the slant a piece shares with columns lo..hi, the narrower of the two's width)."""
    return min(hi, p.hi) - max(lo, p.lo), min(hi - lo, p.hi - p.lo)


def cut(p, layout, origin, wide):
    """A piece wider than `wide` of the height (it may be digits that touch) cut along the slant every CUT_EVERY of
    the height, each cut at the column near there where the ink is least tall (digits meet between their curves)."""
    height = layout.height
    width = p.hi - p.lo
    if width <= wide * height:
        return [p]
    rows, cols = np.divmod(np.flatnonzero(p.mask), p.mask.shape[1])  # (np.nonzero's pairs in under half its time)
    column = (layout.columns(rows + p.box[1], cols + p.box[0]) - p.lo).astype(np.int64)
    size = int(np.ceil(width)) + 1  # columns along the slant
    highest, lowest = np.full(size, len(p.mask)), np.full(size, -1)  # each column's first and last ink row
    np.minimum.at(highest, column, rows)
    np.maximum.at(lowest, column, rows)
    tall = np.maximum(lowest - highest, 0)  # how tall the ink is in each column: low where digits meet
    profile = np.convolve(tall, np.ones(5) / 5, mode="same")
    step, edge = CUT_EVERY * height, CUT_EDGE * height
    count = int(np.ceil(width / step))
    cuts = []
    for place in np.arange(1, count) * width / count:
        window = np.arange(int(max(place - step / 2, edge)), int(min(place + step / 2, width - edge)))
        if len(window):
            at = int(window[np.argmin(profile[window])])
            if all(abs(at - c) >= edge for c in cuts):
                cuts.append(at)
    sides = np.zeros(p.mask.shape, dtype=np.int32)  # each pixel's side of the cuts, 1 and up (0: no ink)
    sides[p.mask] = np.searchsorted(sorted(cuts), column, "right") + 1
    found = labelled(runs(sides), sides, p.box[:2], len(cuts) + 1, layout)
    return [replace(part, origin=origin, part=p.part) for part in found if part is not None]


def candidates(found, layout):
    """The groups of neighbouring pieces that may be one digit, as {(first, end): what their shape costs}."""
    height = layout.height
    out = {}
    for i in range(len(found)):
        for j in range(i + 1, min(len(found), i + MAX_GROUP) + 1):
            after = found[j] if j < len(found) else None
            group = sorted(found[i:j], key=lambda p: p.lo)
            gap, beside, last = 0.0, 0, group[0]
            for p in group[1:]:
                shared = min(last.hi, p.hi) - p.lo  # below 0: a blank between them
                gap = max(gap, -shared)
                if not cut_through(last, p) and shared < SIDE * min(p.hi - p.lo, last.hi - last.lo):
                    beside += TOUCHING if same_part(last, p) else 1.0
                last = p if p.hi > last.hi else last
            width = last.hi - group[0].lo
            if j - i > 1 and width > WIDEST * height:
                break  # a group only widens as it takes the next piece
            if j - i > 1 and gap > LINK * height:
                continue
            box = union([p.box for p in group])
            cost = GAP * gap / height + WIDTH * max(width / height - 1.0, 0.0) + BESIDE * beside + DIGIT
            cost += LOWNESS if box[3] - box[1] < LOW * height else 0.0
            cost += SHORTNESS * max(TALL - (box[3] - box[1]) / height, 0.0)
            cost += CUTTING / 2 * ((i > 0 and cut_through(found[i - 1], found[i])) + cut_through(found[j - 1], after))
            cost += (
                SPLIT / 2 * sum(stacked(group[0].lo, last.hi, p, height) for p in (i > 0 and found[i - 1], after) if p)
            )
            out[(i, j)] = cost
    return out


def stacked(lo, hi, p, height):
    """Whether a piece overlaps the columns lo..hi along the slant as much as one digit's own strokes do."""
    shared, narrower = sharing(lo, hi, p)
    return shared >= STACKED * height and shared >= SHARED * narrower


def same_part(a, b):
    """Whether two strokes' ink lies in one connected part of the drawing."""
    return a.part == b.part != -1


def cut_through(a, b):
    """Whether two pieces are parts of one that was cut."""
    return b is not None and a.origin == b.origin != -1


def best(count, scores):
    """The grouping of `count` pieces in order that scores highest: [(first, end)] from {(first, end): score}."""
    total = [0.0] + [-np.inf] * count
    back = [0] * (count + 1)
    for (i, j), score in sorted(scores.items(), key=lambda item: item[0][1]):
        if total[i] + score > total[j]:
            total[j], back[j] = total[i] + score, i
    groups, j = [], count
    while j > 0:
        groups.append((back[j], j))
        j = back[j]
    return groups[::-1]


def group_ink(ink, group):
    """A group of pieces as a Digit: its box and its own ink alone."""
    whole = joined(group) if len(group) > 1 else group[0]
    left, top, right, bottom = whole.box
    return Digit(whole.box, np.where(whole.mask, ink[top:bottom, left:right], np.float32(0)))


def whole_drawing(ink):
    """The drawing whole as one digit: its ink box and all its ink."""
    top, bottom, left, right = ink_box(ink)
    return Digit((int(left), int(top), int(right), int(bottom)), ink[top:bottom, left:right])


def longest(box):
    """A (left, top, right, bottom) box's longer side."""
    return max(box[2] - box[0], box[3] - box[1])


def union(boxes):
    """The box around several (left, top, right, bottom) boxes."""
    ls, ts, rs, bs = zip(*boxes)
    return min(ls), min(ts), max(rs), max(bs)


def distance(a, b):
    """How far apart two (left, top, right, bottom) boxes are: 0 when they overlap."""
    dx = max(a[0] - b[2], b[0] - a[2], 0)
    dy = max(a[1] - b[3], b[1] - a[3], 0)
    return float(np.hypot(dx, dy))


def overlap_ratio(a, b):
    """Intersection over union of two (left, top, right, bottom) boxes."""
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    if width <= 0 or height <= 0:
        return 0.0
    inter = width * height
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def digit_in(ink, box, found):
    """The Digit a box names: the digit of `found` there (its strokes alone), else whatever the box holds. Raises
    BlankDrawing when the box holds no drawing."""
    left, top, right, bottom = box
    part = ink[top:bottom, left:right]
    try:
        ink_box(part)
    except BlankDrawing:
        raise BlankDrawing("nothing is drawn in the box") from None
    best_match = max(found, key=lambda d: overlap_ratio(d.box, box), default=None)
    return (
        best_match
        if best_match is not None and overlap_ratio(best_match.box, box) >= MATCH
        else Digit(tuple(box), part)
    )
