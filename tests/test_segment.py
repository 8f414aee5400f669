"""Finding the digits of a drawn number: gaps, floating hats, two-stroke 4s, lone 1s, specks, blanks."""

import numpy as np
import pytest

from conftest import number_ink
from recognizer.reading import segment
from recognizer.reading.preprocess import BlankDrawing
from recognizer.training import data, render

# Digits as strokes in a 100-unit box, the way people write them.
ONE = [[(50, 5), (50, 95)]]
FOUR_CROSSED = [[(40, 5), (10, 65), (70, 65)], [(55, 35), (55, 95)]]  # the bar crosses the stem
FOUR_OPEN = [[(15, 5), (12, 55), (50, 58)], [(58, 5), (58, 95)]]  # the pen lifted just short of it
FIVE_HAT = [[(25, 35), (22, 58), (50, 52), (65, 72), (50, 93), (18, 88)], [(30, 5), (70, 5)]]  # hat in the air
SEVEN_BAR = [[(10, 5), (70, 5), (35, 95)], [(30, 50), (65, 50)]]
ZERO = [[(50, 5), (20, 25), (15, 60), (45, 95), (75, 70), (78, 30), (50, 5)]]
TWO = [[(15, 25), (45, 5), (70, 25), (60, 55), (12, 95), (78, 95)]]


def covers(found, composed):
    """Whether each found box is the composed digit's box, to within the pen's anti-aliased edge."""
    return all(segment.overlap_ratio(f.box, c) > 0.85 for f, c in zip(found, composed))


@pytest.mark.parametrize("gap", [0.12, 0.3, 0.8])
def test_digits_come_left_to_right_whatever_the_gap(gap):
    ink, boxes = number_ink([TWO, ZERO, TWO, ONE], gaps=(gap, gap))
    found = segment.digits(ink)
    assert len(found) == 4
    assert covers(found, boxes)
    assert [f.box[0] for f in found] == sorted(f.box[0] for f in found)


@pytest.mark.parametrize("digit", [FIVE_HAT, SEVEN_BAR, FOUR_CROSSED, FOUR_OPEN], ids=["5 hat", "7 bar", "4", "open 4"])
def test_the_strokes_of_one_digit_stay_together(digit):
    ink, boxes = number_ink([digit, ZERO, digit], gaps=(0.2, 0.3))
    found = segment.digits(ink)
    assert len(found) == 3
    assert covers(found, boxes)


def test_a_lone_one_narrower_than_its_gap_is_a_digit_of_its_own():
    ink, boxes = number_ink([ONE, ONE, ZERO, ONE], gaps=(0.5, 0.7))
    found = segment.digits(ink)
    assert len(found) == 4
    assert covers(found, boxes)


def test_a_wavy_baseline_and_varied_heights_keep_the_count():
    for seed in range(10):
        ink, boxes = number_ink([ZERO, ONE, TWO, FIVE_HAT, SEVEN_BAR, FOUR_OPEN], seed, wave=0.15, gaps=(0.15, 0.5))
        assert len(segment.digits(ink)) == 6, seed


def test_slanted_writing_is_cut_along_its_slant():
    """Leaning digits whose boxes overlap are still told apart: columns are measured along the slant."""
    lean = [[[(x + 0.45 * (100 - y), y) for x, y in stroke] for stroke in digit] for digit in (ONE, SEVEN_BAR, ONE)]
    ink, boxes = number_ink(lean, gaps=(-0.1, -0.1))
    assert boxes[0][2] > boxes[1][0]  # the boxes overlap ...
    found = segment.digits(ink)
    assert len(found) == 3  # ... the digits do not
    assert covers(found, boxes)


