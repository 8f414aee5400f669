"""Verify every stored object and list the damage: `python -m recognizer.commands.check [--repair]` (STORE_URL's store).

Checks the pointer, every model version against the sha256 its key names, and that every drawing decodes.
With --repair it moves the pointer to the newest intact version by compare-and-swap, as a worker would.
Also lists the damage workers found and repaired within PROBLEMS_KEPT_SECONDS (as /health does), which does
not count as a problem left. Exits 0 when nothing is damaged (or all of it was repaired), 1 otherwise.
"""

import argparse
import os
import sys
import time

from recognizer.reading.images import ImageError
from recognizer.state import problems
from recognizer.state.drawings import stored_drawings
from recognizer.state.store import open_store, url_from_environment
from recognizer.state.versions import POINTER, Damaged, ModelVersions, read_pointer


def damage(store):
    """What is wrong in the store, one line each (empty: nothing)."""
    versions = ModelVersions(store, None)
    found, intact = [], set()
    for _, _, key in versions.stored_versions():
        try:
            versions.read_version(key)
            intact.add(key)
        except Damaged as error:
            found.append(str(error))
        except KeyError:
            pass  # pruned while listed
    try:
        pointer = read_pointer(store.get(POINTER)[0])
        if pointer["key"] not in intact:
            found.append(f"{POINTER} names {pointer['key']}, which is missing or damaged")
    except KeyError:
        if intact:
            found.append(f"{POINTER} is missing")
    except Damaged as error:
        found.append(str(error))
    for drawing in stored_drawings(store):
        try:
            drawing.ink(store)
        except (ImageError, KeyError) as error:
            found.append(f"{drawing.key} cannot be read as a drawing: {error}")
    return found


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repair", action="store_true", help="move the pointer to the newest intact version")
    args = parser.parse_args(argv)
    url = url_from_environment()
    store = open_store(url)
    kept = float(os.environ.get("PROBLEMS_KEPT_SECONDS", problems.KEPT_SECONDS))
    for line in problems.recent(store, time.time(), kept):
        print(f"found earlier: {line}")
    found = damage(store)
    for line in found:
        print(f"damaged: {line}")
    if found and args.repair:
        versions = ModelVersions(store, None)
        versions.refresh()
        for line in versions.problems:
            print(f"repair: {line}")
        found = [line for line in damage(store) if not line.startswith(POINTER)]
    print(f"{url}: {len(found) or 'no'} problem(s) {'left' if args.repair else 'found'}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
