"""Finding the digits of a drawn number by recognition: from its strokes (hats, two-stroke 4s and 7s, dots, touching
digits, one stroke through two digits) and from the image alone (connected parts, wide ones cut)."""

import tempfile

import numpy as np
import pytest

from recognizer.nets import weights
from recognizer.reading import reader, segment, strokes
from recognizer.reading.preprocess import BlankDrawing, ink_box
from recognizer.service import Recognizer
from recognizer.state.store import LocalStore
from recognizer.training import data, render

# Digits as strokes in a 100-unit box, the way people write them.
ONE = [[(50, 5), (50, 95)]]
FOUR_CROSSED = [[(40, 5), (10, 65), (70, 65)], [(55, 35), (55, 95)]]  # the bar crosses the stem
FOUR_OPEN = [[(15, 5), (12, 55), (50, 58)], [(58, 5), (58, 95)]]  # the pen lifted just short of it
FIVE_HAT = [[(25, 35), (22, 58), (50, 52), (65, 72), (50, 93), (18, 88)], [(30, 5), (70, 5)]]  # hat in the air
SEVEN_BAR = [[(10, 5), (70, 5), (35, 95)], [(30, 50), (65, 50)]]
ZERO = [[(50, 5), (20, 25), (15, 60), (45, 95), (75, 70), (78, 30), (50, 5)]]
TWO = [[(15, 25), (45, 5), (70, 25), (60, 55), (12, 95), (78, 95)]]
FOUR_APART = [[(18, 5), (12, 62), (58, 62)], [(70, 30), (70, 98)]]  # the stem stands clear of the bar, lower down
ONE_STROKE, MANY = "one stroke", "several strokes"
BOTH_WAYS = pytest.mark.parametrize("given", [False, True], ids=["image alone", "with strokes"])


@pytest.fixture(scope="module")
def rec():
    return Recognizer(LocalStore(tempfile.mkdtemp(prefix="segment-store-")), weights.SHIPPED)


def laid_out(digits, seed=0, **layout):
    """(the wide pad's ink for these digits written side by side, each digit's strokes in the pad's pixels, each
    digit's box)."""
    laid, pen, boxes = render.compose_number(digits, np.random.default_rng(seed), **layout)
    flat = [stroke for digit in laid for stroke in digit]
    return render.strokes_to_ink(flat, pen, render.WIDE_PAD[1], render.WIDE_PAD[0]), laid, boxes


def written(digits, seed=0, **layout):
    """(the wide pad's ink for these digits written side by side, its strokes in the pad's pixels, each digit's box)."""
    ink, laid, boxes = laid_out(digits, seed, **layout)
    return ink, [stroke for digit in laid for stroke in digit], boxes


def found(rec, ink, given=None):
    """The digits the reader finds in a drawing (from its strokes when `given`)."""
    return [digit for digit, _ in rec.reader.read(ink, rec.current(), given)[2]]


def covers(digits, composed):
    """Whether each found box is the composed digit's box, to within the pen's anti-aliased edge."""
    return len(digits) == len(composed) and all(segment.overlap_ratio(f.box, c) > 0.8 for f, c in zip(digits, composed))


@BOTH_WAYS
@pytest.mark.parametrize("gap", [0.12, 0.3, 0.8])
def test_digits_come_left_to_right_whatever_the_gap(rec, gap, given):
    ink, flat, boxes = written([TWO, ZERO, TWO, ONE], gaps=(gap, gap))
    digits = found(rec, ink, flat if given else None)
    assert covers(digits, boxes)
    assert [f.box[0] for f in digits] == sorted(f.box[0] for f in digits)


def test_the_line_height_is_a_digits_with_its_hat_not_a_rising_lines():
    rising = [(0, 80, 60, 180), (90, 40, 150, 140), (180, 0, 240, 100)]  # three digits 100 tall, each 40 higher
    assert segment.line_height(rising, 180) == 100
    five = [(10, 0, 60, 15), (5, 25, 65, 100)]  # a hat above its body: one digit, 100 tall
    assert segment.line_height(five + [(70, 10, 130, 100)], 100) == 100
    assert segment.line_height(rising + [(0, 0, 4, 4)], 180) == 100  # a speck changes nothing


