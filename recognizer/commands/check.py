"""Verify every stored object and list the damage: `python -m recognizer.commands.check [--repair]` (STORE_URL's store).

Checks the pointer, every model version against the sha256 its key names, that every drawing decodes, that every
queued correction can be read, and that the drawing counters say how many drawings of each digit are stored. With
--repair it moves the pointer to the newest intact version by compare-and-swap, as a worker would, deletes the queue
entries that cannot be read, and sets the counters to the drawings listed (run it while no drawings come in: one
stored during the listing would be counted twice).
Also lists the damage workers found and repaired within PROBLEMS_KEPT_SECONDS (as /health does), which does
not count as a problem left. Exits 0 when nothing is damaged (or all of it was repaired), 1 otherwise.
"""

import argparse
import os
import sys
import time

from recognizer.reading.images import ImageError
from recognizer.state import problems, queue
from recognizer.state.drawings import counter_key, counts, listed_counts, set_counter, stored_drawings
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
    found += [f"{key} cannot be read as a queued correction" for key in unreadable_queued(store)]
    return found + miscounted(store)


def unreadable_queued(store):
    """The queue entries no worker can learn (their drawings are kept: a rebuild learns them)."""
    found = []
    for key in store.keys(queue.PREFIX):
        try:
            queue.read(store, key)
        except KeyError:
            pass  # learned and removed while listed
        except Exception:  # noqa: BLE001 - whatever the bytes are, they are not an entry
            found.append(key)
    return found


def miscounted(store):
    """The drawing counters that do not say how many drawings of their digit are stored, one line each."""
    stored, counted = listed_counts(store), counts(store)
    return [
        f"{counter_key(digit)} counts {counted[digit]} drawings of {digit}, {stored[digit]} are stored"
        for digit in stored
        if counted[digit] != stored[digit]
    ]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--repair", action="store_true", help="move the pointer to the newest intact version, set the counters"
    )
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
        counted = counts(store)
        for digit, stored in listed_counts(store).items():
            if counted[digit] != stored:
                set_counter(store, digit, lambda counter, stored=stored: {**counter, "count": stored})
                print(f"repair: {counter_key(digit)} set to {stored}")
        unreadable = unreadable_queued(store)
        store.delete_many(unreadable)
        for key in unreadable:
            print(f"repair: {key} deleted")
        found = [line for line in damage(store) if not line.startswith(POINTER)]
    print(f"{url}: {len(found) or 'no'} problem(s) {'left' if args.repair else 'found'}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
