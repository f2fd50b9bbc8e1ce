"""Storage: transactions, versions, blobs, leases, aliases, migrations."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text, update

from raqib.domain import FetchRecord, Snapshot, WatchState
from raqib.storage import Storage, open_storage, sqlite
from raqib.storage.migrate import current, head

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


pytestmark = pytest.mark.backends


@pytest.fixture
def store(tmp_path: Path, database_url: str | None) -> Storage:
    s = open_storage(database_url or sqlite.url_for(tmp_path / "t.db"))
    yield s
    s.close()


def snap(text: str, title: str = "عنوان") -> Snapshot:
    from raqib.extract.page import content_hash

    return Snapshot(
        title=title,
        byline=None,
        published=None,
        modified=None,
        text=text,
        notices=[],
        language="ar",
        content_hash=content_hash(title, text),
        extractor="test",
    )


def record(
    store: Storage,
    watch_id: int,
    outcome: str,
    at: datetime,
    text: str | None = None,
    owner: str | None = None,
    body: bytes = b"<html>raw</html>",
):
    return store.history.record(
        FetchRecord(
            watch_id=watch_id,
            fetched_at=at,
            outcome=outcome,
            next_check_at=at + timedelta(minutes=15),
            status=200,
            snapshot=snap(text) if text is not None else None,
            raw_body=body if text is not None else None,
        ),
        owner=owner,
    )


def test_migrated_to_head(store: Storage) -> None:
    from alembic.script import ScriptDirectory

    from raqib.storage.migrate import HEAD, REVISIONS, config

    assert current(store.db.engine) == head() == HEAD
    known = [r.revision for r in ScriptDirectory.from_config(config()).walk_revisions()]
    assert tuple(reversed(known)) == REVISIONS


def test_the_migrations_build_what_the_models_describe(store: Storage) -> None:
    """A database migrated to head has the models' tables, columns and
    indexes: a model changed without its migration (or the reverse) fails
    here. Full-text search is made by hand in a migration, outside the models:
    SQLite's FTS5 tables, PostgreSQL's tsvector column and its index."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from raqib.storage import models as m

    def hand_made(d: tuple) -> bool:
        if d[0] == "remove_table":
            return d[1].name.startswith("version_search_fts")
        if d[0] == "remove_index":
            return d[1].name == "ix_version_search_tsv"
        return d[0] == "remove_column" and (d[2], d[3].name) == ("version_search", "tsv")

    with store.db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), m.Base.metadata)
    assert [d for d in diff if not hand_made(d)] == []


def test_wal_and_busy_timeout(store: Storage, backend: str) -> None:
    if backend != "sqlite":
        pytest.skip("SQLite's journal mode")
    with store.db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == sqlite.BUSY_TIMEOUT_MS


def test_watch_is_idempotent(store: Storage) -> None:
    ((w1, created1),) = store.watches.add(["https://a.example/x"], now=T0, story="s")
    ((w2, created2),) = store.watches.add(["https://a.example/x"], now=T0)
    assert created1 and not created2 and w1.id == w2.id


def test_versions_only_on_new_content(store: Storage) -> None:
    ((w, _),) = store.watches.add(["https://a.example/x"], now=T0)
    r1 = record(store, w.id, "new_version", T0, "نص أول")
    r2 = record(store, w.id, "unchanged", T0 + timedelta(hours=1))
    r3 = record(
        store, w.id, "new_version", T0 + timedelta(hours=2), "نص أول"
    )  # same content: refused
    r4 = record(store, w.id, "new_version", T0 + timedelta(hours=3), "نص ثان")
    assert (r1.version_number, r2.version_number, r3.version_number, r4.version_number) == (
        1,
        None,
        None,
        2,
    )
    assert r3.outcome == "unchanged"
    versions = store.history.versions(w.id)
    assert [v.number for v in versions] == [1, 2]
    assert versions[0].first_seen == T0 and versions[0].last_seen == T0 + timedelta(hours=2)
    assert [f.outcome for f in store.history.fetches(w.id)] == [
        "new_version",
        "unchanged",
        "unchanged",
        "new_version",
    ]


def test_raw_body_stored_once_per_hash_and_compressed(store: Storage) -> None:
    (a, _), (b, _) = store.watches.add(["https://a.example/1", "https://a.example/2"], now=T0)
    body = ("<html>" + "محتوى الصفحة " * 2000 + "</html>").encode()
    record(store, a.id, "new_version", T0, "نص", body=body)
    record(store, b.id, "new_version", T0, "نص آخر", body=body)
    from sqlalchemy import func, select

    from raqib.storage.models import Blob

    with store.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Blob)) == 1
        blob = s.scalars(select(Blob)).one()
        assert len(blob.data) * 5 < blob.size
    v = store.history.versions(a.id)[0]
    assert store.history.raw_body(v.raw_hash) == body


def test_record_is_atomic(store: Storage, monkeypatch: pytest.MonkeyPatch) -> None:
    """A failure mid-write leaves neither the fetch row nor the version."""
    ((w, _),) = store.watches.add(["https://a.example/x"], now=T0)
    from raqib.storage import writes

    def boom(*args, **kwargs):
        raise RuntimeError("disk gone")

    monkeypatch.setattr(writes, "add_alias", boom)
    with pytest.raises(RuntimeError):
        store.history.record(
            FetchRecord(
                w.id,
                T0,
                "new_version",
                T0,
                snapshot=snap("نص"),
                raw_body=b"x",
                aliases=["https://a.example/y"],
            )
        )
    assert store.history.fetches(w.id) == [] and store.history.versions(w.id) == []
    assert store.watches.get(w.id).version_count == 0


def test_claims_never_overlap(store: Storage) -> None:
    store.watches.add([f"https://s{i}.example/{i}" for i in range(10)], now=T0)
    first = store.leases.claim("worker-a", now=T0, lease=timedelta(minutes=5), limit=6)
    second = store.leases.claim("worker-b", now=T0, lease=timedelta(minutes=5), limit=100)
    assert len(first) == 6 and len(second) == 4
    assert not {t.watch_id for t in first} & {t.watch_id for t in second}
    assert store.leases.claim("worker-c", now=T0, lease=timedelta(minutes=5), limit=100) == []
    assert store.leases.holders(now=T0) == {"worker-a": 6, "worker-b": 4}
    # Expired leases can be taken over.
    later = T0 + timedelta(minutes=6)
    assert (
        len(store.leases.claim("worker-c", now=later, lease=timedelta(minutes=5), limit=100)) == 10
    )


def test_one_worker_at_a_time_fetches_a_host(store: Storage) -> None:
    """Each worker keeps `fetch.per_domain` alone: a second one on the same
    site would double it. Another worker takes a host's watches once the
    first holds none of them, and finds nothing to wait for while it does
    (one host: the first holds no more than its share)."""
    lease = timedelta(minutes=5)
    added = store.watches.add([f"https://one.example/{i}" for i in range(5)], now=T0)
    first = store.leases.claim("a", now=T0, lease=lease, limit=2)
    assert len(first) == 2
    assert store.leases.claim("b", now=T0, lease=lease, limit=100) == []
    assert not store.leases.crowded("b", now=T0, until=T0 + lease)
    for task in first:
        record(store, task.watch_id, "new_version", T0, "نص", owner="a")
    rest = store.leases.claim("b", now=T0, lease=lease, limit=100)
    assert sorted(t.watch_id for t in rest) == sorted(w.id for w, _ in added)[2:]


def test_workers_leave_each_other_a_share_of_the_hosts(store: Storage) -> None:
    """Alone, a worker takes any host. Another that finds them all held
    waits for a share: at its next claim the first keeps half the hosts
    (its own, the same ones each time) and lets the others drain."""
    lease = timedelta(minutes=5)
    hosts = [f"h{n}.example" for n in range(4)]
    store.watches.add([f"https://{hosts[i % 4]}/{i}" for i in range(20)], now=T0)
    first = store.leases.claim("a", now=T0, lease=lease, limit=8)
    assert sorted({_host(t) for t in first}) == hosts  # alone: every host
    assert store.leases.claim("b", now=T0, lease=lease, limit=100) == []
    assert store.leases.crowded("b", now=T0, until=T0 + lease)  # a holds 4 hosts of 4, b none
    second = store.leases.claim("a", now=T0, lease=lease, limit=100)
    assert {_host(t) for t in second} == set(hosts[:2]) and len(second) == 6
    assert second.cut  # more is due for it: its pass claims again
    for task in first:
        if _host(task) in hosts[2:]:
            record(store, task.watch_id, "new_version", T0, "نص", owner="a")
    third = store.leases.claim("b", now=T0, lease=lease, limit=100)
    assert {_host(t) for t in third} == set(hosts[2:]) and len(third) == 6
    assert not third.cut and store.leases.sweepers(now=T0) == ["a"]  # b took its last batch
    later = T0 + timedelta(minutes=20)  # every lease and registration run out
    assert {_host(t) for t in store.leases.claim("a", now=later, lease=lease, limit=100)} == set(
        hosts
    )


def _host(task: Any) -> str:
    return _host_of(task.url)


def _host_of(url: str) -> str:
    return url.split("/")[2]


def test_a_worker_that_will_not_claim_again_leaves_the_others_every_other_site(
    store: Storage,
) -> None:
    """Only sweepers share the sites: a pass that named its watches (`check
    ID`, `watch URL`) or took its last batch keeps its site, and a sweep
    beside it takes every other one (before, it kept to half of them and its
    short batch ended its pass)."""
    lease = timedelta(minutes=5)
    hosts = [f"h{n}.example" for n in range(4)]
    added = store.watches.add([f"https://{hosts[i % 4]}/{i}" for i in range(40)], now=T0)
    named = store.leases.claim("named", now=T0, lease=lease, limit=10, only=[added[0][0].id])
    assert [_host(t) for t in named] == [hosts[0]] and store.leases.sweepers(now=T0) == []
    last = store.leases.claim("last", now=T0, lease=lease, limit=1000)  # its last: not full
    assert {_host(t) for t in last} == set(hosts[1:]) and store.leases.sweepers(now=T0) == []
    for task in last:
        if _host(task) != hosts[1]:
            record(store, task.watch_id, "new_version", T0, "نص", owner="last")
    store.watches.add([f"https://{hosts[i % 4]}/more-{i}" for i in range(40)], now=T0)
    sweep = store.leases.claim("sweep", now=T0, lease=lease, limit=1000)
    assert {_host(t) for t in sweep} == set(hosts[2:]) and len(sweep) == 20
    assert store.leases.blocked("sweep", now=T0) == {"named": 19, "last": 10}


