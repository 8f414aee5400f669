"""Group commit across workers and machines: corrections wait in the store's queue, whichever worker commits next
learns all of them, and the version it publishes says what became of each, to the worker that queued it."""

import time

import pytest

from conftest import drawing_url, wait_until
from recognizer.learning.online import HeldBack
from recognizer.nets import weights
from recognizer.reading.images import decode_data_url
from recognizer.reading.preprocess import to_mnist
from recognizer.service import NotLearned, Recognizer
from recognizer.state import drawings, lease
from recognizer.state.lease import LOOK_AGAIN, Lease
from recognizer.state.queue import PREFIX, Queued, settled
from recognizer.state.store import StoreUnavailable, open_store
from recognizer.state.versions import Contended


def worker(backend_url, seed):
    """A Recognizer of its own on the shared store: another worker, or another machine."""
    return Recognizer(open_store(backend_url), weights.SHIPPED, seed=seed)


def queued(rec, sample, digit=None):
    """`sample` stored and queued by `rec` as its /train would, not learned yet."""
    ink = decode_data_url(drawing_url(sample))
    digit = sample["label"] if digit is None else digit
    shown = rec.reader.describe(to_mnist(ink), rec.current())
    sample_id = drawings.keep(rec.store, ink, digit, "train", shown)
    item = Queued.new(to_mnist(ink), rec.variants(ink), digit, sample_id, at=time.time())
    rec.queue.put(item)
    return item


def train(rec, sample, digit=None):
    ink = decode_data_url(drawing_url(sample))
    return rec.train(ink, sample["label"] if digit is None else digit)


def queue_emptied(store):
    wait_until(lambda: not store.keys(PREFIX), 10, "the queue to be emptied")


def test_one_commit_learns_what_another_worker_queued_and_that_worker_hears_of_it(backend_url, strokes):
    a, b = worker(backend_url, 1), worker(backend_url, 2)
    theirs = queued(b, strokes[0])
    mine = train(a, strokes[1])
    assert mine["model_version"] == 2  # one version for both
    state = a.versions.state
    assert state.version == 2 and {theirs.sample_id, mine["sample_id"]} <= settled(state)
    versions_before = len(a.versions.history())
    [answer], _ = b._learn_round([theirs])  # b's request, waiting: answered from a's version, nothing committed
    assert answer.version == 2 and len(b.versions.history()) == versions_before
    queue_emptied(a.store)


def test_a_correction_held_back_in_another_workers_commit_is_refused_to_its_own(backend_url, strokes):
    a, b = worker(backend_url, 1), worker(backend_url, 2)
    clean_one = next(s for s in strokes if s["label"] == 1)
    lie = queued(b, clean_one, digit=7)
    mine = train(a, strokes[1])
    assert mine["model_version"] == 1  # learned alone: the lie refused only itself
    record = next(u for u in a.versions.state.unlearned if u["key"] == lie.key)
    assert record["held_back"] and "7" in record["refused"]
    [answer], _ = b._learn_round([lie])
    assert isinstance(answer, HeldBack)
    assert lie.sample_id not in {h.get("sample_id") for h in a.versions.state.history}
    queue_emptied(a.store)


def test_a_correction_whose_commits_fail_is_withdrawn_and_no_later_commit_learns_it(backend_url, strokes, monkeypatch):
    a, b = worker(backend_url, 1), worker(backend_url, 2)

    def losing(mine):
        raise Contended("other updates kept winning")

    monkeypatch.setattr(b, "_commit_queue", losing)
    with pytest.raises(NotLearned) as failed:
        train(b, strokes[0])
    assert not failed.value.refused  # a 503
    withdrawn = failed.value.sample_id
    assert any("withdrawn" in u for u in b.versions.state.unlearned)
    assert train(a, strokes[1])["model_version"] == 1  # the withdrawn one is not learned by the next commit
    assert withdrawn not in {h.get("sample_id") for h in a.versions.state.history}
    queue_emptied(a.store)


def test_when_not_even_a_withdrawal_can_be_stored_the_entry_is_deleted(backend_url, strokes, monkeypatch):
    a, b = worker(backend_url, 1), worker(backend_url, 2)
    swap = b.store.swap

    def refusing_models(key, *args):
        if key.startswith("models/"):
            raise StoreUnavailable("S3 refuses model writes")
        return swap(key, *args)

    monkeypatch.setattr(b.store, "swap", refusing_models)
    with pytest.raises(NotLearned):
        train(b, strokes[0])
    assert not b.store.keys(PREFIX)  # deleted before the 503: no later commit can find it
    assert train(a, strokes[1])["model_version"] == 1


