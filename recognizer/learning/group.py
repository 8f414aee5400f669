"""Group commit: one background thread per worker learns, round after round, until each correction waiting in
this worker is settled; one update learns many corrections."""

import logging
import os
import threading
from concurrent.futures import Future

# The learning thread's niceness: the CPU goes to the requests being read first. On a machine shared with other
# busy programs a niced thread gets little of it, and LEARNING_NICE=0 learns at their priority.
NICE = int(os.environ.get("LEARNING_NICE", "10"))
MOST = 32  # corrections in one update at most, so that none waits behind an endless group

log = logging.getLogger(__name__)


class GroupCommit:
    """Calls `apply(items) -> ([result, exception or None (not settled yet) per item], more)` with every item
    waiting, in a thread of its own started at the first item, round after round while any waits or `more` says
    there is more to learn for others; `submit` waits for its item's result. Requests thus never learn in their
    own thread, and a busy server pays one update (and one stored version) for many corrections."""

    def __init__(self, apply):
        self.apply = apply
        self._waiting = []
        self._ready = threading.Condition()
        self._thread = None

    def submit(self, item):
        """`item`'s result once a round settled it; raises the exception it met."""
        done = Future()
        with self._ready:
            self._waiting.append((item, done))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="learning", daemon=True)
                self._thread.start()
            self._ready.notify()
        return done.result()

    def _run(self):
        try:  # Linux: a thread's own niceness
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), NICE)
        except (AttributeError, OSError) as error:
            log.info("learning at the requests' priority: %s", error)
        more = False
        while True:
            with self._ready:
                if not more:
                    self._ready.wait_for(lambda: self._waiting)
                group = list(self._waiting)
            try:
                results, more = self.apply([item for item, _ in group])
            except BaseException as error:  # noqa: BLE001 - whatever it was, every waiting request hears of it
                results, more = [error] * len(group), False
            settled = [(done, result) for (_, done), result in zip(group, results) if result is not None]
            finished = {done for done, _ in settled}
            with self._ready:
                self._waiting = [entry for entry in self._waiting if entry[1] not in finished]
            for done, result in settled:
                if isinstance(result, BaseException):
                    done.set_exception(result)
                else:
                    done.set_result(result)
