"""The strokes a drawing was made with, as a stored digit keeps them: those of the digit a box names, moved into the
stored digit's pixels."""

import numpy as np


def placed(part, ink, near):
    """Where a cut of the drawing lies in it: the (left, top) nearest `near` at which every inked pixel of `part`
    is the drawing's own (a digit cut from a number keeps its pixels' values); `near` when there is none."""
    rows, cols = np.nonzero(part)
    if not len(rows):
        return near
    values = part[rows, cols]
    height, width = part.shape
    first_row, first_col = rows[0], cols[0]
    tops, lefts = np.nonzero(
        ink[first_row : ink.shape[0] - height + first_row + 1, first_col : ink.shape[1] - width + first_col + 1]
        == values[0]
    )
    for k in np.argsort(np.abs(tops - near[1]) + np.abs(lefts - near[0]), kind="stable"):
        if np.array_equal(ink[rows + tops[k], cols + lefts[k]], values):
            return int(lefts[k]), int(tops[k])
    return near


def on_ink(part, points):
    """Which points (x, y in the part's pixels) lie on a pixel of its ink."""
    cols, rows = np.floor(points[:, 0]).astype(np.int64), np.floor(points[:, 1]).astype(np.int64)
    inside = (cols >= 0) & (cols < part.shape[1]) & (rows >= 0) & (rows < part.shape[0])
    hit = np.zeros(len(points), dtype=bool)
    hit[inside] = part[rows[inside], cols[inside]] > 0
    return hit


def strokes_of(part, ink, box, strokes):
    """The strokes that drew `part`, the digit cut from `ink` that `box` names: those most of whose points lie on
    its ink, moved into its pixels (times kept). None when the drawing came without strokes."""
    if strokes is None:
        return None
    left, top = placed(part, ink, box[:2])
    moved = [stroke - np.array([left, top, 0][: stroke.shape[1]], dtype=stroke.dtype) for stroke in strokes]
    return [stroke for stroke in moved if 2 * int(on_ink(part, stroke).sum()) > len(stroke)]
