"""Group commit: one background thread learns every correction queued since its last update, in one update."""

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
    """Calls `apply(items) -> [result or exception per item]` on the items queued so far, in a thread of its own
    started at the first item; `submit` waits for its item's result. Requests thus never learn in their own
    thread, and a busy server pays one update (and one stored version) for many corrections."""

    def __init__(self, apply, most=MOST):
        self.apply = apply
        self.most = most
        self._queued = []
        self._ready = threading.Condition()
        self._thread = None

    def submit(self, item):
        """`item`'s result once a group with it was applied; raises the exception it met."""
        done = Future()
        with self._ready:
            self._queued.append((item, done))
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
        while True:
            with self._ready:
                self._ready.wait_for(lambda: self._queued)
                group, self._queued = self._queued[: self.most], self._queued[self.most :]
            try:
                results = self.apply([item for item, _ in group])
            except BaseException as error:  # noqa: BLE001 - whatever it was, every waiting request hears of it
                results = [error] * len(group)
            for (_, done), result in zip(group, results):
                if isinstance(result, BaseException):
                    done.set_exception(result)
                else:
                    done.set_result(result)