@BOTH_WAYS
@pytest.mark.parametrize("digit", [FIVE_HAT, SEVEN_BAR, FOUR_CROSSED, FOUR_OPEN], ids=["5 hat", "7 bar", "4", "open 4"])
def test_the_strokes_of_one_digit_stay_together(rec, digit, given):
    ink, flat, boxes = written([digit, ZERO, digit], gaps=(0.2, 0.3))
    assert covers(found(rec, ink, flat if given else None), boxes)


@pytest.mark.parametrize("digit", [FIVE_HAT, SEVEN_BAR, FOUR_OPEN], ids=["5 hat", "7 bar", "open 4"])
def test_a_digit_of_two_strokes_is_read_whole_beside_close_neighbours(rec, digit):
    ink, flat, boxes = written([ONE, digit, TWO], gaps=(0.02, 0.02))
    body = rec.predict(ink, flat)
    assert covers(found(rec, ink, flat), boxes)
    assert body["number"][1] == str({id(FIVE_HAT): 5, id(SEVEN_BAR): 7, id(FOUR_OPEN): 4}[id(digit)])


@pytest.mark.parametrize(
    "digit, label", [(FIVE_HAT, 5), (SEVEN_BAR, 7), (FOUR_CROSSED, 4), (FOUR_APART, 4)], ids=["5", "7", "4", "open 4"]
)
def test_a_stroke_added_to_a_digit_once_the_number_is_written_joins_it_again(rec, digit, label):
    """A 5's hat, a 7's bar or a 4's stem drawn last, after the digits that follow it: one digit all the same."""
    ink, flat, boxes = written([digit, ZERO, TWO], gaps=(0.2, 0.3))
    later = flat[:1] + flat[2:] + flat[1:2]
    assert covers(found(rec, ink, later), boxes)
    assert rec.predict(ink, later)["number"] == f"{label}02"


@BOTH_WAYS
def test_an_open_4_whose_stem_stands_clear_is_one_digit_not_two(rec, given):
    """Its two halves side by side read as a 6 and a 1, but digits of one number are about as tall as each other."""
    ink, flat, boxes = written([TWO, FOUR_APART, ZERO], gaps=(0.3, 0.3))
    assert covers(found(rec, ink, flat if given else None), boxes)


def test_strokes_that_overlap_more_than_neighbouring_digits_do_cost_more_apart():
    """Neighbouring digits overlap by a sliver at most: pieces drawn one after the other that overlap more (a bar
    across a stroke drawn before it) cost SPLIT more as two digits than the same pieces a sliver apart."""
    layout = segment.Layout(height=100.0, slope=0.0, middle=50.0)

    def costs(second_left):
        first = segment.Piece((0, 0, 60, 100), np.ones((100, 60), dtype=bool), 0.0, 60.0)  # upright: lo, hi are x
        second = segment.Piece(
            (second_left, 0, second_left + 30, 100), np.ones((100, 30), dtype=bool), second_left, second_left + 30.0
        )
        found = segment.candidates([first, second], layout)
        return found[(0, 1)] + found[(1, 2)]

    assert costs(20) - costs(55) == pytest.approx(segment.SPLIT)


def test_touching_digits_drawn_as_separate_strokes_come_apart(rec):
    ink, flat, boxes = written([ZERO, TWO, ZERO], gaps=(-0.05, -0.05))
    parts, _ = segment.components(ink)
    assert len(parts) < 3  # neighbours' ink meets ...
    assert covers(found(rec, ink, flat), boxes)  # ... their strokes are three digits
    assert rec.predict(ink, flat)["number"] == "020"