def test_sites_held_by_a_pass_that_will_not_claim_again_count_in_no_share(
    store: Storage,
) -> None:
    """A waiting sweeper and the sweeper it waits on reckon the share alike:
    sites a pass that named its watches holds count in neither. Counted on
    one side only, the sweeper kept three sites of four while the waiter
    waited for it to keep two, and took nothing for 5 minutes."""
    lease = timedelta(minutes=5)
    hosts = [f"h{n}.example" for n in range(6)]
    added = store.watches.add([f"https://{hosts[i % 6]}/{i}" for i in range(60)], now=T0)
    first = store.leases.claim("a", now=T0, lease=lease, limit=4)  # h0..h3: full, registered
    assert sorted({_host(t) for t in first}) == hosts[:4]
    named = [w.id for w, _ in added if _host_of(w.url) in hosts[4:]]
    assert len(store.leases.claim("named", now=T0, lease=lease, limit=100, only=named)) == 20
    assert store.leases.claim("w", now=T0, lease=lease, limit=100) == []
    assert store.leases.crowded("w", now=T0, until=T0 + lease)
    second = store.leases.claim("a", now=T0, lease=lease, limit=100)
    assert {_host(t) for t in second} == set(hosts[:2]) and second.cut
    for task in first:
        if _host(task) in hosts[2:4]:
            record(store, task.watch_id, "new_version", T0, "نص", owner="a")
    third = store.leases.claim("w", now=T0, lease=lease, limit=100)
    assert {_host(t) for t in third} == set(hosts[2:4])


def test_a_pass_that_claims_once_registers_as_no_sweeper(store: Storage) -> None:
    """A Scrapyd job, or `check --limit` within one batch, claims no more:
    registered, it would keep every other sweeper to a share for its whole run."""
    lease = timedelta(minutes=5)
    store.watches.add([f"https://h{i % 4}.example/{i}" for i in range(40)], now=T0)
    assert len(store.leases.claim("job", now=T0, lease=lease, limit=2, again=False)) == 2
    assert store.leases.sweepers(now=T0) == []
    assert len(store.leases.claim("pass", now=T0, lease=lease, limit=5)) == 5
    assert store.leases.sweepers(now=T0) == ["pass"]


def test_a_registration_that_looks_run_out_on_another_clock_is_kept(store: Storage) -> None:
    """Workers' clocks differ (by up to a third of a lease, see check_clock):
    a sweeper's row that looks run out on another worker's clock must still be
    there for its own renewal. Rows run out by more than a lifetime go."""
    lease = timedelta(minutes=5)
    store.watches.add([f"https://h{i}.example/1" for i in range(4)], now=T0)
    assert len(store.leases.claim("a", now=T0, lease=lease, limit=1)) == 1  # until T0 + 2.5 min
    skewed = T0 + timedelta(minutes=3)  # b's clock: a's row looks 30 s out of date
    assert len(store.leases.claim("b", now=skewed, lease=lease, limit=1)) == 1
    store.leases.renew("a", now=T0 + timedelta(seconds=100), lease=lease)
    assert store.leases.sweepers(now=skewed) == ["a", "b"]
    late = T0 + timedelta(minutes=20)  # both long gone: the next registration clears them
    store.leases.crowded("c", now=late, until=late + lease / 3)
    assert store.leases.sweepers(now=T0) == ["c"]


def test_a_lapsed_lease_is_not_renewed(store: Storage) -> None:
    """A worker that stalled past its lease may have had its watches, and so
    its site, taken by another: renewing them would put two on one site."""
    lease = timedelta(minutes=5)
    store.watches.add([f"https://one.example/{i}" for i in range(10)], now=T0)
    claimed = store.leases.claim("a", now=T0, lease=lease, limit=6)
    held = store.leases.renew("a", now=T0 + timedelta(minutes=1), lease=lease)
    assert held == {t.watch_id for t in claimed} and len(held) == 6  # lapse at T0 + 6 min
    later = T0 + timedelta(minutes=6, seconds=1)
    assert len(store.leases.claim("b", now=later, lease=lease, limit=4)) == 4
    assert store.leases.renew("a", now=later, lease=lease) == set()
    assert store.leases.holders(now=later) == {"b": 4}


def test_a_claim_frozen_midway_does_not_stop_the_others(
    store: Storage, backend: str, monkeypatch
) -> None:
    """Claims take turns (one lock). A worker frozen or cut off inside its
    claim held the turn until the server saw its connection gone, hours on:
    the server ends a claim's transaction that sits idle."""
    if backend != "postgresql":
        pytest.skip("SQLite's writer lock is this process's alone: no one else freezes in it")
    from raqib.storage import postgres

    monkeypatch.setattr(postgres, "CLAIM_IDLE_TIMEOUT", "2s")
    store.watches.add(["https://a.example/1", "https://b.example/1"], now=T0)
    frozen = store.db.engine.connect()
    try:
        tx = frozen.begin()
        postgres.lock_for_claims(frozen)  # and then nothing: frozen
        other = open_storage(store.db.engine.url.render_as_string(hide_password=False))
        try:
            assert len(other.leases.claim("b", now=T0, lease=timedelta(minutes=5), limit=10)) == 2
        finally:
            other.close()
        with pytest.raises(Exception, match=r"idle-in-transaction|terminat|closed"):
            frozen.execute(text("SELECT 1"))
            tx.commit()
    finally:
        frozen.invalidate()
        frozen.close()


def test_the_upgrade_gives_every_watch_its_host(store: Storage, backend: str) -> None:
    """Migration 0010 reads the host of each watch an older Raqib left."""
    from alembic import command
    from sqlalchemy import text

    from raqib.storage.migrate import config

    urls = ["https://www.Example.com:8443/a", "http://[::1]:8080/b", "https://b.example/c"]
    store.watches.add(urls, now=T0)

    def count(conn: Any, table: str) -> int:
        return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())

    with store.db.engine.connect() as conn:  # foreign keys on, as Raqib's connections have them
        with conn.begin():
            cfg = config(store.db.engine)
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0009")
        # Dropped in place: no rebuilt table, so nothing cascades and, on
        # SQLite, watch ids stay never reused (0008).
        assert count(conn, "aliases") == 3
        if backend == "sqlite":
            made = conn.exec_driver_sql("SELECT sql FROM sqlite_master WHERE name = 'watches'")
            assert "AUTOINCREMENT" in made.scalar_one()
        conn.rollback()
        with conn.begin():
            command.upgrade(cfg, "0010")
    with store.db.engine.connect() as conn:
        hosts = conn.execute(text("SELECT url, host FROM watches ORDER BY id")).all()
    assert [h for _u, h in hosts] == ["www.example.com", "::1", "b.example"]


@pytest.mark.parametrize(
    ("open_", "mine", "taken", "workers", "expected"),
    [
        ({"a", "b", "c"}, set(), set(), 1, ["a", "b", "c"]),  # alone: all of them
        ({"a", "b", "c", "d"}, {"c", "d"}, set(), 2, ["c", "d"]),  # its own first
        ({"a", "b", "c"}, {"x"}, {"y", "z"}, 2, ["a", "b"]),  # x draining counts toward 3
        ({"a"}, {"x", "y"}, {"z"}, 2, []),  # holds its share already
    ],
)
def test_fair_hosts(open_, mine, taken, workers, expected) -> None:
    from raqib.storage.sharing import fair_hosts

    assert fair_hosts(open_, mine, taken, workers=workers) == expected


def test_recording_releases_the_lease_and_a_lost_lease_writes_nothing(store: Storage) -> None:
    ((w, _),) = store.watches.add(["https://a.example/x"], now=T0)
    store.leases.claim("a", now=T0, lease=timedelta(minutes=1), limit=10)
    later = T0 + timedelta(minutes=2)
    store.leases.claim("b", now=later, lease=timedelta(minutes=1), limit=10)  # a's lease expired
    lost = record(store, w.id, "new_version", later, "نص", owner="a")
    assert lost.lease_lost and store.history.versions(w.id) == []
    won = record(store, w.id, "new_version", later, "نص", owner="b")
    assert not won.lease_lost and won.version_number == 1
    assert store.leases.holders(now=later, due_only=False) == {}  # recording released b's lease


def test_due_selection_respects_next_check(store: Storage) -> None:
    ((w, _),) = store.watches.add(["https://a.example/x"], now=T0)
    store.leases.claim("a", now=T0, lease=timedelta(minutes=1), limit=10)
    record(store, w.id, "new_version", T0, "نص", owner="a")  # next check T0+15m
    assert (
        store.leases.claim(
            "b", now=T0 + timedelta(minutes=10), lease=timedelta(minutes=1), limit=10
        )
        == []
    )
    assert (
        len(
            store.leases.claim(
                "b", now=T0 + timedelta(minutes=16), lease=timedelta(minutes=1), limit=10
            )
        )
        == 1
    )


def test_aliases_find_the_watch(store: Storage) -> None:
    ((w, _),) = store.watches.add(["https://a.example/old-slug"], now=T0)
    store.history.record(
        FetchRecord(
            w.id, T0, "new_version", T0, snapshot=snap("نص"), aliases=["https://a.example/new-slug"]
        )
    )
    found = store.watches.find("https://a.example/new-slug")
    assert found is not None and found.id == w.id


