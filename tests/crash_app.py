"""`gunicorn crash_app:app`: the app, whose worker is SIGKILLed once, at the step of /train that CRASH_AT names.

CRASH_MARKER is a file that the dying worker writes first, so the worker started in its place lives on.
"""

import os
import signal
from pathlib import Path

from app import app
from recognizer.state.versions import POINTER

store = app.extensions["recognizer"].store  # the one object the recognizer and its versions write through
marker = Path(os.environ["CRASH_MARKER"])
step = os.environ["CRASH_AT"]  # one of test_faults.STEPS


def crash(at):
    if at == step and not marker.exists():
        marker.write_text(step)
        os.kill(os.getpid(), signal.SIGKILL)


put_new, swap = store.put_new, store.swap


def put_new_then_crash(key, data):
    put_new(key, data)
    if key.startswith("drawings/") and key.endswith(".png"):
        crash("drawing stored")
    elif key.startswith("models/"):
        crash("version written")
    elif key.endswith("/answer.json"):
        crash("answer kept")


def swap_around_a_crash(key, data, etag):
    if key == POINTER:
        crash("before the swap")
    swapped = swap(key, data, etag)
    if key == POINTER and swapped:
        crash("pointer swapped")
    return swapped


store.put_new, store.swap = put_new_then_crash, swap_around_a_crash