def test_one_stroke_through_two_digits_is_cut(rec):
    ink, flat, boxes = written([TWO, ZERO], gaps=(0.05, 0.05))
    through = [flat[0] + flat[1]]  # the pen went on from the 2 to the 0 without lifting
    ink = render.strokes_to_ink(through, render.WIDE_PAD[1] / 14, render.WIDE_PAD[1], render.WIDE_PAD[0])
    pieces, _ = strokes.pieces(ink, through)
    assert len(pieces) >= 2  # the one stroke falls into pieces ...
    two, zero = found(rec, ink, through)  # ... regrouped as two digits, the 2 first
    assert two.box[0] < boxes[0][2] <= zero.box[2] and two.box[2] < zero.box[2]
    assert rec.predict(ink, through)["number"] == "20"


def test_a_speck_between_digits_is_left_out_and_one_inside_a_digit_stays(rec):
    ink, flat, boxes = written([TWO, ZERO], gaps=(0.6, 0.6))
    between = (boxes[0][2] + boxes[1][0]) / 2
    inside = ((boxes[1][0] + boxes[1][2]) / 2, (boxes[1][1] + boxes[1][3]) / 2)
    dots = [[[between, 150.0]], [list(inside)]]  # a dot in the gap, a dot in the 0's hole
    pen = render.WIDE_PAD[1] / 14
    ink = render.strokes_to_ink(flat + dots, pen, render.WIDE_PAD[1], render.WIDE_PAD[0])
    for given in (None, flat + dots):
        two, zero = found(rec, ink, given)
        assert not any(f.box[0] <= between < f.box[2] for f in (two, zero))
        left, top = zero.box[:2]
        assert zero.ink[int(inside[1]) - top, int(inside[0]) - left] > 0.5


def punctuated(digits, mark, after, seed=0, gaps=(0.4, 0.4)):
    """(the wide pad's ink for digits written with a point, a comma or a hyphen after digit `after`, its strokes,
    each digit's box)."""
    laid, pen, boxes = render.compose_number(digits, np.random.default_rng(seed), gaps=gaps)
    flat = render.punctuated(laid, boxes, pen, after, mark)
    return render.strokes_to_ink(flat, pen, render.WIDE_PAD[1], render.WIDE_PAD[0]), flat, boxes


@BOTH_WAYS
@pytest.mark.parametrize("mark, after", [("comma", 0), ("point", 2), ("hyphen", 1)])
def test_a_comma_a_point_or_a_hyphen_is_left_out_of_the_number(rec, mark, after, given):
    ink, flat, boxes = punctuated([ONE, TWO, FIVE_HAT, ZERO], mark, after)
    digits = found(rec, ink, flat if given else None)
    assert covers(digits, boxes)
    assert rec.predict(ink, flat if given else None)["number"] == "1250"


@pytest.mark.parametrize("mark", ["comma", "point", "hyphen"])
def test_real_writers_numbers_with_punctuation_are_counted_right_both_ways(rec, mark):
    """A thousands comma, a decimal point or a hyphen between two of a held-out writer's digits is not a digit
    (each joined a digit or became one)."""
    counted = {"image alone": 0, "with strokes": 0}
    for picks, rng in held_out_numbers(40):
        after = int(rng.integers(len(picks) - 1))
        gaps = [(0.4, 0.8) if k == after else (0.15, 0.5) for k in range(len(picks) - 1)]  # room left for the mark
        ink, flat, boxes = punctuated(picks, mark, after, int(rng.integers(1 << 30)), gaps)
        counted["image alone"] += covers(found(rec, ink), boxes)
        counted["with strokes"] += covers(found(rec, ink, flat), boxes)
    assert min(counted.values()) >= 37, counted


@BOTH_WAYS
def test_each_digit_keeps_only_its_own_ink(rec, given):
    ink, flat, _ = written([TWO, ZERO, ONE], gaps=(0.3, 0.3))
    digits = found(rec, ink, flat if given else None)
    assert len(digits) == 3
    assert np.isclose(sum(f.ink.sum() for f in digits), ink.sum(), rtol=0.02)


