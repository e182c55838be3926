"""Many threads, and many Store objects (replicas), writing one database at once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import TypeVar

from verbatim.models.taxonomy import DEFAULT_TAXONOMY, Tag
from verbatim.store import Correction, InvalidTaxonomy, Outcome, Store, TagHasChildren

Make = Callable[..., Correction]
T = TypeVar("T")
THREADS = 8


def _all_at_once(jobs: list[Callable[[], T]]) -> list[T]:
    """Run the jobs on their own threads, released together by a barrier."""
    barrier = threading.Barrier(len(jobs))

    def run(job: Callable[[], T]) -> T:
        barrier.wait()
        return job()

    with ThreadPoolExecutor(len(jobs)) as pool:
        return list(pool.map(run, jobs))


def test_threads_submitting_at_once_are_all_stored_once(store: Store, make_correction: Make) -> None:
    shared = [make_correction(f"shared-{i}", comment_id=f"s{i}") for i in range(10)]

    def submit(worker: int) -> list[Outcome]:
        outcomes: list[Outcome] = []
        for batch in range(15):
            own = [make_correction(f"w{worker}-b{batch}-{i}", comment_id=f"w{worker}", minutes=batch)
                   for i in range(4)]
            outcomes += store.submit_corrections(own).outcomes
            outcomes += store.submit_corrections(shared[batch % 10:batch % 10 + 2]).outcomes
        return outcomes

    results = _all_at_once([partial(submit, w) for w in range(THREADS)])
    own_total = THREADS * 15 * 4
    assert store.count_corrections() == own_total + len(shared)
    stored = sum(o is Outcome.STORED for outcomes in results for o in outcomes)
    assert stored == own_total + len(shared)  # each shared id stored by exactly one thread
    ids = [c.correction_id for c in store.corrections()]
    assert len(set(ids)) == len(ids)


def test_stores_opened_at_once_on_a_new_database_seed_it_once(new_store_url: Callable[[], str]) -> None:
    for _ in range(10):
        url = new_store_url()
        stores = _all_at_once([partial(Store, url) for _ in range(THREADS)])
        try:
            for s in stores:
                assert s.accounts() == ["default"]
                assert s.taxonomy("default") == DEFAULT_TAXONOMY
        finally:
            for s in stores:
                s.close()


def test_replicas_putting_tags_at_once_lose_nothing(store_url: str) -> None:
    replicas = [Store(store_url) for _ in range(3)]
    try:
        _all_at_once([partial(replicas[i % len(replicas)].put_tags, "acme", [Tag(f"Tag {i}")])
                      for i in range(THREADS)])
        assert sorted(replicas[0].taxonomy("acme").names) == sorted(f"Tag {i}" for i in range(THREADS))
    finally:
        for r in replicas:
            r.close()


def _add_child(store: Store, parent: str, child: str) -> str:
    try:
        store.put_tags("acme", [Tag(child, parent=parent)])
        return "added"
    except InvalidTaxonomy:
        return "refused"


def _delete(store: Store, name: str) -> str:
    try:
        store.delete_tag("acme", name)
        return "deleted"
    except TagHasChildren:
        return "refused"


def test_a_delete_racing_an_add_of_its_child_never_orphans_the_child(store: Store) -> None:
    for round_ in range(10):
        parent, child = f"Parent {round_}", f"Child {round_}"
        store.put_tags("acme", [Tag(parent)])
        outcome = _all_at_once([partial(_add_child, store, parent, child), partial(_delete, store, parent)])
        assert outcome in (["added", "refused"], ["refused", "deleted"])
        taxonomy = store.taxonomy("acme")  # a Taxonomy cannot hold an orphan: it would raise
        assert (child in taxonomy) == (outcome[0] == "added")
