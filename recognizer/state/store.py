"""Where drawings and updated weights live: a local directory or an S3 bucket, behind one small interface.

Objects are written once (`put_new` never overwrites); the one mutable object, a version pointer, moves
only by compare-and-swap (`swap`), so concurrent writers on any number of workers or machines serialise.
"""

import fcntl
import hashlib
import itertools
import os
import random
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

OUTAGE_PAUSE = 5.0  # seconds an S3Store fails at once after S3 stopped answering, instead of waiting again
RETRY_WITHIN = 6.0  # seconds a transiently failing S3 request is tried again for (each try: 2 s at most)
DELETE_AT_ONCE = 1000  # the most keys one S3 DeleteObjects request takes
TRANSIENT = {
    "InternalError",
    "ServiceUnavailable",
    "SlowDown",
    "Throttling",
    "ThrottlingException",
    "RequestTimeout",
    "RequestTimeTooSkewed",
    "500",
    "502",
    "503",
    "504",
}


class StoreUnavailable(Exception):
    """The store could not be reached or did not answer in time."""


class _Transient(Exception):
    """A failure of one S3 try that another try may not meet; `answered`: S3 answered (with an error)."""

    def __init__(self, cause, answered):
        super().__init__(str(cause))
        self.answered = answered


class Store:
    """The interface both backends implement; keys are '/'-separated paths like 'drawings/3/abc.png'."""

    def put_new(self, key, data):
        """Write an object that must not exist yet; raise FileExistsError if it does."""
        raise NotImplementedError

    def get(self, key):
        """Return (bytes, etag); raise KeyError if absent."""
        raise NotImplementedError

    def get_if_changed(self, key, etag):
        """Return (bytes, etag) if the object's etag differs from `etag`, else None; KeyError if absent."""
        raise NotImplementedError

    def swap(self, key, data, expected_etag):
        """Replace `key` only if its etag is still `expected_etag` (None: only if absent). Return the new etag, or
        None when the etag was another."""
        raise NotImplementedError

    def keys(self, prefix):
        """All keys under `prefix`, sorted."""
        raise NotImplementedError

    def delete(self, key):
        """Remove an object; absent is fine."""
        raise NotImplementedError

    def delete_many(self, keys):
        """Remove objects, absent ones too; one request for up to a thousand of them where the store has that."""
        for key in keys:
            self.delete(key)

    def check(self):
        """Raise StoreUnavailable unless the store can be read and written."""
        raise NotImplementedError


def _etag(data):
    return hashlib.md5(data).hexdigest()


