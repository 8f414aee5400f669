"""The strokes a drawing was made with, as a stored digit keeps them: those of the digit a box names, moved into the
stored digit's pixels."""

import numpy as np


def on_ink(part, points):
    """Which points (x, y in the part's pixels) lie on a pixel of its ink."""
    cols, rows = np.floor(points[:, 0]).astype(np.int64), np.floor(points[:, 1]).astype(np.int64)
    inside = (cols >= 0) & (cols < part.shape[1]) & (rows >= 0) & (rows < part.shape[0])
    hit = np.zeros(len(points), dtype=bool)
    hit[inside] = part[rows[inside], cols[inside]] > 0
    return hit


def strokes_of(digit, strokes):
    """The strokes that drew `digit` (a segment.Digit of the drawing): those most of whose points lie on its ink,
    moved into its pixels (times kept). None when the drawing came without strokes."""
    if strokes is None:
        return None
    left, top = digit.box[:2]
    moved = [stroke - np.array([left, top, 0][: stroke.shape[1]], dtype=stroke.dtype) for stroke in strokes]
    return [stroke for stroke in moved if 2 * int(on_ink(digit.ink, stroke).sum()) > len(stroke)]
