"""Digit styles that MNIST's writers hardly use, generated as pen strokes: each a template with random proportions.

The continental 1 with a flag, the crossed 7, the slashed zero, the open and the one-stroke 4, and the 2 with
a loop at its foot. Points are (x, y) in about a unit box (a long slash reaches past it), y growing downward as
on the canvas; the caller warps, places and draws them like any real pen digit, scaled to their own box.
"""

import numpy as np
from scipy import ndimage


def _arc(centre, radii, start, end, count=24):
    """Points along an ellipse from angle `start` to `end` (radians, 0 = right, growing clockwise on screen)."""
    t = np.linspace(start, end, count)
    return np.stack([centre[0] + radii[0] * np.cos(t), centre[1] + radii[1] * np.sin(t)], axis=1)


def flagged_one(rng):
    """A 1 with a long flag down-left from its top, steeper than a 7's bar (30-60 degrees); sometimes a foot."""
    top = np.array([rng.uniform(0.45, 0.6), 0.0])
    foot = np.array([top[0] + rng.uniform(-0.12, 0.04), 1.0])
    length, angle = rng.uniform(0.3, 0.55), np.deg2rad(rng.uniform(30, 60))
    flag = top + length * np.array([-np.cos(angle), np.sin(angle)])
    strokes = [np.stack([flag, top, foot])]
    if rng.random() < 0.25:
        half = rng.uniform(0.15, 0.3)
        strokes.append(np.array([[foot[0] - half, 1.0], [foot[0] + half, 1.0]]))
    return strokes


def crossed_seven(rng):
    """A 7 with a bar through its stem, and now and then a little flag down from the left end of its top."""
    left, right = np.array([0.0, rng.uniform(0.0, 0.08)]), np.array([1.0, 0.0])
    foot = np.array([rng.uniform(0.25, 0.5), 1.0])
    top = [left, right, foot]
    if rng.random() < 0.3:
        top = [left + [0, rng.uniform(0.1, 0.2)]] + top
    at = rng.uniform(0.4, 0.6)
    middle = right + at * (foot - right)
    half = rng.uniform(0.15, 0.3)
    bar = np.array([middle - [half, 0], middle + [half * rng.uniform(0.8, 1.3), 0]])
    return [np.stack(top), bar]


def slashed_zero(rng):
    """An oval, upright or leaning right, with a slash from lower left to upper right drawn through it after: as
    steep as the oval's diagonal or flatter (30-65 degrees), inside the oval or far past both its sides."""
    width, lean = rng.uniform(0.4, 0.8), rng.uniform(-0.05, 0.35)
    start = rng.uniform(-2.0, -1.2)
    oval = _arc((0.5, 0.5), (width / 2, 0.5), start, start + 2 * np.pi + rng.uniform(0.0, 0.3), 40)
    oval[:, 0] += lean * (0.5 - oval[:, 1])  # the top leans right
    rise, angle = rng.uniform(0.25, 0.7), np.deg2rad(rng.uniform(30, 65))  # half the slash's height, its slope
    half = np.array([rise / np.tan(angle), -rise])
    return [oval, np.stack([0.5 - half, 0.5 + half])]


def open_four(rng):
    """A 4 whose top is open (a slanted left stroke, the bar, then the stem apart), or the same in one stroke."""
    bar_y = rng.uniform(0.5, 0.7)
    stem_x = rng.uniform(0.6, 0.8)
    corner = np.array([rng.uniform(0.0, 0.15), bar_y])
    start = np.array([corner[0] + rng.uniform(0.2, 0.45), 0.0])
    bar_end = np.array([1.0, bar_y + rng.uniform(-0.05, 0.05)])
    stem_top = np.array([stem_x, rng.uniform(0.0, 0.2)])
    foot = np.array([stem_x + rng.uniform(-0.08, 0.05), 1.0])
    if rng.random() < 0.5:  # two strokes: the stem is lifted apart
        return [np.stack([start, corner, bar_end]), np.stack([stem_top, foot])]
    # one stroke: along the bar to the stem, up it, then back down it (the down-stroke lies beside the up-stroke)
    beside = np.array([rng.uniform(-0.04, 0.04), 0])
    return [np.stack([start, corner, [stem_x, bar_y], stem_top, stem_top + beside, foot])]


def looped_two(rng):
    """A 2 whose diagonal ends in a small loop at the foot before the base line runs right."""
    hump = _arc((0.5, 0.28), (0.45, 0.28), np.pi * rng.uniform(1.0, 1.15), np.pi * 2.2, 20)
    foot = np.array([rng.uniform(0.05, 0.2), rng.uniform(0.85, 0.95)])
    radius = rng.uniform(0.1, 0.18)
    loop = _arc(foot + [radius * 0.8, -radius * 0.6], (radius, radius), np.pi * 0.6, np.pi * 2.6, 16)
    base = np.array([[rng.uniform(0.85, 1.0), 1.0 - rng.uniform(0.0, 0.06)]])
    return [np.concatenate([hump, foot[None], loop, base])]


STYLES = {1: flagged_one, 7: crossed_seven, 0: slashed_zero, 4: open_four, 2: looped_two}


def wobble(stroke, rng, amount=0.03):
    """Jitter a template's points smoothly along the stroke, so no two drawings share their proportions exactly."""
    stroke = np.asarray(stroke, dtype=np.float64)
    noise = ndimage.gaussian_filter1d(rng.normal(0, 1, stroke.shape), max(len(stroke) / 8, 0.5), axis=0, mode="nearest")
    return stroke + amount * noise / max(float(noise.std()), 1e-6)


def style_digit(label, rng):
    """The strokes of one drawing of `label` in its generated style."""
    return [wobble(stroke, rng) for stroke in STYLES[label](rng)]