class LocalStore(Store):
    """A directory: write-to-temp then link/rename for atomicity, an flock for the compare-and-swap."""

    def __init__(self, root):
        self.root = Path(root)

    def __repr__(self):
        return f"LocalStore({str(self.root.resolve())!r})"

    def _path(self, key):
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:
            raise ValueError(f"key escapes the store: {key!r}")
        return path

    def _temp(self, path, data):
        """Write `data` to a temporary file beside `path`; a full or read-only disk is the store being down."""
        temp = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            return temp
        except OSError as error:
            if temp:
                Path(temp).unlink(missing_ok=True)
            raise StoreUnavailable(f"cannot write to the local store {self.root}: {error.strerror}") from None

    def put_new(self, key, data):
        path = self._path(key)
        temp = self._temp(path, data)
        try:
            os.link(temp, path)  # atomic, and fails if the key exists: a version is never overwritten
        except FileExistsError:
            raise
        except OSError as error:  # no hard links here, no permission, a full disk: not the client's doing
            raise StoreUnavailable(f"cannot write to the local store {self.root}: {error.strerror}") from None
        finally:
            os.unlink(temp)

    def get(self, key):
        try:
            data = self._path(key).read_bytes()
        except FileNotFoundError:
            raise KeyError(key) from None
        except OSError as error:
            raise StoreUnavailable(f"cannot read the local store {self.root}: {error.strerror}") from None
        return data, _etag(data)

    def get_if_changed(self, key, etag):
        data, current = self.get(key)
        return None if current == etag else (data, current)

    def swap(self, key, data, expected_etag):
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path.with_name(path.name + ".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                current = _etag(path.read_bytes()) if path.exists() else None
                if current != expected_etag:
                    return None
                os.replace(self._temp(path, data), path)
                return _etag(data)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def keys(self, prefix):
        base = self._path(prefix.rstrip("/")) if prefix else self.root
        if not base.exists():
            return []
        return sorted(
            str(p.relative_to(self.root))
            for p in base.rglob("*")
            if p.is_file() and not p.name.startswith(".tmp-") and not p.name.endswith(".lock")
        )

    def delete(self, key):
        self._path(key).unlink(missing_ok=True)

    def check(self):
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryFile(dir=self.root):
                pass
        except OSError as error:
            raise StoreUnavailable(f"local store {self.root} is not writable: {error}") from None


class S3Store(Store):
    """An S3 bucket (or any S3-compatible service) using conditional writes: IfNoneMatch / IfMatch."""

    def __init__(self, bucket, prefix="", client=None):
        import boto3
        from botocore.config import Config

        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        # One try each, bounded by its timeouts; _call retries what is transient, within RETRY_WITHIN.
        config = Config(connect_timeout=1, read_timeout=2, retries={"total_max_attempts": 1})
        self.client = client or boto3.client("s3", config=config)
        self._quiet_until = 0.0

    def __repr__(self):
        return f"S3Store({self.bucket!r}, {self.prefix!r})"

    def _call(self, method, read_body=False, **kwargs):
        """One S3 call (with its body read, for a GET), tried again with jittered exponential backoff while it
        fails transiently (500, 503, throttling, a reset connection, a timeout) and RETRY_WITHIN allows.
        Raises KeyError (absent), FileExistsError (a condition failed) or StoreUnavailable; None is a 304."""
        if time.monotonic() < self._quiet_until:
            raise StoreUnavailable("S3 did not answer a moment ago; trying again in a few seconds")
        deadline = time.monotonic() + RETRY_WITHIN
        for attempt in itertools.count():
            try:
                return self._try(method, read_body, kwargs)
            except _Transient as error:
                pause = random.uniform(0, min(0.05 * 2**attempt, 1.0))
                if time.monotonic() + pause >= deadline:
                    if error.answered:
                        raise StoreUnavailable(f"S3 {method} failed: {error}") from None
                    raise self._unreachable(error) from None
                time.sleep(pause)

    def _try(self, method, read_body, kwargs):
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            response = getattr(self.client, method)(Bucket=self.bucket, **kwargs)
            if read_body:
                return response["Body"].read(), response["ETag"]
            return response
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            if code in ("NoSuchKey", "404", "NotFound"):
                raise KeyError(kwargs.get("Key")) from None
            if code in ("PreconditionFailed", "ConditionalRequestConflict") or status in (409, 412):
                raise FileExistsError(kwargs.get("Key")) from None
            if code == "304" or status == 304:
                return None
            if code in TRANSIENT or status >= 500 or status == 429:
                raise _Transient(code or status, answered=True) from None
            # Anything else (a missing bucket, credentials refused) means the store cannot be used right now:
            # a 503 for the client, not a crash.
            raise StoreUnavailable(f"S3 {method} failed: {code or status}") from None
        except BotoCoreError as error:  # no answer: refused, reset, timed out
            raise _Transient(error, answered=False) from None

    def _unreachable(self, error):
        """The error to raise when S3 did not answer; the next requests fail fast rather than each time out."""
        self._quiet_until = time.monotonic() + OUTAGE_PAUSE
        return StoreUnavailable(f"S3 is unreachable: {error}")

    def _get(self, key, **condition):
        """(bytes, etag), or None for 304 Not Modified; reading the body can time out too, and is retried."""
        return self._call("get_object", read_body=True, Key=self.prefix + key, **condition)

    def _landed(self, key, data):
        """Whether `key` holds exactly `data`: then a retried write whose first attempt landed was ours."""
        try:
            return self.get(key)[0] == data
        except KeyError:
            return False

    def put_new(self, key, data):
        """Identical bytes already there count as written: the retry of a request whose first attempt landed."""
        try:
            self._call("put_object", Key=self.prefix + key, Body=data, IfNoneMatch="*", ChecksumAlgorithm="SHA256")
        except FileExistsError:
            if not self._landed(key, data):
                raise

    def get(self, key):
        return self._get(key)

    def get_if_changed(self, key, etag):
        return self._get(key, **({"IfNoneMatch": etag} if etag else {}))

    def swap(self, key, data, expected_etag):
        condition = {"IfMatch": expected_etag} if expected_etag else {"IfNoneMatch": "*"}
        try:
            response = self._call(
                "put_object", Key=self.prefix + key, Body=data, ChecksumAlgorithm="SHA256", **condition
            )
            return response["ETag"]
        except (FileExistsError, KeyError):
            return None

    def keys(self, prefix):
        found, more = [], {}
        while True:  # paged through _call, so an outage is StoreUnavailable here too
            page = self._call("list_objects_v2", Prefix=self.prefix + prefix, **more)
            found += [item["Key"][len(self.prefix) :] for item in page.get("Contents", [])]
            if not page.get("IsTruncated"):
                return sorted(found)
            more = {"ContinuationToken": page["NextContinuationToken"]}

    def delete(self, key):
        self._call("delete_object", Key=self.prefix + key)

    def delete_many(self, keys):
        """S3's DeleteObjects, a thousand keys a request; a key it could not delete is StoreUnavailable."""
        keys = list(keys)
        for start in range(0, len(keys), DELETE_AT_ONCE):
            batch = [{"Key": self.prefix + key} for key in keys[start : start + DELETE_AT_ONCE]]
            errors = self._call("delete_objects", Delete={"Objects": batch, "Quiet": True}).get("Errors", [])
            if errors:
                raise StoreUnavailable(f"S3 could not delete {errors[0].get('Key')}: {errors[0].get('Code')}")

    def check(self):
        self._call("head_bucket")


def url_from_environment():
    """STORE_URL, with the app's default: tmp/store in the repository."""
    return os.environ.get("STORE_URL") or f"file://{Path(__file__).resolve().parents[2] / 'tmp' / 'store'}"


def open_store(url):
    """Make the store a STORE_URL names: file:///abs/dir or s3://bucket/optional/prefix."""
    parsed = urlparse(url)
    if parsed.scheme == "file":
        return LocalStore(parsed.path)
    if parsed.scheme == "s3":
        return S3Store(parsed.netloc, parsed.path)
    raise ValueError(f"STORE_URL must start with file:// or s3://, not {url!r}")
