"""Reading written numbers: whole numbers, digit counts and digits right, from the image alone and with its strokes.

Run from the repository root: `python bench/numbers.py [--numbers 300] [--writers held-out] [--digits 2 5]`.
Numbers of 2-5 digits (or as many as --digits says) are written on the page's wide pad (840x280, its pen) from
real pen digits no model trained on: the held-out writers of UJI, UNIPEN and pendigits (each number from one
writer's own digits) and the dev strokes, a quarter of the numbers from each. Each number's height, each digit's
height (within 15%) and its baseline (within 6% of the height) vary; the blank between digits is 0.15-0.5 of the
height ("apart") or from a slight overlap to 0.12 of it ("close", where neighbours often touch). Every number is
read three times through Recognizer.predict, as /predict reads it: from the image alone, with the strokes it was
drawn with, and with them in the order of a writer who adds a digit's last stroke (a 5's hat, a 7's bar) after
the rest of the number half the time; numbers written apart are read twice more, from the image alone and with
its strokes, written again with a point, a comma or a hyphen after one of their digits (a decimal point, a
thousands comma, a telephone number's hyphen, 0.1-0.3 of the height long, in a blank of 0.4-0.8), which is not a
digit of the number. Digits right counts positions over the numbers whose digit count came out right.
Single digits: the same writers' digits drawn alone on the square pad at any size and pen, read as one-digit
numbers. `--writers training` measures the pen sets' training writers instead, which is where the
segmentation's costs are tuned.
"""

import sys

if __name__ != "__main__":
    # Scripts in bench/ have this folder first on their path, so `import numbers` (numpy's) finds this file:
    # it puts the standard library's module in its place, and is otherwise only ever run as a script.
    import importlib.util
    import sysconfig
    from pathlib import Path

    _spec = importlib.util.spec_from_file_location("numbers", Path(sysconfig.get_path("stdlib")) / "numbers.py")
    sys.modules["numbers"] = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(sys.modules["numbers"])
else:
    import argparse
    import time

    import numpy as np

    from common import recognizer, table  # (importing common puts the repository on sys.path)
    from recognizer.training import data, render
    from recognizer.training.render import WIDE_PAD, added_later, compose_number, punctuated, strokes_to_ink

SPACINGS = {"apart": (0.15, 0.5), "close": (-0.05, 0.12)}  # the blank between digits, as a share of their height
LENGTHS = (2, 5)  # numbers of 2-5 digits (--digits)
MARKS = ("point", "comma", "hyphen")
ROOM = (0.4, 0.8)  # the blank punctuation is written in


def sources(writers, longest=LENGTHS[1]):
    """(name, digit groups to draw numbers from): each pen set's writers one by one (those with `longest` digits
    or more), and the dev strokes."""
    out = []
    for name in data.PEN_SETS:
        training, held_out = data.pen_split(name)
        by_writer = {}
        for pen in held_out if writers == "held-out" else training:
            by_writer.setdefault(pen["writer"], []).append(pen)
        out.append((name, [group for group in by_writer.values() if len(group) >= longest]))
    out.append(("dev strokes", [data.load_strokes()]))
    return out


def written(picks, rng, gaps):
    """(the number's ink on the wide pad, its strokes in the pad's pixels, each digit's strokes)."""
    digits, pen, _ = compose_number([p["strokes"] for p in picks], rng, gaps=gaps)
    strokes = [stroke for digit in digits for stroke in digit]
    return strokes_to_ink(strokes, pen, WIDE_PAD[1], WIDE_PAD[0]), strokes, digits


def punctuated_number(picks, rng):
    """(the ink, the strokes) of the number written apart with a point, a comma or a hyphen after one of its
    digits, in a wider blank left for it."""
    after = int(rng.integers(len(picks) - 1))
    gaps = [ROOM if k == after else SPACINGS["apart"] for k in range(len(picks) - 1)]
    digits, pen, boxes = compose_number([p["strokes"] for p in picks], rng, gaps=gaps)
    mark = str(rng.choice(MARKS))
    strokes = punctuated(digits, boxes, pen, after, mark, rng.uniform(0.1, 0.3), rng.uniform(0.3, 0.7))
    return strokes_to_ink(strokes, pen, WIDE_PAD[1], WIDE_PAD[0]), strokes


def score(body, labels):
    """[numbers, whole number right, digit count right, digits right, digits in numbers counted right]."""
    read = [d["answer"] for d in body["digits"]]
    counted = len(read) == len(labels)
    right = sum(r == label for r, label in zip(read, labels)) if counted else 0
    return np.array([1, body["number"] == "".join(map(str, labels)), counted, right, len(labels) if counted else 0])


def shares(totals):
    """A score as the table's cells."""
    n, whole, count, right, seen = totals
    return [str(int(n)), f"{whole / n:.1%}", f"{count / n:.1%}", f"{right / max(seen, 1):.1%}"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--numbers", type=int, default=300, help="numbers per spacing (a quarter from each source)")
    parser.add_argument("--singles", type=int, default=400, help="single digits (a quarter from each source)")
    parser.add_argument("--writers", choices=("held-out", "training"), default="held-out")
    parser.add_argument(
        "--digits", type=int, nargs=2, default=LENGTHS, metavar=("FEWEST", "MOST"), help="digits a number (2 5)"
    )
    args = parser.parse_args()
    rec = recognizer()
    rng, late_rng, mark_rng = (np.random.default_rng(seed) for seed in (2026, 2027, 2028))
    totals, rows, singles = {}, [], []
    started = time.perf_counter()
    fewest, most = args.digits
    for name, groups in sources(args.writers, most):
        for spacing, gaps in SPACINGS.items():
            for _ in range(args.numbers // 4):
                group = groups[int(rng.integers(len(groups)))]
                picks = [group[i] for i in rng.choice(len(group), int(rng.integers(fewest, most + 1)), replace=False)]
                ink, strokes, digits = written(picks, rng, gaps)
                labels = [p["label"] for p in picks]
                late = added_later(digits, late_rng)
                ways = [("image alone", ink, None), ("with strokes", ink, strokes), ("strokes, some later", ink, late)]
                if spacing == "apart":
                    marked, marks = punctuated_number(picks, mark_rng)
                    ways += [("image, with punctuation", marked, None), ("strokes, with punctuation", marked, marks)]
                for way, drawn, given in ways:
                    for key in ((name, spacing, way), ("all", spacing, way)):
                        totals[key] = totals.get(key, 0) + score(rec.predict(drawn, given), labels)
        pens = [p for group in groups for p in group]
        for index in rng.choice(len(pens), args.singles // 4, replace=False):
            width = render.PAGE_PEN * rng.choice(render.PENS)
            placed = render.place_strokes(pens[index]["strokes"], rng, width)
            singles.append((render.strokes_to_ink(placed, width), placed, pens[index]["label"]))
    rows = [[*key, *shares(total)] for key, total in sorted(totals.items(), key=lambda item: item[0][0] == "all")]
    table(
        ["digits from", "spacing", "read from", "numbers", "whole number right", "digit count right", "digits right"],
        rows,
    )
    print()
    rows = []
    for way in ("image alone", "with strokes"):
        read = [rec.predict(ink, placed if way == "with strokes" else None) for ink, placed, _ in singles]
        one = sum(len(body["digits"]) == 1 for body in read)
        right = sum(body["number"] == str(label) for body, (_, _, label) in zip(read, singles))
        rows.append([way, str(len(singles)), f"{one / len(singles):.1%}", f"{right / len(singles):.1%}"])
    table(["single digits, read from", "drawings", "one-digit number", "number right"], rows)
    print(f"\n{args.writers} writers; {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
