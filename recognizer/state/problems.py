"""Damage found in the store, remembered in the store itself: problems/<digest>.json, one object per problem.

A worker that finds damage repairs it at once, so the damage is gone from the pointer within a second; the record
stays, for every worker and across restarts, until an admin clears it or it is older than the time kept (24 h
unless PROBLEMS_KEPT_SECONDS says otherwise), so an operator who looks later still sees what was found and done.
"""

import datetime
import hashlib
import json
import logging

from recognizer.state.store import StoreUnavailable

PREFIX = "problems/"
KEPT_SECONDS = 24 * 3600
log = logging.getLogger(__name__)


def remember(store, lines, now):
    """Record `lines` (what was found, then what was done) found at `now` (epoch seconds); the same damage found
    by several workers is recorded once, by the first. A store too broken to take the record is only logged."""
    key = f"{PREFIX}{hashlib.sha256(lines[0].encode()).hexdigest()[:24]}.json"
    record = {"found": now, "problem": lines[0], "done": list(lines[1:])}
    try:
        store.put_new(key, json.dumps(record).encode())
    except FileExistsError:
        pass
    except StoreUnavailable as error:
        log.warning("could not record the damage found: %s", error)


def recorded(store):
    """Every remembered problem, oldest first: (key, record)."""
    found = []
    for key in store.keys(PREFIX):
        try:
            found.append((key, json.loads(store.get(key)[0])))
        except (KeyError, ValueError):
            continue  # cleared while listed, or not a record this code wrote
    return sorted(found, key=lambda item: item[1].get("found", 0))


def recent(store, now, kept_seconds=KEPT_SECONDS):
    """The problems found within `kept_seconds` before `now`, one line each: when, what, and what was done."""
    return [
        f"{stamp(record['found'])}: {record['problem']}" + "".join(f"; {line}" for line in record["done"])
        for _, record in recorded(store)
        if record.get("found", 0) >= now - kept_seconds
    ]


def clear(store):
    """Forget every remembered problem; returns how many there were."""
    keys = [key for key, _ in recorded(store)]
    store.delete_many(keys)
    return len(keys)


def stamp(seconds):
    return datetime.datetime.fromtimestamp(seconds, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
