"""Per-client rate limits on the routes that write (/train, /samples), shared by every worker on a machine.

flask-limiter's `memory://` storage lives inside one process, so under `gunicorn -w 4` a client would get four
times its limit. The default here is `sqlite:///<abs file>`: a small `limits` storage on a SQLite file (WAL mode,
one short write transaction per hit), which all workers and threads on one machine share without any server.
Several machines (dynos) need a shared server instead: set RATELIMIT_STORAGE_URI=redis://host:6379 (with the
`redis` package installed); `memory://` is still accepted for a single process.
"""

import os
import random
import sqlite3
import threading
import time
from contextlib import closing, contextmanager
from pathlib import Path
from urllib.parse import unquote, urlparse

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits.storage import Storage

ROOT = Path(__file__).resolve().parents[1]

limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=True)


def default_storage_uri(store_url):
    """Next to a local store (so each store, e.g. each test's, has its own limits); else under <repo>/tmp/."""
    parsed = urlparse(store_url or "")
    if parsed.scheme == "file" and parsed.path:
        store = Path(unquote(parsed.path))
        return f"sqlite://{store.parent / (store.name + '-ratelimits.sqlite')}"
    return f"sqlite://{ROOT / 'tmp' / 'ratelimits.sqlite'}"


def init_app(app):
    """Attach the limiter, defaulting RATELIMIT_STORAGE_URI to a SQLite file shared by the app's workers.
    A failing limit storage lets requests through (logged) rather than answering 500."""
    app.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    if not app.config.get("RATELIMIT_STORAGE_URI"):
        app.config["RATELIMIT_STORAGE_URI"] = default_storage_uri(app.config.get("STORE_URL"))
    limiter.init_app(app)


class SQLiteStorage(Storage):
    """A `limits` storage in one SQLite file: counters with an expiry time, for the fixed-window strategy
    (flask-limiter's default). Registered for URIs like `sqlite:///abs/path/limits.sqlite`.
    Safe across processes (SQLite's file locks) and threads (one connection per thread and process)."""

    STORAGE_SCHEME = ["sqlite"]
    PURGE_CHANCE = 0.01  # now and then an increment also deletes expired counters, so the file stays small

    def __init__(self, uri=None, wrap_exceptions=False, timeout=10.0, **options):
        path = "/" + unquote(urlparse(uri).path if uri else "").lstrip("/")  # sqlite:///abs or sqlite:////abs
        if path == "/":
            raise ValueError(
                f"a sqlite rate-limit storage needs an absolute file path, "
                f"like sqlite:///abs/limits.sqlite, not {uri!r}"
            )
        self.path = path
        self.timeout = float(timeout)
        self._local = threading.local()
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._create()

    def _create(self):
        """Make the file WAL with its table, retried: workers starting at once race to switch the journal mode,
        and SQLite answers that race with an immediate "database is locked" instead of waiting its timeout."""
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                # A connection closed again: one left open would be inherited by forked processes, and a child
                # closing it drops the file locks of its own connection (POSIX locks are per process), losing counts.
                with closing(sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)) as db:
                    if db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                        db.execute("PRAGMA journal_mode=WAL")  # persistent: readers never block the writer
                    db.execute(
                        "CREATE TABLE IF NOT EXISTS counters "
                        "(key TEXT PRIMARY KEY, count INTEGER NOT NULL, expiry REAL NOT NULL)"
                    )
                return
            except sqlite3.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02 + 0.05 * random.random())

    @property
    def base_exceptions(self):
        return sqlite3.Error

    def _connection(self):
        """This thread's connection, opened afresh after a fork (a connection must not cross processes)."""
        local = self._local
        if getattr(local, "pid", None) != os.getpid():
            db = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA synchronous=NORMAL")  # per connection; WAL mode is the file's, set once below
            local.db, local.pid = db, os.getpid()
        return local.db

    @contextmanager
    def _transaction(self):
        db = self._connection()
        db.execute("BEGIN IMMEDIATE")  # take the write lock now: read-modify-write is atomic
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def _read(self, key):
        """(count, expiry) of a live counter, or None; inside a transaction it reads that transaction's view."""
        row = self._connection().execute("SELECT count, expiry FROM counters WHERE key = ?", (key,)).fetchone()
        return row if row and row[1] > time.time() else None

    def incr(self, key, expiry, amount=1):
        now = time.time()
        with self._transaction() as db:
            if random.random() < self.PURGE_CHANCE:
                db.execute("DELETE FROM counters WHERE expiry <= ?", (now,))
            row = self._read(key)
            if row:
                count, until = row[0] + amount, row[1]
            else:
                count, until = amount, now + expiry
            db.execute("INSERT OR REPLACE INTO counters (key, count, expiry) VALUES (?, ?, ?)", (key, count, until))
        return count

    def decr(self, key, amount=1):
        with self._transaction() as db:
            row = self._read(key)
            if not row:
                return 0
            count = max(row[0] - amount, 0)
            db.execute("UPDATE counters SET count = ? WHERE key = ?", (count, key))
        return count

    def get(self, key):
        row = self._read(key)
        return row[0] if row else 0

    def get_expiry(self, key):
        row = self._read(key)
        return row[1] if row else time.time()

    def check(self):
        try:
            self._connection().execute("SELECT 1").fetchone()
            return True
        except sqlite3.Error:
            return False

    def reset(self):
        with self._transaction() as db:
            return db.execute("DELETE FROM counters").rowcount

    def clear(self, key):
        with self._transaction() as db:
            db.execute("DELETE FROM counters WHERE key = ?", (key,))