TEXT = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=500
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(title=TEXT, text=TEXT, body=st.binary(max_size=2000), notices=st.lists(TEXT, max_size=3))
def test_store_load_round_trip(
    store: Storage, title: str, text: str, body: bytes, notices: list[str]
) -> None:
    url = f"https://round.example/{abs(hash((title, text, body)))}"
    ((w, created),) = store.watches.add([url], now=T0)
    if not created:
        return
    s = snap(text, title)
    s.notices = notices
    store.history.record(FetchRecord(w.id, T0, "new_version", T0, snapshot=s, raw_body=body))
    v = store.history.versions(w.id)[0]
    assert (v.title, v.text, v.notices, v.content_hash) == (title, text, notices, s.content_hash)
    assert store.history.raw_body(v.raw_hash) == body
    assert v.first_seen == T0 and v.first_seen.tzinfo is not None


def test_naive_datetimes_are_refused(store: Storage) -> None:
    with pytest.raises(Exception, match="naive"):
        store.watches.add(["https://a.example/x"], now=datetime(2026, 1, 1))


def _page(seed: int, edit: str = "") -> bytes:
    import random

    r = random.Random(seed)
    letters = "ابتثجحخدذرزسشصضطظعغفقكلمنهوي"
    words = ["".join(r.choice(letters) for _ in range(r.randint(2, 7))) for _ in range(3000)]
    paras = [" ".join(r.choice(words) for _ in range(60)) for _ in range(40)]
    paras[20] += edit
    nav = "".join(f'<a href="/s/{r.randint(1, 10**9)}">{r.choice(words)}</a>' for _ in range(300))
    return f"<html><body><nav>{nav}</nav><p>{'</p><p>'.join(paras)}</p></body></html>".encode()