def test_slanted_writing_is_cut_along_its_slant(rec):
    """Leaning digits whose boxes overlap are still told apart: columns are measured along the slant."""
    lean = [[[(x + 0.45 * (100 - y), y) for x, y in stroke] for stroke in digit] for digit in (ONE, SEVEN_BAR, ONE)]
    ink, flat, boxes = written(lean, gaps=(-0.1, -0.1))
    assert boxes[0][2] > boxes[1][0]  # the boxes overlap ...
    assert covers(found(rec, ink, flat), boxes)  # ... the digits do not


def test_the_image_path_cuts_touching_digits_into_pieces_the_models_regroup(rec):
    ink, _, boxes = written([ZERO, ZERO], gaps=(-0.05, -0.05))
    pieces, layout = segment.pieces(ink)
    assert len(segment.components(ink)[0]) == 1 and len(pieces) >= 2  # one part, cut into pieces
    assert sum(int(p.mask.sum()) for p in pieces) == int((ink > segment.FAINT).sum())  # every pixel in one piece
    assert covers(found(rec, ink), boxes)


def test_one_digit_comes_whole_both_ways(rec, strokes):
    for sample in strokes[:30]:
        ink = render.strokes_to_ink(sample["strokes"], sample["width"])
        for given in (None, sample["strokes"]):
            (digit,) = found(rec, ink, given)
            top, bottom, left, right = ink_box(ink)
            assert digit.box == (left, top, right, bottom) and digit.ink.base is ink


def test_reading_skips_finding_strokes_only_where_it_changes_nothing(rec, strokes, monkeypatch):
    """One-part drawings `strokes.one_digit` lets through whole (one uncut stroke, or strokes `together` joins): the
    /predict body is the same as when every stroke's ink is found; other drawings are not let through."""
    skipped = {ONE_STROKE: 0, MANY: 0}
    cases = [(render.strokes_to_ink(s["strokes"], s["width"]), s["strokes"]) for s in strokes[:80]]
    digits = [[FOUR_CROSSED], [SEVEN_BAR], [ZERO], [TWO], [ONE, ZERO], [ONE, TWO], [ONE, FOUR_CROSSED]]
    cases += [written(number, gaps=(-0.05, -0.05))[:2] for number in digits]  # numbers of two touching digits too
    for ink, given in cases:
        parts, layout = segment.components(ink)
        if reader.strokes_module.one_digit(parts, layout, len(given)):
            skipped[ONE_STROKE if len(given) == 1 else MANY] += 1
            fast = rec.predict(ink, given)
            with monkeypatch.context() as patch:
                patch.setattr(reader.strokes_module, "one_digit", lambda *_: False)
                assert rec.predict(ink, given) == fast
    assert skipped[ONE_STROKE] >= 5 and skipped[MANY] >= 5
    two = written([ZERO, ZERO], gaps=(-0.1, -0.1))[0]  # two 0s touching: one part, two strokes, too wide to skip
    assert len(segment.components(two)[0]) == 1 and not reader.strokes_module.one_digit(*segment.components(two), 2)


def test_strokes_that_did_not_draw_the_ink_leave_it_to_the_image(rec):
    ink, _, boxes = written([TWO, ZERO], gaps=(0.3, 0.3))
    assert strokes.pieces(ink, [[[5.0, 5.0], [20.0, 5.0]]]) is None
    assert covers(found(rec, ink, [[[5.0, 5.0], [20.0, 5.0]]]), boxes)


def test_a_blank_drawing_has_no_digits(rec):
    with pytest.raises(BlankDrawing):
        rec.predict(np.zeros((280, 840), dtype=np.float32))


def test_a_scatter_of_many_parts_is_not_a_number(rec):
    ink = np.zeros((280, 1000), dtype=np.float32)
    for k in range(segment.MAX_DIGITS + 8):
        ink[100:180, 10 + 24 * k : 16 + 24 * k] = 1.0
    with pytest.raises(segment.TooManyParts):
        segment.pieces(ink)
    body = rec.predict(ink)
    assert body["digits"] == [] and body["number"] is None and "separate parts" in body["message"]