def test_a_speck_between_digits_is_left_out_and_one_inside_a_digit_stays():
    ink, boxes = number_ink([TWO, ZERO], gaps=(0.6, 0.6))
    between = int((boxes[0][2] + boxes[1][0]) / 2)
    ink[150:155, between : between + 5] = 1.0  # a dot in the gap
    inside = [int((boxes[1][0] + boxes[1][2]) / 2), int((boxes[1][1] + boxes[1][3]) / 2)]
    ink[inside[1] : inside[1] + 4, inside[0] : inside[0] + 4] = 1.0  # a dot in the 0's hole
    found = segment.digits(ink)
    assert len(found) == 2
    assert all(not (f.box[0] <= between < f.box[2]) for f in found)
    left, top = found[1].box[:2]
    assert found[1].ink[inside[1] - top, inside[0] - left] == 1.0


def test_each_digit_keeps_only_its_own_ink():
    ink, _ = number_ink([TWO, ZERO, ONE], gaps=(0.3, 0.3))
    found = segment.digits(ink)
    assert np.isclose(sum(f.ink.sum() for f in found), ink.sum(), rtol=1e-3)


def test_one_digit_comes_whole(strokes):
    for sample in strokes[:40]:
        ink = render.strokes_to_ink(sample["strokes"], sample["width"])
        (found,) = segment.digits(ink)
        left, top, right, bottom = found.box
        assert found.ink.base is ink and found.ink.shape == (bottom - top, right - left)  # the drawing's ink box
        assert np.isclose(found.ink.sum(), ink.sum(), rtol=1e-3)


def test_a_blank_drawing_has_no_digits():
    with pytest.raises(BlankDrawing):
        segment.digits(np.zeros((280, 840), dtype=np.float32))


def test_a_scatter_of_many_parts_is_not_a_number():
    ink = np.zeros((280, 1000), dtype=np.float32)
    for k in range(segment.MAX_DIGITS + 8):
        ink[100:180, 10 + 24 * k : 16 + 24 * k] = 1.0
    with pytest.raises(segment.TooManyParts):
        segment.digits(ink)


def test_a_box_names_its_digit_and_its_strokes_alone():
    ink, _ = number_ink([FIVE_HAT, ZERO], gaps=(0.3, 0.3))
    found = segment.digits(ink)
    five, zero = found
    np.testing.assert_array_equal(segment.digit_in(ink, five.box, found), five.ink)
    np.testing.assert_array_equal(segment.digit_in(ink, zero.box, found), zero.ink)
    left, top, right, bottom = zero.box
    wider = (left - 30, top, right, bottom)  # not a found digit: what the box holds
    np.testing.assert_array_equal(segment.digit_in(ink, wider, found), ink[top:bottom, left - 30 : right])
    with pytest.raises(BlankDrawing):
        segment.digit_in(ink, (0, 0, 10, 10), found)


def test_real_writers_numbers_are_counted_right():
    """Numbers of 2-6 digits from UJI's held-out writers, spaced as people space them: the count is right."""
    _, held_out = data.pen_split("uji")
    rng = np.random.default_rng(5)
    right = 0
    for _ in range(60):
        picks = [held_out[i]["strokes"] for i in rng.integers(0, len(held_out), rng.integers(2, 7))]
        ink, boxes = number_ink(picks, int(rng.integers(1 << 30)))
        found = segment.digits(ink)
        right += len(found) == len(picks) and covers(found, boxes)
    assert right >= 58


def test_a_wide_part_offers_cuts_into_two_digits_and_a_narrow_one_none():
    ink, boxes = number_ink([ZERO, ZERO], gaps=(-0.08, -0.08))
    (pair,) = segment.digits(ink)  # the two 0s touch: one part
    cuts = segment.splits(pair)
    assert 1 <= len(cuts) <= segment.CUTS
    best = max(
        cuts,
        key=lambda cut: min(segment.overlap_ratio(cut[0].box, boxes[0]), segment.overlap_ratio(cut[1].box, boxes[1])),
    )
    assert segment.overlap_ratio(best[0].box, boxes[0]) > 0.7 and segment.overlap_ratio(best[1].box, boxes[1]) > 0.7
    assert np.isclose(best[0].ink.sum() + best[1].ink.sum(), pair.ink.sum(), rtol=1e-3)
    (one,) = segment.digits(number_ink([ONE])[0])
    assert segment.splits(one) == []