def test_bodies_compressed_on_many_threads_are_a_fresh_compressors_frames() -> None:
    # Each thread keeps its own compressor: a shared one would interleave
    # frames; one per call is the reference the kept ones must match.
    import threading

    import zstandard

    from raqib.storage import blobs

    bodies = [_page(seed, edit="x" * seed) for seed in range(6)] + [b"", b"<p>"]
    wrong: list[int] = []

    def compress_all() -> None:
        for _ in range(10):
            for i, body in enumerate(bodies):
                data = blobs.compress(body)
                expected = zstandard.ZstdCompressor(level=blobs.LEVEL).compress(body)
                if data != expected or blobs.decompress(data) != body:
                    wrong.append(i)

    threads = [threading.Thread(target=compress_all) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wrong == []


def test_later_bodies_are_stored_as_deltas_of_the_first(store: Storage, tmp_path: Path) -> None:
    from sqlalchemy import select, update

    from raqib.storage import blobs
    from raqib.storage.models import Blob, Version

    (w, _), *_ = store.watches.add(["https://a.example/delta"], now=T0)
    first, second = _page(1), _page(1, " وأضاف المتحدث أن الجولة المقبلة في أيار.")
    record(store, w.id, "new_version", T0, "نص أول", body=first)
    record(store, w.id, "new_version", T0 + timedelta(hours=1), "نص ثان", body=second)
    h1, h2 = blobs.digest(first), blobs.digest(second)
    with store.db.session() as s:
        delta = s.scalars(select(Blob).where(Blob.hash == h2)).one()
        assert delta.base == h1
        assert len(delta.data) * 4 < len(blobs.compress(second)), "the delta is not small"
    # Read back exactly, also by a process that has not cached the base.
    fresh = open_storage(store.url())
    try:
        assert fresh.history.raw_body(h2) == second and fresh.history.raw_body(h1) == first
    finally:
        fresh.close()

    # gc never removes a base while a delta needs it, even once no version does.
    with store.db.session() as s:
        s.execute(update(Version).where(Version.raw_hash == h1).values(raw_hash=None))
    assert h1 not in store.archive.unused_blobs()
    assert store.archive.delete_blobs([h1]) == 0
    assert store.history.raw_body(h2) == second
    with store.db.session() as s:
        s.execute(update(Version).where(Version.raw_hash == h2).values(raw_hash=None))
    assert store.archive.unused_blobs() == [h2]
    assert store.archive.delete_blobs([h2]) > 0
    # The watch still compresses its next bodies against its base: kept while
    # the watch is fetched, free once it rests.
    assert store.archive.unused_blobs() == []
    store.watches.set_state([w.id], WatchState.RETIRED, now=T0)
    assert store.archive.unused_blobs() == [h1]


def test_concurrent_claims_never_overlap_and_leave_nothing_behind(
    store: Storage, tmp_path: Path, database_url: str | None
) -> None:
    """Four workers claiming at once, batch after batch: every due watch is
    taken exactly once (PostgreSQL: FOR UPDATE SKIP LOCKED)."""
    import threading

    urls = [f"https://claims.example/{i}" for i in range(200)]
    store.watches.add(urls, now=T0)
    url = database_url or sqlite.url_for(tmp_path / "t.db")
    taken: dict[str, list[int]] = {}

    together = threading.Barrier(4)

    def worker(name: str) -> None:
        mine = open_storage(url)
        got: list[int] = []
        after = 0  # as a pass over every watch walks them: by id, batch after batch
        try:
            while batch := mine.leases.claim(
                name, now=T0, lease=timedelta(minutes=5), limit=7, due_only=False, after_id=after
            ):
                got.extend(t.watch_id for t in batch)
                after = batch[-1].watch_id
                if not together.broken and len(got) == len(batch):
                    # Every worker holds its first batch before any goes on: on a
                    # busy machine one thread could otherwise claim them all.
                    together.wait(timeout=60)
        finally:
            mine.close()
        taken[name] = got

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    every = [wid for got in taken.values() for wid in got]
    assert len(every) == len(set(every)) == len(urls)
    assert sum(1 for got in taken.values() if got) == 4  # the work was shared


def test_two_processes_migrating_at_once(tmp_path: Path, database_url: str | None) -> None:
    """A daemon and a cron pass starting together on a new database."""
    import subprocess
    import sys

    url = database_url or sqlite.url_for(tmp_path / "fresh.db")
    code = "import sys; from raqib.storage import open_storage; open_storage(sys.argv[1]).close()"
    procs = [subprocess.Popen([sys.executable, "-c", code, url]) for _ in range(3)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0]
    from raqib.storage.migrate import HEAD

    fresh = open_storage(url)
    try:
        assert current(fresh.db.engine) == HEAD
    finally:
        fresh.close()


def test_outlet_sources_due_and_claimed_once(store: Storage) -> None:
    """The daemon starts a pass when a source is due even if no watch is; a
    claimed source is not due again (nor claimable by a second worker) until
    its interval has passed."""
    now = datetime(2026, 3, 1, tzinfo=UTC)
    store.outlets.add("alpha", [("feed", "https://alpha.example/rss")], retain_days=30, now=now)
    assert store.outlets.count_due(now=now) == 1
    every = {"": timedelta(minutes=10)}
    assert [x.url for x in store.outlets.claim_sources(now=now, every=every)] == [
        "https://alpha.example/rss"
    ]
    assert store.outlets.claim_sources(now=now, every=every) == []
    assert store.outlets.count_due(now=now + timedelta(minutes=9)) == 0
    assert store.outlets.count_due(now=now + timedelta(minutes=10)) == 1


def test_an_outlet_read_and_a_sweep_share_a_site_one_at_a_time(store: Storage) -> None:
    """An outlet's feed is read outside any watch's lease. Read beside another
    worker's sweep of its site, it sent that site more than `fetch.per_domain`
    requests at once. A read holds its sources' sites until it lets them go,
    and waits for a site another worker holds, up to one interval."""
    lease, every = timedelta(minutes=15), {"": timedelta(minutes=10)}
    store.outlets.add(
        "alpha", [("feed", "https://alpha.example/rss"), ("front", "https://beta.example/")],
        retain_days=30, now=T0,
    )  # fmt: skip
    store.watches.add(["https://alpha.example/a", "https://beta.example/b"], now=T0)
    beta = store.leases.claim("sweeper", now=T0, lease=lease, limit=1, only=[2])
    assert [_host(t) for t in beta] == ["beta.example"]
    read = store.outlets.claim_sources(now=T0, every=every, owner="reader", hold=lease)
    assert [x.url for x in read] == ["https://alpha.example/rss"]  # beta's front waits
    assert store.leases.readers(now=T0) == ["reader"]
    assert store.leases.claim("sweeper", now=T0, lease=lease, limit=10) == []  # alpha is held
    assert store.leases.blocked("sweeper", now=T0) == {"reader": 1}
    store.leases.let_go("reader")
    assert [_host(t) for t in store.leases.claim("sweeper", now=T0, lease=lease, limit=10)] == [
        "alpha.example"
    ]
    assert store.leases.readers(now=T0) == []
    # Overdue by one interval, beta's front is read beside the sweep: a long
    # sweep must not keep the outlet's new articles unwatched.
    soon, late = T0 + timedelta(minutes=9), T0 + timedelta(minutes=10)
    assert store.outlets.claim_sources(now=soon, every=every, owner="reader", hold=lease) == []
    late_read = store.outlets.claim_sources(now=late, every=every, owner="reader", hold=lease)
    assert [x.url for x in late_read] == ["https://beta.example/"]
    # Named by the user (`discover --outlet`), every source is read at once.
    store.leases.release("reader")
    forced = store.outlets.claim_sources(
        now=late, every=every, outlet="alpha", force=True, owner="named", hold=lease
    )
    assert sorted(x.url for x in forced) == ["https://alpha.example/rss", "https://beta.example/"]
    # A reader that died without letting go holds its sites until its hold runs out.
    after = late + lease + timedelta(seconds=1)
    assert store.leases.readers(now=after) == []
    assert len(store.leases.claim("sweeper", now=after, lease=lease, limit=10)) == 2


def test_search_indexes_every_version_whatever_order_they_commit_in(store: Storage) -> None:
    """A version whose id is below one already indexed (another worker
    committed it later) is still indexed by the next refresh, once."""
    from sqlalchemy import delete

    from raqib.normalize.arabic import matching_key
    from raqib.storage.models import VersionSearch

    (w, _), *_ = store.watches.add(["https://a.example/search"], now=T0)
    record(store, w.id, "new_version", T0, "ارتفع عدد المتضررين إلى مئة")
    record(store, w.id, "new_version", T0 + timedelta(hours=1), "ارتفع عدد المتضررين إلى مئتين")
    assert store.search.refresh(matching_key) == 2
    first = min(v.id for _w, v in store.search.find(["المتضررين"]))
    with store.db.session() as s:  # as if the first had not been committed at refresh time
        s.execute(delete(VersionSearch).where(VersionSearch.version_id == first))
    assert store.search.refresh(matching_key) == 1
    assert store.search.refresh(matching_key) == 0
    assert len(store.search.find(["المتضررين"])) == 2

    # Purged: gone from the index too (SQLite's FTS5 table is told, not triggered).
    def in_fts() -> int:  # entries for the second version (its key says 200)
        with store.db.engine.connect() as conn:
            return int(
                conn.exec_driver_sql(
                    "SELECT count(*) FROM version_search_fts WHERE version_search_fts MATCH '200'"
                ).scalar()
                or 0
            )

    sqlite = store.db.engine.dialect.name == "sqlite"
    assert not sqlite or in_fts() == 1
    store.watches.purge([w.id])
    assert store.search.find(["المتضررين"]) == []
    assert not sqlite or in_fts() == 0


def test_a_batch_writes_each_fetch_to_its_own_watch_whatever_its_kind(store: Storage) -> None:
    """A batch mixes kinds of fetch, each kind of row written for the whole
    batch at once (one INSERT … RETURNING in parameter order), and one whose
    lease was lost writes nothing. Each Recorded must name the row written for
    its own fetch, each watch must get its own state."""
    added = store.watches.add([f"https://a.example/b{i}" for i in range(8)], now=T0)
    ids = [w.id for (w, _new) in added]
    for wid in ids:  # every watch has a version: unchanged and 304 extend it
        record(store, wid, "new_version", T0, f"النص الأول للخبر رقم {wid}")
    owner = "pass-1"
    t1 = T0 + timedelta(hours=1)
    store.leases.claim(owner, now=t1, lease=timedelta(minutes=5), limit=100, due_only=False)
    (taken,) = store.leases.claim(
        "thief", now=t1 + timedelta(minutes=6), lease=timedelta(minutes=5), limit=1, due_only=False
    )  # the first watch's lease expired and another worker took it
    stolen = taken.watch_id
    kinds = ["unchanged", "not_modified", "error", "new_version", "unchanged", "removed",
             "not_modified", "new_version"]  # fmt: skip
    recs = [
        FetchRecord(
            watch_id=wid, fetched_at=t1, outcome=kind, next_check_at=t1 + timedelta(minutes=k + 1),
            status={"not_modified": 304, "error": 503, "removed": 404}.get(kind, 200),
            detail=f"fetch {wid}", etag=f'"{wid}"',
            snapshot=snap(f"النص الثاني للخبر رقم {wid}") if kind == "new_version" else None,
            raw_body=b"<html>2</html>" if kind == "new_version" else None,
        )
        for k, (wid, kind) in enumerate(zip(ids, kinds, strict=True))
    ]  # fmt: skip
    out = store.history.record_many(recs, owner=owner)
    assert len(out) == len(recs)
    for rec, got in zip(recs, out, strict=True):
        log = store.history.fetches(rec.watch_id)
        if rec.watch_id == stolen:
            assert got.lease_lost and len(log) == 1  # the first fetch only
            continue
        assert not got.lease_lost and got.outcome == rec.outcome
        row = next(f for f in log if f.id == got.fetch_id)
        assert (row.watch_id, row.outcome, row.detail) == (rec.watch_id, rec.outcome, rec.detail)
        assert store.watches.get(rec.watch_id).next_check_at == rec.next_check_at
        versions = store.history.versions(rec.watch_id)
        assert len(versions) == (2 if rec.outcome == "new_version" else 1)
        if rec.outcome in ("unchanged", "not_modified"):
            assert versions[-1].last_seen == t1
    # Recording released this pass's leases; the other worker keeps its own.
    assert store.leases.holders(now=t1, due_only=False) == {"thief": 1}


def test_a_batch_with_a_watch_fetched_twice_writes_them_in_order(store: Storage) -> None:
    """One watch twice in a batch (a redirect's target watched already): the
    second fetch is judged against what the first stored, as if written
    after it. A body shared by two watches is stored once, and a watch's later
    bodies are deltas against its first."""
    (a, _), (b, _) = store.watches.add(["https://a.example/t1", "https://a.example/t2"], now=T0)
    owner = "pass-1"  # writing the first fetch releases the lease: the later ones still count
    store.leases.claim(owner, now=T0, lease=timedelta(minutes=5), limit=2, due_only=False)
    body = b"<html>" + "نص مشترك ".encode() * 200 + b"</html>"
    t1 = T0 + timedelta(hours=1)

    def fetch(wid: int, text: str, raw: bytes, at: datetime = T0) -> FetchRecord:
        return FetchRecord(
            wid, at, "new_version", at + timedelta(hours=1), status=200, snapshot=snap(text),
            raw_body=raw,
        )  # fmt: skip

    out = store.history.record_many(
        [
            fetch(a.id, "الأول", body),
            fetch(b.id, "الأول", body),  # the same body, another watch
            fetch(a.id, "الأول", body),  # the same text again: unchanged
            fetch(a.id, "الثاني", body + b"<p>2</p>", t1),
        ],
        owner=owner,
    )
    assert [(r.outcome, r.version_number) for r in out] == [
        ("new_version", 1), ("new_version", 1), ("unchanged", None), ("new_version", 2),
    ]  # fmt: skip
    assert len({r.fetch_id for r in out}) == 4 and not any(r.lease_lost for r in out)
    assert [v.text for v in store.history.versions(a.id)] == ["الأول", "الثاني"]
    assert [f.outcome for f in store.history.fetches(a.id)] == [
        "new_version", "unchanged", "new_version",
    ]  # fmt: skip
    first, second = store.history.versions(a.id)
    assert store.history.versions(b.id)[0].raw_hash == first.raw_hash
    assert store.history.raw_body(second.raw_hash or "") == body + b"<p>2</p>"
    watch = store.watches.get(a.id)
    assert (watch.version_count, watch.last_checked_at) == (2, t1)
    with store.db.session() as s:
        from sqlalchemy import func, select

        from raqib.storage.models import Blob

        assert s.scalar(select(func.count()).select_from(Blob)) == 2
        assert s.scalar(select(Blob.base).where(Blob.hash == second.raw_hash)) == first.raw_hash


def test_a_batch_refused_for_one_value_is_written_one_fetch_at_a_time(store: Storage) -> None:
    """A lone surrogate (no driver encodes one) in one fetch: that fetch is its
    watch's error, counted and a day off; the others, a watch's second fetch
    in the batch included, are written as the batch would have been."""
    import dataclasses

    (a, _), (b, _) = store.watches.add(["https://a.example/r1", "https://a.example/r2"], now=T0)
    owner = "pass-1"
    store.leases.claim(owner, now=T0, lease=timedelta(minutes=5), limit=2, due_only=False)

    def fetch(wid: int, text: str, title: str = "عنوان", at: datetime = T0) -> FetchRecord:
        return FetchRecord(
            wid, at, "new_version", at + timedelta(hours=1), status=200,
            snapshot=dataclasses.replace(snap(text), title=title), raw_body=text.encode(),
        )  # fmt: skip

    t1 = T0 + timedelta(minutes=5)
    out = store.history.record_many(
        [fetch(a.id, "الأول"), fetch(b.id, "نص", "\ud800عنوان"), fetch(a.id, "الثاني", at=t1)],
        owner=owner,
    )
    assert [(r.outcome, r.version_number, r.lease_lost) for r in out] == [
        ("new_version", 1, False), ("error", None, False), ("new_version", 2, False),
    ]  # fmt: skip
    assert [v.text for v in store.history.versions(a.id)] == ["الأول", "الثاني"]
    assert store.history.versions(b.id) == []
    [entry] = store.history.fetches(b.id)
    assert (entry.detail or "").startswith("could not be stored: UnicodeEncodeError")
    watch = store.watches.get(b.id)
    assert (watch.error_count, watch.next_check_at) == (1, T0 + timedelta(days=1))


def test_a_url_two_watches_answer_to_goes_to_the_first_in_the_batch(store: Storage) -> None:
    """The watch whose fetch comes first in the batch keeps a shared alias,
    even when that fetch is written in a later round."""
    (a, _), (b, _) = store.watches.add(["https://a.example/u1", "https://a.example/u2"], now=T0)
    alias = "https://a.example/moved"

    def fetch(wid: int, outcome: str, aliases: list[str]) -> FetchRecord:
        return FetchRecord(
            wid, T0, outcome, T0 + timedelta(hours=1), status=200,
            snapshot=snap(f"نص {wid}") if outcome == "new_version" else None, aliases=aliases,
        )  # fmt: skip

    store.history.record_many(
        [
            fetch(a.id, "error", []),
            fetch(a.id, "new_version", [alias]),
            fetch(b.id, "new_version", [alias]),
        ]
    )
    with store.db.session() as s:
        from raqib.storage.models import Alias

        assert s.get(Alias, alias).watch_id == a.id


def test_a_batch_rolled_back_forgets_the_warc_files_it_named(
    store: Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A WARC file named in a batch that failed has no row: its id must not
    go on naming it, or the next file named takes the id and a later fetch
    in the first file is logged in the second."""
    from raqib.storage import writes

    ((w, _),) = store.watches.add(["https://a.example/warc"], now=T0)

    def fetch(at: datetime, warc: str, *aliases: str) -> FetchRecord:
        return FetchRecord(
            w.id, at, "error", at + timedelta(hours=1), status=503, warc_file=warc,
            warc_offset=0, aliases=list(aliases),
        )  # fmt: skip

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk gone")

    with monkeypatch.context() as m:
        m.setattr(writes, "add_alias", boom)
        with pytest.raises(RuntimeError):
            store.history.record(fetch(T0, "one.warc.gz", "https://a.example/other"))
    store.history.record(fetch(T0 + timedelta(hours=1), "two.warc.gz"))
    store.history.record(fetch(T0 + timedelta(hours=2), "one.warc.gz"))
    assert [f.warc_file for f in store.history.fetches(w.id)] == ["two.warc.gz", "one.warc.gz"]


def test_batches_that_deadlock_on_shared_bodies_are_written_again(
    store: Storage, backend: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Two workers' batches store the same two new bodies in opposite orders
    (each a watch fetched twice: a round each). PostgreSQL aborts one for a
    deadlock; it is written again, and both batches are recorded."""
    import threading

    from raqib.storage import bodies

    if backend != "postgresql":
        pytest.skip("SQLite has one writer at a time: no two can wait on each other")
    other = open_storage(store.url())
    (a, _), (c, _) = store.watches.add(["https://a.example/d1", "https://a.example/d2"], now=T0)
    lease = timedelta(minutes=5)
    store.leases.claim("w1", now=T0, lease=lease, limit=1, due_only=False, only=[a.id])
    store.leases.claim("w2", now=T0, lease=lease, limit=1, due_only=False, only=[c.id])
    x, y = b"<html>X" + b"x" * 3000, b"<html>Y" + b"y" * 3000

    def batch(wid: int, first: bytes, second: bytes) -> list[FetchRecord]:
        return [
            FetchRecord(
                wid,
                T0 + timedelta(hours=k),
                "new_version",
                T0,
                status=200,
                snapshot=snap(f"نص {k}"),
                raw_body=body,
            )
            for k, body in enumerate((first, second))
        ]

    # Both hold their first body, uncommitted, before either stores its second.
    barrier, calls, insert_new = threading.Barrier(2, timeout=30), {}, bodies.insert_new

    def held(conn: object, table: object, rows: list[dict[str, object]], **kw: object) -> object:
        out = insert_new(conn, table, rows, **kw)
        me = threading.get_ident()
        calls[me] = calls.get(me, 0) + 1
        if calls[me] == 1:
            barrier.wait()
        return out

    monkeypatch.setattr(bodies, "insert_new", held)
    results: dict[str, object] = {}

    def run(name: str, storage: Storage, recs: list[FetchRecord]) -> None:
        try:
            results[name] = [
                r.version_number for r in storage.history.record_many(recs, owner=name)
            ]
        except Exception as exc:  # the assertion below names it
            results[name] = exc

    threads = [
        threading.Thread(target=run, args=("w1", store, batch(a.id, x, y))),
        threading.Thread(target=run, args=("w2", other, batch(c.id, y, x))),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    other.close()
    assert results == {"w1": [1, 2], "w2": [1, 2]}
    assert "writing a batch of 2 fetches again: deadlock detected" in caplog.text


def test_a_version_recorded_with_its_key_is_searchable_before_any_refresh(store: Storage) -> None:
    """A pass keys its new versions in the crawler processes and indexes them
    as it records them: the refresh after the pass finds none left to key, and
    a new version that turns out unchanged indexes nothing."""
    from raqib.normalize.arabic import matching_key

    (w, _), *_ = store.watches.add(["https://a.example/keyed"], now=T0)
    text = "ارتفع عدد المتضررين إلى ثلاثة آلاف"
    s = snap(text)
    key = matching_key(f"{s.title}\n{s.text}")
    for at in (T0, T0 + timedelta(hours=1)):  # the second is the same text: unchanged
        store.history.record(
            FetchRecord(
                w.id, at, "new_version", at + timedelta(minutes=15), status=200, snapshot=s,
                raw_body=b"<html>raw</html>", search_key=key,
            )
        )  # fmt: skip
    found = store.search.find(["المتضررين", "3000"])
    assert [(x.id, v.number) for x, v in found] == [(w.id, 1)]
    assert store.search.refresh(matching_key) == 0


def test_a_raw_body_another_worker_stored_first_is_kept_and_no_error(store: Storage) -> None:
    """A recorder looks for a body's hash, then inserts it: another worker may
    store the same body in between. The second insert keeps the first's row,
    without a savepoint, and the transaction goes on (PostgreSQL aborts a
    transaction on an error that is not caught by a savepoint)."""
    from sqlalchemy import func, select

    from raqib.storage.db import insert_new
    from raqib.storage.models import Blob

    row = {"hash": "a" * 64, "size": 5, "data": b"first", "base": None}
    with store.db.session() as s:
        conn = s.connection()
        insert_new(conn, Blob.__table__, [row])
        insert_new(conn, Blob.__table__, [{**row, "data": b"other"}, {**row, "hash": "b" * 64}])
    with store.db.session() as s:
        assert s.execute(select(Blob.hash, Blob.data).order_by(Blob.hash)).all() == [
            ("a" * 64, b"first"),
            ("b" * 64, b"first"),
        ]
        assert s.scalar(select(func.count()).select_from(Blob)) == 2


def _until_one_waits(store: Storage, alive: Any, timeout: float = 60) -> bool:
    """Whether a connection came to wait on a lock (PostgreSQL's view, polled)
    while `alive()`; False once it is not. Each look is a transaction of its
    own: pg_stat_activity is read once a transaction, and a look repeated in
    one sees nothing new."""
    import time

    deadline = time.monotonic() + timeout
    waiting = text(
        "SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
        "AND datname = current_database()"
    )
    with store.db.engine.connect() as watch:
        while alive():
            if watch.execute(waiting).first():
                return True
            watch.rollback()
            assert time.monotonic() < deadline, "no lock wait seen"
            time.sleep(0.02)  # polling the server: it tells no one of a lock wait
    return False


def _second_waits_on_the_first(store: Storage, first_writes: Any, second: Any) -> None:
    """Run `second` in a thread while another connection holds what
    `first_writes` inserted, uncommitted; commit once `second` waits on it
    (PostgreSQL's lock wait, polled), then let `second` finish."""
    import threading

    with store.db.engine.connect() as first:
        tx = first.begin()
        first_writes(first)
        t = threading.Thread(target=second)
        t.start()
        assert _until_one_waits(store, t.is_alive), "the second never waited"
        tx.commit()
    t.join(timeout=30)


def test_two_workers_naming_one_warc_file_share_its_row(store: Storage, backend: str) -> None:
    """Workers on one home append to the same WARC file; when two name it at
    once, the second takes the first's row instead of losing its batch."""
    from sqlalchemy import insert, select

    from raqib.storage.models import WarcFile

    if backend != "postgresql":
        pytest.skip("SQLite has one writer at a time: no two can insert at once")
    name = "RAQIB-20260101120000000-00001-test.warc.gz"
    other = open_storage(store.url())
    got: dict[str, int] = {}

    def second_worker() -> None:
        with other.db.session() as s:
            got["id"] = other.history.writer.warc_file_id(s, name)

    try:  # the first worker has named the file, not committed yet
        _second_waits_on_the_first(
            store, lambda conn: conn.execute(insert(WarcFile).values(name=name)), second_worker
        )
    finally:
        other.close()
    with store.db.session() as s:
        assert got["id"] == s.scalar(select(WarcFile.id).where(WarcFile.name == name))


def test_two_workers_remember_one_new_capture_at_once(store: Storage, backend: str) -> None:
    """Two crawler processes may capture one new URL at once. The second's
    batch of last captures waited on the first's row and then failed on it
    (a unique violation), losing its every other capture with it; it now
    replaces the row it waited on."""
    from sqlalchemy import text

    if backend != "postgresql":
        pytest.skip("SQLite has one writer at a time: no two can insert at once")
    url, other_url = "https://a.example/1", "https://a.example/2"
    other = open_storage(store.url())
    failed: list[BaseException] = []

    def second_worker() -> None:
        try:
            other.archive.remember_captures({
                url: ("sha1:B", url, "2026-01-01T12:00:01Z", "RAQIB-b.warc.gz", 20),
                other_url: ("sha1:C", other_url, "2026-01-01T12:00:02Z", "RAQIB-b.warc.gz", 40),
            })  # fmt: skip
        except BaseException as exc:
            failed.append(exc)

    insert = "INSERT INTO captures (url, digest, uri, date) VALUES (:u, 'sha1:A', :u, 'x')"
    try:  # the first worker's batch, not committed yet
        _second_waits_on_the_first(
            store, lambda conn: conn.execute(text(insert), {"u": url}), second_worker
        )
    finally:
        other.close()
    assert not failed, failed
    assert store.archive.last_capture(url) == (
        "sha1:B", url, "2026-01-01T12:00:01Z", "RAQIB-b.warc.gz", 20
    )  # fmt: skip
    assert store.archive.last_capture(other_url) is not None


def test_changes_are_stored_once_whoever_judges_them_first(store: Storage) -> None:
    """A batch of judgements is one transaction; a pair another worker stored
    first is skipped (no error, no duplicate) and only this call's are returned."""
    from raqib.domain import Judgement

    for n, url in enumerate(["https://a.example/1", "https://a.example/2", "https://a.example/3"]):
        ((w, _),) = store.watches.add([url], now=T0)
        record(store, w.id, "new_version", T0, f"نص أول {n}")
        record(store, w.id, "new_version", T0 + timedelta(hours=1), f"نص ثان {n}")
    pairs = store.changes.unanalyzed()
    assert len(pairs) == 3
    # A batch holds no more text than asked, and at least one pair however long.
    a, b, c = (len(old.text) + len(new.text) for old, new in pairs)
    budgets = (1, a + b - 1, a + b, a + b + c)
    assert [len(store.changes.unanalyzed(max_chars=n)) for n in budgets] == [1, 1, 2, 3]
    assert len(store.changes.unanalyzed(limit=2)) == 2

    def judged(old, new):  # type: ignore[no-untyped-def]
        verdict = Judgement(
            kind="substantive", silent=True, headline_changed=False, byline_changed=False,
            chars_changed=3, analysis={"words": [[1, "ثان"]]}, analyzer="test 1",
        )  # fmt: skip
        return (old, new, verdict)

    first = store.changes.save_many([judged(*pairs[0])])  # another worker's
    assert [c.to_version_id for c in first] == [pairs[0][1].id]
    mine = store.changes.save_many([judged(*p) for p in pairs])
    assert [c.to_version_id for c in mine] == [pairs[1][1].id, pairs[2][1].id]
    assert mine[0].id < mine[1].id and mine[0].analysis == {"words": [[1, "ثان"]]}
    assert mine[0].detected_at == pairs[1][1].first_seen and mine[0].silent is True
    assert store.changes.unanalyzed() == []
    assert store.changes.save_many([judged(*p) for p in pairs]) == []
    assert sorted(row.change.to_version_id for row in store.changes.all()) == sorted(
        new.id for _old, new in pairs
    )


def test_the_search_index_reads_a_batch_of_text_at_a_time(store: Storage, monkeypatch) -> None:
    import raqib.storage.search as search

    for n in range(3):
        ((w, _),) = store.watches.add([f"https://a.example/{n}"], now=T0)
        record(store, w.id, "new_version", T0, f"نص أول {n}")
        record(store, w.id, "new_version", T0 + timedelta(hours=1), f"نص ثان {n}")
    batches: list[int] = []
    add_keys = search.add_keys
    monkeypatch.setattr(
        search, "add_keys", lambda c, rows: (batches.append(len(rows)), add_keys(c, rows))
    )
    monkeypatch.setattr(search, "MAX_BATCH_CHARS", 1)  # every version is over it: one a batch
    assert store.search.refresh(lambda t: t) == 6 and batches == [1] * 6
    assert store.search.refresh(lambda t: t) == 0


def test_listed_articles_are_watched_in_one_go_and_a_repeat_or_a_hand_watch_once(
    store: Storage,
) -> None:
    from raqib.domain import Listed

    outlet, _ = store.outlets.add(
        "wire", [("feed", "https://w.example/feed")], retain_days=None, now=T0
    )
    ((by_hand, _),) = store.watches.add(["https://w.example/a/0"], now=T0)
    listed = [Listed(f"https://w.example/a/{i}", 1, "https://w.example/feed") for i in range(1200)]
    # 1,199 new across two chunks of 900; the one watched by hand joins the outlet.
    assert store.outlets.watch(outlet.id, listed, now=T0) == 1199
    found = [store.watches.find(item.url) for item in listed]
    assert all(w is not None and w.outlet == "wire" for w in found)
    assert found[0] is not None and found[0].id == by_hand.id and found[0].origin == "manual"
    assert {w.origin for w in found[1:] if w is not None} == {"outlet"}
    # Listed twice in one batch (the batch's insert fails): watched once, one at a time.
    twice = [Listed("https://w.example/b/1", 1, "https://w.example/feed")] * 2
    assert store.outlets.watch(outlet.id, twice, now=T0) == 1
    assert store.outlets.watch(outlet.id, listed + twice, now=T0) == 0


def test_a_pass_judges_its_own_versions_and_what_a_stopped_pass_left(store: Storage) -> None:
    """Two passes ending together each judged every unjudged pair, and each
    counted only what it stored first ("29 new versions (0 substantive)"):
    a pass judges its own watches' versions, and others' only once they are
    older than `before` (a lease: their pass stopped before judging them)."""
    from raqib import analysis

    ids = []
    for n in range(3):
        ((w, _),) = store.watches.add([f"https://a.example/{n}"], now=T0)
        record(store, w.id, "new_version", T0, f"نص أول {n}")
        record(store, w.id, "new_version", T0 + timedelta(hours=n + 1), f"نص ثان {n}")
        ids.append(w.id)
    mine = analysis.analyze_pending(store, watches={ids[2]}, before=T0 + timedelta(minutes=30))
    assert [new.watch_id for _c, new in mine] == [ids[2]]
    left = analysis.analyze_pending(store, watches=set(), before=T0 + timedelta(hours=1, minutes=1))
    assert [new.watch_id for _c, new in left] == [ids[0]]  # a lease old: its pass stopped
    assert [new.watch_id for _c, new in analysis.analyze_pending(store)] == [ids[1]]


def test_a_change_an_older_analyzer_judged_is_stored_again_with_its_marks(
    store: Storage,
) -> None:
    """upgrade_stale stores a newer analyzer's judgement over an older one's,
    marks (figures, quotes) included: the badges and --facts read them."""
    from raqib import analysis
    from raqib.storage import models as m

    ((w, _),) = store.watches.add(["https://a.example/1"], now=T0)
    record(store, w.id, "new_version", T0, "صدر 3 ملايين برميل يوميا من الحقول.")
    record(
        store, w.id, "new_version", T0 + timedelta(hours=1), "صدر 4 ملايين برميل يوميا من الحقول."
    )
    (stored,) = analysis.analyze_pending(store)
    assert stored[0].analysis["facts"]["numbers"] and store.changes.count(facts=1) == 1
    with store.db.session() as s:
        s.execute(update(m.Change).values(analyzer="raqib-diff 1", marks=0))
    assert store.changes.count(facts=1) == 0
    assert analysis.upgrade_stale(store) == 1
    assert store.changes.count(facts=1) == 1
    assert store.changes.analyzed_by_other(analysis.ANALYZER, limit=5) == []


def test_changes_read_a_page_at_a_time_across_one_moment(store: Storage) -> None:
    """Listing pages through changes by (detected_at, id): five changes of one
    moment, read two at a time, come once each, in order."""
    from raqib.domain import Judgement

    for n in range(5):
        ((w, _),) = store.watches.add([f"https://a.example/{n}"], now=T0)
        record(store, w.id, "new_version", T0, f"نص أول {n}")
        record(store, w.id, "new_version", T0 + timedelta(hours=1), f"نص ثان {n}")
    verdict = Judgement(
        kind="cosmetic", silent=False, headline_changed=False, byline_changed=False,
        chars_changed=1, analysis={}, analyzer="test 1",
    )  # fmt: skip
    store.changes.save_many([(old, new, verdict) for old, new in store.changes.unanalyzed()])
    whole = [r.change.id for r in store.changes.all()]
    assert len(whole) == 5 and len({r.change.detected_at for r in store.changes.all()}) == 1
    read, after = [], None
    while page := store.changes.all(after=after, limit=2):
        assert len(page) <= 2
        read += [r.change.id for r in page]
        after = (page[-1].change.detected_at, page[-1].change.id)
    assert read == whole


def test_migration_0018_notes_a_stamp_that_moved_before_it(store: Storage) -> None:
    """Passes note a version's seen notices only when they move from the last
    read's (the watch's meta): a stamp that moved before the upgrade is in the
    meta alone, and the migration notes it on the latest version."""
    import json

    from alembic import command

    from raqib.storage import models as m
    from raqib.storage.migrate import config

    ((w, _),) = store.watches.add(["https://a.example/stamp"], now=T0)
    record(store, w.id, "new_version", T0, "نص أول")
    record(store, w.id, "new_version", T0 + timedelta(hours=1), "نص ثان")
    with store.db.session() as s:
        s.execute(update(m.Version).values(notices=["آخر تحديث 14:00"]))
        s.execute(update(m.Watch).values(meta={"notices": ["آخر تحديث 16:30", "آخر تحديث 14:00"]}))
    with store.db.engine.connect() as conn:
        with conn.begin():
            cfg = config(store.db.engine)
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0017")
            command.upgrade(cfg, "0018")
        rows = conn.execute(text("SELECT number, seen_notices FROM versions ORDER BY number"))
        seen = [(n, json.loads(s) if isinstance(s, str) else s) for n, s in rows]
    assert seen == [(1, None), (2, ["آخر تحديث 16:30"])]  # the latest version's only


def test_marks_keep_the_facts_a_change_touched(store: Storage) -> None:
    """changes.marks, set as a change is stored and made by migration 0016
    for changes stored before it: what the listings count and filter on
    without reading analyses."""
    from alembic import command
    from sqlalchemy import text

    from raqib.domain import Judgement, WatchMarks
    from raqib.storage.migrate import config

    facts = [{"numbers": [["3", "4"]]}, {"quotes": ["«»"], "negations": ["لم"]}, {}]
    for n in range(3):
        ((w, _),) = store.watches.add([f"https://a.example/{n}"], now=T0)
        record(store, w.id, "new_version", T0, f"نص أول {n}")
        record(store, w.id, "new_version", T0 + timedelta(hours=1), f"نص ثان {n}")
    judged = [
        (old, new, Judgement(
            kind="substantive", silent=n == 0, headline_changed=n == 1, byline_changed=False,
            chars_changed=1, analysis={"facts": facts[n]}, analyzer="test 1",
        ))
        for n, (old, new) in enumerate(store.changes.unanalyzed())
    ]  # fmt: skip
    stored = store.changes.save_many(judged)
    ids = [c.watch_id for c in stored]
    expected = {
        ids[0]: WatchMarks(1, True, False, True, False),
        ids[1]: WatchMarks(1, False, True, False, True),
        ids[2]: WatchMarks(1, False, False, False, False),
    }
    assert store.changes.marks_by_watch("test 1") == expected
    assert store.changes.marks_by_watch("test 2") == {}
    assert [store.changes.count(facts=b) for b in (1, 2, 4, 6, 7)] == [1, 1, 1, 1, 2]
    with store.db.engine.connect() as conn:
        with conn.begin():
            cfg = config(store.db.engine)
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0015")
            command.upgrade(cfg, "0016")
        marks = conn.execute(text("SELECT marks FROM changes ORDER BY id")).scalars().all()
    assert marks == [1, 6, 0]
    assert store.changes.marks_by_watch("test 1") == expected


def _watch_with_a_change(store: Storage, url: str) -> tuple[int, int]:
    """A watch with two versions and the change between them: (watch id, change id)."""
    from raqib.analysis import analyze_pending

    ((w, _),) = store.watches.add([url], now=T0)
    record(store, w.id, "new_version", T0, "قال الوزير إن المفاوضات مستمرة")
    record(store, w.id, "new_version", T0 + timedelta(hours=1), "قال الوزير إن المفاوضات انتهت")
    ((change, _new),) = analyze_pending(store)
    return w.id, change.id


def test_a_purged_watch_and_change_leave_their_ids_unused(store: Storage) -> None:
    """Ids name things outside the database (an Atom entry, a report page, a
    message): after the newest watch and change are purged, the next ones
    take new ids, not theirs."""
    _watch_with_a_change(store, "https://a.example/kept")
    gone_watch, gone_change = _watch_with_a_change(store, "https://a.example/purged")
    assert store.watches.purge([gone_watch]) == 1
    watch, change = _watch_with_a_change(store, "https://a.example/next")
    assert watch > gone_watch and change > gone_change


def test_a_watch_purged_or_retired_while_its_fetch_ran(store: Storage) -> None:
    """An operator's `unwatch --purge` beside another worker's pass stopped
    that whole pass ("no watch 1") and threw its other fetches away; an
    outlet removed beside it came back active (retired was overwritten)."""
    (a, _), (b, _), (c, _) = store.watches.add(
        ["https://a.example/1", "https://a.example/2", "https://a.example/3"], now=T0
    )
    store.watches.purge([a.id])
    store.watches.set_state([c.id], WatchState.RETIRED, now=T0)
    at = T0 + timedelta(hours=1)
    recs = [
        FetchRecord(w.id, at, "new_version", at, status=200, snapshot=snap(f"نص {w.id}"),
                    raw_body=b"<html>x</html>", new_state=WatchState.ACTIVE)
        for w in (a, b, c)
    ]  # fmt: skip
    gone, kept, retired = store.history.record_many(recs)
    assert gone.lease_lost and gone.version_number is None
    assert (kept.version_number, retired.version_number) == (1, 1)
    assert store.watches.by_id(a.id) is None
    assert store.watches.get(b.id).state == WatchState.ACTIVE
    assert store.watches.get(c.id).state == WatchState.RETIRED


def test_a_batch_written_while_postgresql_restarts_is_kept(tmp_path: Path) -> None:
    """A second's restart of the server failed every running pass, and what it
    had fetched was thrown away (an operator's finding): the writer waits for
    the server, trying again, and the batch is written when it is back."""
    import logging
    import threading

    from tests import pg

    bindir = pg.bindir()
    if bindir is None:
        pytest.skip("no PostgreSQL server binaries")
    cluster = pg.Cluster(bindir).start()
    store = open_storage(cluster.new_database())
    try:
        ((w, _),) = store.watches.add(["https://a.example/1"], now=T0)
        with store.db.session() as s:  # under this pass's lease, as a pass writes
            s.execute(text("UPDATE watches SET lease_owner = 'me' WHERE id = :w"), {"w": w.id})
        waiting = threading.Event()

        class Told(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                if "out of reach" in record.getMessage():
                    waiting.set()

        told = Told()
        logging.getLogger("raqib.storage.postgres").addHandler(told)
        cluster.halt()
        written: list[Any] = []
        rec = FetchRecord(w.id, T0, "new_version", T0, status=200, snapshot=snap("نص الخبر"),
                          raw_body=b"<html>x</html>")  # fmt: skip
        writer = threading.Thread(
            target=lambda: written.append(store.history.record(rec, owner="me"))
        )
        writer.start()
        try:
            assert waiting.wait(60), "the writer did not wait for the server"
        finally:
            cluster.resume()
            writer.join(120)
            logging.getLogger("raqib.storage.postgres").removeHandler(told)
        assert [r.version_number for r in written] == [1]
        assert [v.text for v in store.history.versions(w.id)] == ["نص الخبر"]
    finally:
        store.close()
        cluster.stop()


def test_upgrading_to_ids_never_reused_keeps_every_row(tmp_path: Path, caplog) -> None:
    """0008 rebuilds SQLite's watches and changes tables: every row, and every
    row pointing at them, is there after it (foreign keys are off while the
    old tables are dropped, so nothing cascades)."""
    from alembic import command
    from sqlalchemy import text

    from raqib.storage.migrate import config

    url = sqlite.url_for(tmp_path / "r.db")
    store = open_storage(url)
    for i in range(3):
        _watch_with_a_change(store, f"https://a.example/{i}")

    def rows() -> dict[str, int]:
        with store.db.engine.connect() as conn:
            return {
                t: int(conn.execute(text(f"SELECT count(*) FROM {t}")).scalar() or 0)
                for t in ("watches", "versions", "changes", "fetches", "aliases")
            }

    def schema() -> str:
        with store.db.engine.connect() as conn:
            return " ".join(
                r[0]
                for r in conn.exec_driver_sql(
                    "SELECT sql FROM sqlite_master WHERE name IN ('watches', 'changes')"
                )
            )

    before = rows()
    assert before["changes"] == 3 and schema().count("AUTOINCREMENT") == 2
    with store.db.engine.connect() as conn:  # back to 0007, as an older Raqib left it
        sqlite.foreign_keys(conn, on=False)
        with conn.begin():
            cfg = config(store.db.engine)
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0007")
        sqlite.foreign_keys(conn, on=True)
    assert "AUTOINCREMENT" not in schema() and rows() == before
    with store.db.engine.connect() as conn:  # foreign keys on: 0008 refuses, nothing cascades
        with pytest.raises(RuntimeError, match="foreign keys off"), conn.begin():
            cfg = config(store.db.engine)
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
    assert current(store.db.engine) == "0007" and rows() == before
    with store.db.engine.connect() as conn:  # references broken before the upgrade, one in
        sqlite.foreign_keys(conn, on=False)  # a table it rebuilds (which renumbers its keys)
        with conn.begin():
            conn.execute(
                text("INSERT INTO aliases (url, watch_id) VALUES ('https://gone.example/', 999)")
            )
            conn.execute(text("UPDATE changes SET from_version_id = 999 WHERE id = 1"))
        sqlite.foreign_keys(conn, on=True)
    before["aliases"] += 1
    store.close()

    caplog.clear()
    store = open_storage(url)  # upgrades, leaving the old broken reference as it was
    assert current(store.db.engine) == head()
    said = [r.getMessage() for r in caplog.records if r.name == "raqib"]
    assert (
        said[0] == f"upgrading the database from schema 0007 to {head()}: other Raqib commands wait"
    )
    assert said[1].startswith("database upgraded in ") and len(said) == 2
    assert schema().count("AUTOINCREMENT") == 2 and rows() == before
    with store.db.engine.connect() as conn:
        assert len(conn.exec_driver_sql("PRAGMA foreign_key_check").all()) == 2
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    newest = max(w.id for w in store.watches.all())
    store.watches.purge([newest])
    watch, _change = _watch_with_a_change(store, "https://a.example/after")
    assert watch > newest
    store.close()


def test_gc_never_removes_a_body_a_pass_is_storing_a_version_against(
    store: Storage, backend: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A body retention freed comes back (the page reverted): the pass finds
    it stored and writes a version referring to it, while a gc that judged it
    unused deletes it. The pass's batch then failed on its foreign key (and
    was written again, one fetch at a time); now the pass holds the body
    until its batch commits, and the gc, which waited, finds it used."""
    import threading

    from sqlalchemy import update

    from raqib.storage import writes
    from raqib.storage.models import Version, Watch

    if backend != "postgresql":
        pytest.skip("SQLite has one writer at a time: a gc cannot write beside a pass")
    body = ("<html>" + "نص عاد كما كان " * 500 + "</html>").encode()
    ((w, _),) = store.watches.add(["https://a.example/back"], now=T0)
    record(store, w.id, "new_version", T0, "نص أول", body=body)
    with store.db.session() as s:  # retention dropped it: no version or base needs it now
        s.execute(update(Version).values(raw_hash=None))
        s.execute(update(Watch).values(base_hash=None))
    (freed,) = store.archive.unused_blobs()
    found, go = threading.Event(), threading.Event()
    original = writes.store_bodies

    def found_then_wait(s: Any, conn: Any, cache: Any, bodies: Any) -> Any:
        hashes = original(s, conn, cache, bodies)
        found.set()  # the body is found stored; its version is not written yet
        assert go.wait(120)  # longer than the wait for the gc: a timeout there blames the gc
        return hashes

    monkeypatch.setattr(writes, "store_bodies", found_then_wait)
    outcome: dict[str, Any] = {}

    def the_pass() -> None:
        try:
            later = T0 + timedelta(days=1)
            outcome["pass"] = record(store, w.id, "new_version", later, "نص عاد", body=body)
        except BaseException as exc:
            outcome["pass"] = exc

    def the_gc() -> None:
        gc = open_storage(store.url())
        try:
            outcome["gc"] = gc.archive.delete_blobs([freed])
        except BaseException as exc:
            outcome["gc"] = exc
        finally:
            gc.close()

    passing = threading.Thread(target=the_pass)
    passing.start()
    assert found.wait(30)
    collecting = threading.Thread(target=the_gc)
    collecting.start()
    _until_one_waits(store, collecting.is_alive)  # the gc waits for the pass, or is done
    go.set()
    passing.join(30)
    collecting.join(30)
    assert not isinstance(outcome["pass"], BaseException), outcome["pass"]
    assert "was refused" not in caplog.text
    assert outcome["gc"] == 0, outcome["gc"]  # it waited, and found the body in use again
    latest = store.history.versions(w.id)[-1]
    assert store.history.raw_body(latest.raw_hash) == body


def test_a_command_that_only_reads_upgrades_an_older_schema(raqib) -> None:  # type: ignore[no-untyped-def]
    """After an upgrade of Raqib, every command that only reads (`watches`,
    `changes`, `serve`, `report`) refused an older schema until a pass wrote:
    a `raqib serve` stayed down until cron's next check. The one write such a
    command now makes is the upgrade."""
    from alembic import command

    from raqib.storage.migrate import HEAD, config

    raqib("watch", "--no-fetch", "https://a.example/news/1")
    store = raqib.open_storage()
    try:
        with store.db.engine.connect() as conn:
            if store.db.backend == "sqlite":
                sqlite.foreign_keys(conn, on=False)
            with conn.begin():
                cfg = config(store.db.engine)
                cfg.attributes["connection"] = conn
                command.downgrade(cfg, "0012")
        assert current(store.db.engine) == "0012"
    finally:
        store.close()
    result = raqib("watches", "--json")
    assert [w["url"] for w in result.json()] == ["https://a.example/news/1"]
    assert f"upgrading the database from schema 0012 to {HEAD}" in result.err
    store = raqib.open_storage(readonly=True)
    try:
        assert current(store.db.engine) == HEAD
    finally:
        store.close()


def test_a_check_during_a_migration_waits_for_it(pg_cluster, tmp_path: Path) -> None:
    """PostgreSQL: a command started while another Raqib migrated read the
    schema before the migration committed, passed its check, and wrote rows of
    its own schema into the migrated tables (an older Raqib's watches with no
    host). The check now waits for the migration, and then sees it."""
    import subprocess
    import time

    from sqlalchemy import create_engine

    from raqib.storage import postgres
    from tests.conftest import ROOT, raqib_command

    url = pg_cluster.new_database()
    open_storage(url).close()
    engine = create_engine(url)
    try:
        with engine.connect() as conn, conn.begin():  # a newer Raqib, migrating
            postgres.lock_for_migration(conn)
            conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
            p = subprocess.Popen(
                [*raqib_command(), "--home", str(tmp_path), "watches"],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                env={**os.environ, "RAQIB_DATABASE_URL": url},
            )  # fmt: skip
            deadline = time.monotonic() + 60
            with engine.connect() as probe:
                waiting = (
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                )
                while not probe.execute(text(waiting)).scalar() and time.monotonic() < deadline:
                    assert p.poll() is None, p.communicate()
                    time.sleep(0.05)  # polled: the lock request is the event waited for
        _out, err = p.communicate(timeout=60)
    finally:
        engine.dispose()
    assert p.returncode == 1 and "schema 9999, newer than this Raqib's" in err, err


def test_a_watch_an_older_raqib_added_gets_its_host_when_claimed(store: Storage) -> None:
    """An older Raqib writing into a migrated schema (a rolling upgrade) adds
    watches with the host column's default, "": every site's such watches were
    one site, and one site's split in two. The claim gives them their host."""
    store.watches.add(["https://a.example/news/1"], now=T0)
    with store.db.session() as s:
        s.execute(text("UPDATE watches SET host = ''"))
    [task] = store.leases.claim("w", now=T0, lease=timedelta(minutes=15), limit=10)
    with store.db.session() as s:
        assert s.execute(text("SELECT host FROM watches")).scalar() == "a.example"
    assert task.url == "https://a.example/news/1"


def test_a_pass_whose_changes_another_told_still_queues_its_other_messages(
    store: Storage,
) -> None:
    """Changes are marked told as their messages are queued. A pass whose
    changes another worker's pass told first queued nothing at all: its
    "removed" and "failing" messages, of no change, were lost with them."""
    from raqib import analysis

    (w, _), *_ = store.watches.add(["https://a.example/news/1"], now=T0)
    record(store, w.id, "new_version", T0, "نص أول")
    record(store, w.id, "new_version", T0 + timedelta(hours=1), "نص ثان")
    [(change, _v)] = analysis.analyze_pending(store)
    assert [c.id for c in store.changes.untold(limit=10, before=T0 + timedelta(days=1))] == [
        change.id
    ]
    ch, _ = store.outbox.add_channel(
        "https://hooks.example/h", kind="webhook", story=None, when=["all"], keywords=[],
        digest=False, origin="cli", now=T0,
    )  # fmt: skip
    seen: list[set[int]] = []

    def items(flipped: set[int]) -> list[tuple[int, str, dict]]:
        seen.append(flipped)
        out = [(ch.id, "removed:x", {"event": "removed"})]
        return out + ([(ch.id, "change:1", {"event": "change"})] if change.id in flipped else [])

    assert store.outbox.enqueue(items, now=T0, told=[change.id]) == 2  # the first to tell
    assert store.outbox.enqueue(items, now=T0, told=[change.id]) == 0  # keys queued already

    def removed_again(flipped: set[int]) -> list[tuple[int, str, dict]]:
        return [(ch.id, "removed:y", {"event": "removed"}), *items(flipped)[1:]]

    assert store.outbox.enqueue(removed_again, now=T0, told=[change.id]) == 1
    assert seen == [{change.id}, set(), set()]
    assert store.changes.untold(limit=10, before=T0 + timedelta(days=1)) == []


def test_a_story_is_read_by_one_discovery_run_at_a_time(store: Storage) -> None:
    """Each worker's daemon read every story's sources: several workers fetched
    each candidate once each, and their findings raced to create one watch."""
    repo, hold = store.discovery, timedelta(minutes=15)
    for slug in ("a", "b"):
        repo.add_source(f"https://{slug}.example/feed", story=slug, kind="rss", now=T0)
    first = repo.take_stories(["a", "b"], owner="A", now=T0, hold=hold)
    assert first.stories == ["a", "b"]
    at = T0 + timedelta(minutes=5)
    second = repo.take_stories(["a", "b", "gone"], owner="B", now=at, hold=hold)
    assert second.stories == [] and second.held == {"a": (T0, T0 + hold), "b": (T0, T0 + hold)}
    # Renewed while it runs; a run's end frees its own stories, not another's.
    assert repo.renew_stories("A", now=T0 + timedelta(minutes=10), hold=hold) == 2
    repo.let_go("B")
    assert repo.take_stories(["a"], owner="B", now=T0 + timedelta(minutes=20), hold=hold).held
    repo.let_go("A")
    # Ended: free to a run that asks for nothing fresher; a daemon's leaves it for now.
    later = T0 + timedelta(minutes=21)
    daemon = repo.take_stories(["a"], owner="C", now=later, hold=hold, fresh=timedelta(hours=1))
    assert daemon.stories == [] and daemon.fresh == {"a": T0} and not daemon.held
    # A rejudge takes it without moving the daemons' turn.
    assert repo.take_stories(["a"], owner="C", now=later, hold=hold, reading=False).stories
    repo.let_go("C")
    assert repo.take_stories(
        ["a"], owner="D", now=later, hold=hold, fresh=timedelta(hours=1)
    ).fresh == {"a": T0}
    # A run that died holds its story until its last renewal's hold runs out, no longer.
    repo.take_stories(["b"], owner="E", now=later, hold=hold)
    assert repo.take_stories(
        ["b"], owner="F", now=later + hold - timedelta(seconds=1), hold=hold
    ).held
    assert repo.take_stories(["b"], owner="F", now=later + hold, hold=hold).stories == ["b"]


def test_a_discovery_run_stopped_as_it_takes_its_stories_frees_them(store: Storage) -> None:
    """SIGTERM is a KeyboardInterrupt (cli.base): one landing as the stories'
    holds were committed left them held 15 minutes (the last session's list)."""
    from types import SimpleNamespace

    from raqib.app.discovery_runs import holding

    repo = store.discovery
    repo.add_source("https://a.example/feed", story="a", kind="rss", now=T0)
    take = repo.take_stories

    def stopped(*args: Any, **kwargs: Any) -> Any:
        take(*args, **kwargs)
        raise KeyboardInterrupt

    app = SimpleNamespace(storage=SimpleNamespace(discovery=repo), clock=lambda: T0)
    repo.take_stories = stopped  # type: ignore[method-assign]
    with pytest.raises(KeyboardInterrupt), holding(app, ["a"], []):  # type: ignore[arg-type]
        pass
    repo.take_stories = take  # type: ignore[method-assign]
    assert repo.take_stories(["a"], owner="B", now=T0, hold=timedelta(minutes=15)).stories == ["a"]


def test_migration_0019_down_and_up_keeps_every_storys_rows(store: Storage) -> None:
    """A review: 0019's downgrade rebuilt `stories` in a batch, and SQLite, with
    foreign keys on, deleted every source, candidate and story link with it."""
    from alembic import command

    from raqib.storage.migrate import config

    store.watches.add(["https://a.example/seed"], now=T0, story="s")
    store.discovery.add_source("https://a.example/feed", story="s", kind="rss", now=T0)
    store.discovery.record_candidates(
        [{"story_id": store.watches.story_id("s"), "url": "https://b.example/x", "found_via": "f",
          "decision": "rejected", "reason": "score 0.1", "text": "نص", "address": "https://b.example/x"}],
        now=T0,
    )  # fmt: skip
    counts = "SELECT (SELECT count(*) FROM sources), (SELECT count(*) FROM candidates), (SELECT count(*) FROM watch_stories)"
    with store.db.engine.connect() as conn:
        before = tuple(conn.execute(text(counts)).one())
    with store.db.engine.connect() as conn:
        with conn.begin():
            cfg = config(store.db.engine)
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0018")
            command.upgrade(cfg, "0019")
        after = tuple(conn.execute(text(counts)).one())
    assert before == after == (1, 1, 1)