def test_a_box_names_its_digit_and_its_strokes_alone(rec):
    ink, flat, _ = written([FIVE_HAT, ZERO], gaps=(0.3, 0.3))
    five, zero = found(rec, ink, flat)
    state = rec.current()
    np.testing.assert_array_equal(rec.reader.digit_in(ink, five.box, state, flat).ink, five.ink)
    np.testing.assert_array_equal(rec.reader.digit_in(ink, zero.box, state).ink, zero.ink)
    left, top, right, bottom = zero.box
    wider = (left - 30, top, right, bottom)  # not a found digit: what the box holds
    np.testing.assert_array_equal(rec.reader.digit_in(ink, wider, state).ink, ink[top:bottom, left - 30 : right])
    with pytest.raises(BlankDrawing):
        rec.reader.digit_in(ink, (0, 0, 10, 10), state)


@pytest.mark.parametrize("share_later", [0.0, 1.0], ids=["as drawn", "last strokes later"])
@pytest.mark.parametrize("spacing", [(0.15, 0.5), (-0.05, 0.12)], ids=["apart", "close"])
def test_real_writers_numbers_are_counted_right_from_their_strokes(rec, spacing, share_later):
    """Numbers of 2-5 digits from the pen sets' held-out writers (each number one writer's own digits), their
    strokes as drawn, or with each digit's last stroke drawn after the rest of the number."""
    right = 0
    for picks, rng in held_out_numbers(40):
        ink, laid, boxes = laid_out(picks, int(rng.integers(1 << 30)), gaps=spacing)
        right += covers(found(rec, ink, render.added_later(laid, rng, share_later)), boxes)
    assert right >= 37


@pytest.mark.parametrize("spacing, least", [((0.15, 0.5), 39), ((-0.05, 0.12), 37)], ids=["apart", "close"])
def test_real_writers_numbers_on_a_rising_line_are_counted_right_both_ways(rec, spacing, least):
    """A line rising 15 degrees spans far more rows than its digits: the line's height is its digits' all the same."""
    turn = np.deg2rad(15)
    rotation = np.array([[np.cos(turn), np.sin(turn)], [-np.sin(turn), np.cos(turn)]])
    middle = np.array(render.WIDE_PAD) / 2
    counted = {"image alone": 0, "with strokes": 0}
    for picks, rng in held_out_numbers(40):
        _, flat, _ = written(picks, int(rng.integers(1 << 30)), gaps=spacing, heights=(0.3, 0.45))
        rising = [((np.asarray(stroke) - middle) @ rotation + middle).tolist() for stroke in flat]
        ink = render.strokes_to_ink(rising, render.WIDE_PAD[1] / 14, render.WIDE_PAD[1], render.WIDE_PAD[0])
        counted["image alone"] += len(found(rec, ink)) == len(picks)
        counted["with strokes"] += len(found(rec, ink, rising)) == len(picks)
    assert min(counted.values()) >= least, counted


def held_out_numbers(count, seed=5):
    """`count` numbers of 2-5 digits' strokes, each number one held-out writer's own digits (of a pen set's
    held-out writers with 5 digits or more), with the generator that drew them."""
    rng = np.random.default_rng(seed)
    writers = {}
    for name in data.PEN_SETS:
        for pen in data.pen_split(name)[1]:
            writers.setdefault((name, pen["writer"]), []).append(pen)
    groups = [group for group in writers.values() if len(group) >= 5]
    for _ in range(count):
        group = groups[int(rng.integers(len(groups)))]
        yield [group[i]["strokes"] for i in rng.choice(len(group), int(rng.integers(2, 6)), replace=False)], rng