def test_a_drawing_that_cannot_be_counted_is_not_learned(backend_url, strokes, monkeypatch):
    rec = worker(backend_url, 1)

    def uncountable(*args):
        raise StoreUnavailable("the counter could not be written")

    monkeypatch.setattr(drawings, "count", uncountable)
    with pytest.raises(NotLearned) as failed:
        train(rec, strokes[0])
    assert not failed.value.refused
    assert rec.current().version == 0 and failed.value.sample_id not in settled(rec.current())
    monkeypatch.undo()
    assert train(rec, strokes[1])["model_version"] == 1


def test_a_queue_write_whose_answer_was_lost_after_another_worker_learned_it_counts_once(
    backend_url, strokes, monkeypatch
):
    """S3 clients retry a write whose answer they lost; the retry finds the entry there (412), and by then another
    worker's commit may have learned it and taken it off the queue: the correction is answered 200, counted once."""
    a, b = worker(backend_url, 1), worker(backend_url, 2)
    put_new = a.store.put_new

    def landed_then_lost(key, data):
        put_new(key, data)
        if key.startswith(PREFIX):
            b._commit_queue([])  # learned and removed before the retry reads it back
            raise FileExistsError(key)

    monkeypatch.setattr(a.store, "put_new", landed_then_lost)
    answer = train(a, strokes[0])
    state = a.versions.refresh()
    assert answer["model_version"] == state.version == 1 and answer["sample_id"] in settled(state)
    queue_emptied(a.store)


def test_an_entry_reads_back_as_it_was_queued(backend_url, strokes):
    a, b = worker(backend_url, 1), worker(backend_url, 2)
    item = queued(a, strokes[0])
    [read] = b.queue.waiting()
    assert (read.key, read.sample_id, read.digit, read.at) == (item.key, item.sample_id, item.digit, item.at)
    assert (read.image == item.image).all() and (read.variants == item.variants).all()


def test_check_reports_a_queue_entry_no_worker_can_read_and_repair_deletes_it(backend_url, monkeypatch, capsys):
    from recognizer.commands import check

    store = open_store(backend_url)
    store.put_new(f"{PREFIX}20260101T000000000000Z-0000000a.0123456789ab.npz", b"not an entry")
    monkeypatch.setenv("STORE_URL", backend_url)
    assert check.main([]) == 1 and "cannot be read as a queued correction" in capsys.readouterr().out
    assert check.main(["--repair"]) == 0 and not store.keys(PREFIX)


def test_one_worker_holds_the_lease_until_it_gives_it_back_or_it_runs_out(backend_url):
    first, second = Lease(open_store(backend_url), seconds=0.6), Lease(open_store(backend_url), seconds=0.6)
    assert first.held() and first.held() and not second.held()  # renewed by its holder, refused to the other
    first.release()
    time.sleep(LOOK_AGAIN)
    assert second.held() and not first.held()  # given back: taken when the other looks again
    time.sleep(0.7)  # its holder died: run out
    assert first.held() and not second.held()


def test_a_learner_seen_publishing_is_trusted_with_its_lease_for_a_while(backend_url, monkeypatch):
    monkeypatch.setattr(lease, "BUSY", 1.0)  # a wide margin over LOOK_AGAIN, for a slow machine
    store = open_store(backend_url)
    holder, other = Lease(store), Lease(store)
    assert holder.held() and not other.held()
    reads = []
    get = store.get
    store.get = lambda key: reads.append(key) or get(key)
    other.published()  # it saw the holder's new version
    trusted_until = time.time() + lease.BUSY  # on the lease's clock, no earlier than its own
    holder.release()
    time.sleep(LOOK_AGAIN)
    assert not other.held() and not reads  # the holder was at work a moment ago: the lease is not read yet
    time.sleep(max(0.0, trusted_until - time.time()) + 0.05)
    assert other.held() and reads  # read again, found given back, taken


def test_entries_being_removed_are_not_read_again(backend_url, strokes):
    a = worker(backend_url, 1)
    first, second = queued(a, strokes[0]), queued(a, strokes[1])
    reads = []
    get = a.store.get
    a.store.get = lambda key: reads.append(key) or get(key)
    delete_many = a.store.delete_many
    a.store.delete_many = lambda keys: time.sleep(1.0) or delete_many(keys)  # still listed while it is removed
    removing = a.queue.remove([first])
    a.queue._read.clear()  # as a worker that never read them
    assert [item.key for item in a.queue.waiting()] == [second.key] and reads == [second.key]
    removing.result()
    assert [item.key for item in a.queue.waiting()] == [second.key] and reads == [second.key]
