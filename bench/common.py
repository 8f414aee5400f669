"""Shared set-up for the benchmarks: the recognizer on a throw-away local store, and table printing."""

import atexit
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from recognizer.nets import weights  # noqa: E402
from recognizer.service import Recognizer  # noqa: E402
from recognizer.state.store import LocalStore  # noqa: E402


def recognizer(seed=0):
    """A Recognizer with the shipped models on a fresh temporary store, removed when the benchmark exits."""
    folder = tempfile.mkdtemp(prefix="bench-store-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return Recognizer(LocalStore(folder), weights.SHIPPED, seed=seed)


def table(headers, rows):
    """Print rows as an aligned Markdown table."""
    cells = [headers] + [[c if isinstance(c, str) else f"{c}" for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    line = lambda row: "| " + " | ".join(c.ljust(w) for c, w in zip(row, widths)) + " |"
    print(line(cells[0]))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in cells[1:]:
        print(line(row))