@pytest.mark.parametrize("index", [6554, 7024, 7030])
def test_a_drawing_whose_later_groups_are_all_too_faint_still_reads(rec, index):
    """MNIST test digits (as canvas images) whose grouping comes to groups of faint ink alone: none is read, and
    the digit is."""
    _, _, x_test, y_test = data.load_mnist()
    body = rec.predict(render.mnist_to_canvas(x_test[index]))
    assert body["number"] == str(y_test[index]) == str(body["answer"])


def test_reading_the_likeliest_groups_first_chooses_what_reading_every_group_would(rec, monkeypatch):
    """Groups are read lazily (the likeliest by shape first, others only when the grouping comes to them): the
    digits found are those that reading every candidate group gives, from fewer images."""
    rng = np.random.default_rng(11)
    pens = data.held_out_pens()
    state = rec.current()
    read_lazily = read_all = 0
    groups = rec.reader.groups

    def counted(ink, found, spans, state, whole=None):
        nonlocal read_lazily
        read_lazily += len(spans)
        return groups(ink, found, spans, state, whole)

    for _ in range(12):
        picks = [pens[i]["strokes"] for i in rng.choice(len(pens), int(rng.integers(2, 6)), replace=False)]
        ink, flat, _ = written(picks, int(rng.integers(1 << 30)), gaps=(-0.05, 0.3))
        for given in (None, flat):
            monkeypatch.setattr(rec.reader, "groups", counted)
            lazily = [digit.box for digit in found(rec, ink, given)]
            monkeypatch.undo()
            pieces, layout = strokes.pieces(ink, given) if given else segment.pieces(ink)
            costs = segment.candidates(pieces, layout)
            everything = groups(ink, pieces, list(costs), state)[0]
            read_all += len(costs)
            scores = {span: reader.confidence(everything[span]) - cost for span, cost in costs.items()}
            chosen = [everything[span] for span in segment.best(len(pieces), scores) if everything[span] is not None]
            expected = [entry[0].box for entry in sorted(chosen, key=lambda e: e[0].box[0] + e[0].box[2])]
            assert lazily == expected or (len(expected) == 1 and len(lazily) == 1)
    assert read_lazily < read_all / 2


def flood_parts(mask):
    """The 8-connected parts of a small mask as sets of (row, col), found the slow, obvious way."""
    unseen, parts = set(zip(*np.nonzero(mask))), []
    while unseen:
        todo, part = [unseen.pop()], set()
        while todo:
            r, c = todo.pop()
            part.add((r, c))
            near = {(r + dr, c + dc) for dr in (-1, 0, 1) for dc in (-1, 0, 1)} & unseen
            unseen -= near
            todo += near
        parts.append(part)
    return parts


@pytest.mark.parametrize("seed", range(5))
def test_the_parts_of_a_drawing_are_its_8_connected_ink(seed):
    """Each part holds one 8-connected set of inked pixels, with its box and its extent along the slant."""
    rng = np.random.default_rng(seed)
    ink = (rng.random((40, 60)) > 0.75).astype(np.float32)  # many parts, some touching only at a corner
    parts, layout = segment.components(ink)
    expected = sorted(sorted(part) for part in flood_parts(ink > segment.FAINT))
    got = []
    for p in parts:
        rows, cols = np.nonzero(p.mask)
        rows, cols = rows + p.box[1], cols + p.box[0]
        assert (p.box[1], p.box[3], p.box[0], p.box[2]) == (rows.min(), rows.max() + 1, cols.min(), cols.max() + 1)
        slanted = layout.columns(rows, cols)
        assert (p.lo, p.hi) == (slanted.min(), slanted.max() + 1)
        got.append(sorted(zip(rows.tolist(), cols.tolist())))
    assert sorted(got) == expected


def test_runs_split_where_the_label_changes():
    """A stroke's pixels end where another stroke's begin, on one row of ink."""
    row, start, end, value = segment.runs(np.array([[1, 1, 2, 0, 2], [0, 3, 3, 3, 0]]))
    assert list(zip(row, start, end, value)) == [(0, 0, 2, 1), (0, 2, 3, 2), (0, 4, 5, 2), (1, 1, 4, 3)]
