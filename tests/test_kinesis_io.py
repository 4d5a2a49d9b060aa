"""gridtape.kinesis against the emulator's Kinesis (a moto server of the producer tests' own, on a
free port). What the emulator cannot produce on demand (a partial PutRecords failure, an empty
GetRecords page behind the tip, a closed shard's end) is injected into a real boto3 client with
botocore event hooks, so the code under test still talks to the emulator."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse

from gridtape import kinesis
from tests.producers.conftest import clients, moto_url  # noqa: F401  (a fixture)

MIB = 1024 * 1024


@pytest.fixture
def client(moto_url: str) -> Any:  # noqa: F811
    return clients(moto_url)["kinesis"]


def new_stream(client: Any, shards: int = 1) -> str:
    name = f"kio-{uuid.uuid4().hex[:10]}"
    client.create_stream(StreamName=name, ShardCount=shards)
    return name


def entries(n: int, size: int = 20, tag: str = "r") -> list[kinesis.Entry]:
    """n entries whose data (padded to `size` bytes) names them: tag-index."""
    return [kinesis.Entry(f"{tag}-{i:06d}|".encode().ljust(size, b"."), f"pk{i % 7}", f"{tag}-{i}") for i in range(n)]


def ids(records: list[kinesis.Record]) -> Counter[str]:
    return Counter(r.data.split(b"|")[0].decode() for r in records)


class PutSpy:
    """Keeps the data of each PutRecords call as sent; fails the entries `fail(call number,
    request records)` picks (removed from the request, answered with `code` like Kinesis does).
    Also the fault injector of the producers' publish tests."""

    def __init__(
        self,
        client: Any,
        fail: Callable[[int, list[dict[str, Any]]], set[int]] = lambda _c, _rs: set(),
        code: str = "ProvisionedThroughputExceededException",
    ) -> None:
        self.sent: list[list[bytes]] = []
        self.fail = fail
        self.code = code
        client.meta.events.register("provide-client-params.kinesis.PutRecords", self._before)
        client.meta.events.register("before-call.kinesis.PutRecords", self._short_circuit)
        client.meta.events.register("after-call.kinesis.PutRecords", self._after)

    def _before(self, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        records = params["Records"]
        failing = {i for i in self.fail(len(self.sent), records) if i < len(records)}
        kept = [r for i, r in enumerate(records) if i not in failing]
        context.update(failing=failing, total=len(records), all_fail=not kept)
        self.sent.append([r["Data"] for r in kept])
        if kept:  # an empty request is invalid; when all fail, nothing is sent (see _short_circuit)
            params["Records"] = kept

    def _short_circuit(self, context: dict[str, Any], **_: Any) -> Any:
        if context.get("all_fail"):
            return AWSResponse("http://injected", 200, {}, None), {"FailedRecordCount": 0, "Records": []}
        return None

    def _after(self, parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        ok = iter(parsed.get("Records", []))
        failing = context.get("failing", set())
        code = {"ErrorCode": self.code, "ErrorMessage": "injected"}
        parsed["Records"] = [code if i in failing else next(ok) for i in range(context.get("total", 0))]
        parsed["FailedRecordCount"] = len(failing)


# --------------------------------------------------------------------------- writer


def test_batches_stay_within_every_limit_and_keep_order() -> None:
    sizes = [1, 900_000, 5, 1_048_000, 300_000, *([40] * 1200), 1_000_000, 1_000_000, 700_000]
    es = [kinesis.Entry(b"x" * s, "k") for s in sizes]
    groups = list(kinesis.batches(es))
    assert [e for g in groups for e in g] == es
    for g, nxt in zip(groups, [*groups[1:], None], strict=True):
        assert len(g) <= kinesis.MAX_RECORDS and sum(map(kinesis.size, g)) <= kinesis.MAX_REQUEST_BYTES
        if nxt:  # greedy: the next entry did not fit
            assert len(g) == kinesis.MAX_RECORDS or sum(map(kinesis.size, g)) + kinesis.size(nxt[0]) > 5 * MIB


def test_501_records_take_two_requests_in_order(client: Any) -> None:
    stream = new_stream(client, shards=2)
    spy = PutSpy(client)
    es = entries(501)
    result = kinesis.Writer(stream, client).put(es)
    assert [len(s) for s in spy.sent] == [500, 1]
    assert [d for s in spy.sent for d in s] == [e.data for e in es]
    records, _ = kinesis.read_to_tip(stream, client=client)
    assert ids(records) == Counter(f"r-{i:06d}" for i in range(501))
    # per-record results, in input order: each names where its own record landed
    by_seq = {(r.shard_id, r.sequence_number): r.data for r in records}
    assert [by_seq[(p.shard_id, p.sequence_number)] for p in result.placed] == [e.data for e in es]


def test_records_summing_past_5_mib_split_by_bytes(client: Any) -> None:
    stream = new_stream(client)
    spy = PutSpy(client)
    es = entries(7, size=900 * 1024)  # 5 fit in 5 MiB, the 6th would not
    kinesis.Writer(stream, client).put(es)
    assert [len(s) for s in spy.sent] == [5, 2]
    assert all(sum(len(d) for d in s) <= kinesis.MAX_REQUEST_BYTES for s in spy.sent)
    assert ids(kinesis.read_to_tip(stream, client=client)[0]) == Counter(f"r-{i:06d}" for i in range(7))


@pytest.mark.parametrize("over", [1, 1000])
def test_record_over_1_mib_is_refused_by_name_and_nothing_is_sent(client: Any, over: int) -> None:
    stream = new_stream(client)
    spy = PutSpy(client)
    exact = kinesis.Entry(b"x" * (MIB - 3), "abc", "fits")  # data + key = exactly 1 MiB
    too_big = kinesis.Entry(b"x" * (MIB - 3 + over), "abc", "tick PJM|RT5|WEST")
    with pytest.raises(kinesis.RecordTooLarge, match=r"tick PJM\|RT5\|WEST .*1 MiB"):
        kinesis.Writer(stream, client).put([*entries(3), exact, too_big])
    assert spy.sent == []
    assert kinesis.Writer(stream, client).put([exact]).requests == 1


@pytest.mark.parametrize("key", ["", "k" * 257])
def test_bad_partition_key_is_refused(client: Any, key: str) -> None:
    with pytest.raises(kinesis.RecordTooLarge, match="partition key"):
        kinesis.Writer(new_stream(client), client).put([kinesis.Entry(b"x", key, "bad")])


def test_partial_failure_resends_only_failed_entries(client: Any) -> None:
    stream = new_stream(client, shards=2)
    # first call: every 4th entry fails; second: the first of those fails again; then all pass
    spy = PutSpy(client, lambda call, rs: set(range(0, len(rs), 4)) if call == 0 else ({0} if call == 1 else set()))
    es = entries(40)
    sleeps: list[float] = []
    delivered: list[list[kinesis.Entry]] = []
    result = kinesis.Writer(stream, client, sleep=sleeps.append).put(es, delivered.append)
    failed_first = [es[i].data for i in range(0, 40, 4)]
    assert spy.sent[0] == [e.data for i, e in enumerate(es) if i % 4]
    assert spy.sent[1] == failed_first[1:]  # the retry carries the failed entries, nothing else
    assert spy.sent[2] == failed_first[:1]
    assert result.requests == 3 and result.retried == 10 and len(sleeps) == 2
    assert all(0 <= s <= 5.0 for s in sleeps)
    assert [len(d) for d in delivered] == [30, 9, 1]
    records, _ = kinesis.read_to_tip(stream, client=client)
    assert ids(records) == Counter(f"r-{i:06d}" for i in range(40))  # each exactly once
    by_seq = {(r.shard_id, r.sequence_number): r.data for r in records}
    assert [by_seq[(p.shard_id, p.sequence_number)] for p in result.placed] == [e.data for e in es]


def test_exhausted_attempts_raise_with_what_was_delivered(client: Any) -> None:
    stream = new_stream(client)
    PutSpy(client, lambda call, _rs: {1} if call == 0 else {0})  # the second entry fails for good
    with pytest.raises(kinesis.PutError) as err:
        kinesis.Writer(stream, client, max_attempts=4, sleep=lambda _s: None).put(entries(3) + entries(600, tag="b"))
    e = err.value
    assert e.errors == {"ProvisionedThroughputExceededException": 1}
    # the first request (500) delivered all but one, which then failed 3 more times; nothing after it is sent
    assert e.delivered == 499 and e.undelivered == 104
    assert sum(p is not None for p in e.placed) == 499 and e.placed[1] is None


def test_deadline_stops_the_retries_before_it_passes(client: Any) -> None:
    stream = new_stream(client)
    PutSpy(client, lambda _c, rs: set(range(len(rs))))  # everything fails
    now = [100.0]
    sleeps: list[float] = []

    def sleep(s: float) -> None:
        sleeps.append(s)
        now[0] += s

    writer = kinesis.Writer(stream, client, max_attempts=1000, base_delay=1.0, max_delay=4.0, sleep=sleep)
    writer.clock = lambda: now[0]
    with pytest.raises(kinesis.PutError) as err:
        writer.put(entries(5), deadline=110.0)
    assert now[0] < 110.0 and len(sleeps) < 999
    assert err.value.undelivered == 5
    with pytest.raises(kinesis.PutError, match="DeadlineExceeded"):  # past it: nothing is attempted
        writer.put(entries(5), deadline=now[0])


# --------------------------------------------------------------------------- reader


class GetHook:
    """Rewrites GetRecords answers: `empty(call)` -> answer an empty page with MillisBehindLatest
    > 0 and the same iterator (Kinesis does this behind the tip); `close` shard ids -> no
    NextShardIterator on the page that reaches the shard's end (a closed shard after resharding)."""

    def __init__(self, client: Any, empty: Callable[[int], bool], close: set[str] | None = None) -> None:
        self.calls = 0
        self.empty = empty
        self.close = close or set()
        client.meta.events.register("provide-client-params.kinesis.GetRecords", self._params)
        client.meta.events.register("before-call.kinesis.GetRecords", self._before)
        client.meta.events.register("after-call.kinesis.GetRecords", self._after)

    def _params(self, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["iterator"] = params["ShardIterator"]
        context["limit"] = params.get("Limit", kinesis.GET_RECORDS_LIMIT)
        context["empty"] = self.empty(self.calls)
        self.calls += 1

    def _before(self, context: dict[str, Any], **_: Any) -> Any:
        if context["empty"]:
            page = {"Records": [], "MillisBehindLatest": 60_000, "NextShardIterator": context["iterator"]}
            return AWSResponse("http://injected", 200, {}, None), page
        return None

    def _after(self, parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        import base64

        shard = base64.b64decode(context["iterator"]).decode().split(":")[1]  # moto's iterator format
        if shard in self.close and len(parsed.get("Records", [])) < context["limit"]:  # its last records
            parsed.pop("NextShardIterator", None)


def test_reads_through_empty_pages_and_short_pages_to_the_tip(client: Any) -> None:
    stream = new_stream(client)
    kinesis.Writer(stream, client).put(entries(25))
    GetHook(client, lambda call: call % 2 == 0)  # every other page comes back empty
    shard = kinesis.list_shards(stream, client)[0].shard_id
    batches = list(kinesis.read_shard(stream, shard, limit=4, client=client))
    got = [r for b in batches for r in b.records]
    assert ids(got) == Counter(f"r-{i:06d}" for i in range(25))
    assert [int(r.sequence_number) for r in got] == sorted(int(r.sequence_number) for r in got)
    assert batches[-1].position == got[-1].sequence_number


def test_resumes_after_a_sequence_number(client: Any) -> None:
    stream = new_stream(client, shards=3)
    kinesis.Writer(stream, client).put(entries(30, tag="a"))
    first, positions = kinesis.read_to_tip(stream, client=client)
    assert ids(first) == Counter(f"a-{i:06d}" for i in range(30))
    kinesis.Writer(stream, client).put(entries(12, tag="b"))
    second, positions2 = kinesis.read_to_tip(stream, positions, client=client)
    assert ids(second) == Counter(f"b-{i:06d}" for i in range(12))  # nothing of the first read again
    assert kinesis.read_to_tip(stream, positions2, client=client)[0] == []
    # one shard resumed mid-way by a checkpointing consumer: exactly the records after it
    shard = first[0].shard_id
    on_shard = [r for r in first + second if r.shard_id == shard]
    mid = on_shard[len(on_shard) // 2]
    rest = [r for b in kinesis.read_shard(stream, shard, mid.sequence_number, client=client) for r in b.records]
    assert rest == on_shard[len(on_shard) // 2 + 1 :]


def test_reads_exactly_a_planned_range(client: Any) -> None:
    """after < sequence <= until: how a replayed micro-batch or an interrupted flush re-reads."""
    stream = new_stream(client)
    kinesis.Writer(stream, client).put(entries(20))
    shard = kinesis.list_shards(stream, client)[0].shard_id
    every = [r for b in kinesis.read_shard(stream, shard, client=client) for r in b.records]
    for lo, hi in ((None, 0), (2, 9), (9, 10), (0, 19)):
        after = every[lo].sequence_number if lo is not None else None
        got = [
            r
            for b in kinesis.read_shard(stream, shard, after, until=every[hi].sequence_number, limit=3, client=client)
            for r in b.records
        ]
        assert got == every[(lo + 1 if lo is not None else 0) : hi + 1]


def test_starts_at_latest_or_at_a_timestamp(client: Any) -> None:
    stream = new_stream(client)
    kinesis.Writer(stream, client).put(entries(5, tag="old"))
    shard = kinesis.list_shards(stream, client)[0].shard_id
    reader = kinesis.ShardReader(stream, shard, start=kinesis.LATEST, client=client)
    assert reader.get().records == []  # the iterator is taken now, at the tip
    kinesis.Writer(stream, client).put(entries(3, tag="new"))
    assert ids(list(b for batch in reader.to_tip() for b in batch.records)) == Counter(f"new-{i:06d}" for i in range(3))
    every, _ = kinesis.read_to_tip(stream, client=client)
    since = every[5].arrival
    assert since is not None
    later, _ = kinesis.read_to_tip(stream, start=kinesis.Start.at(since), client=client)
    assert set(ids(later)) >= {f"new-{i:06d}" for i in range(3)}


def test_lists_every_shard_across_pages(client: Any) -> None:
    stream = new_stream(client, shards=13)
    for page_size in (4, 10, 1000):
        shards = kinesis.list_shards(stream, client, page_size=page_size)
        assert len({s.shard_id for s in shards}) == 13 == len(shards)
    kinesis.Writer(stream, client).put(entries(200))
    records, positions = kinesis.read_to_tip(stream, client=client)
    assert len(positions) == 13 and ids(records) == Counter(f"r-{i:06d}" for i in range(200))


def test_a_closed_shard_is_read_to_its_end_and_reported_ended(client: Any) -> None:
    stream = new_stream(client, shards=2)
    kinesis.Writer(stream, client).put(entries(20))
    closed = kinesis.list_shards(stream, client)[0].shard_id
    GetHook(client, lambda _c: False, close={closed})
    reader = kinesis.ShardReader(stream, closed, limit=3, client=client)
    got = [r for b in reader.to_tip() for r in b.records]
    assert reader.ended and got and all(r.shard_id == closed for r in got)
    assert reader.get().ended and reader.get().records == []


def test_resharding_keeps_every_record_readable_once(client: Any) -> None:
    stream = new_stream(client, shards=2)
    kinesis.Writer(stream, client).put(entries(30, tag="a"))
    client.update_shard_count(StreamName=stream, TargetShardCount=4, ScalingType="UNIFORM_SCALING")
    kinesis.Writer(stream, client).put(entries(30, tag="b"))
    shards = kinesis.list_shards(stream, client)
    assert any(s.closed for s in shards) and any(s.parent_shard_id for s in shards)
    records, _ = kinesis.read_to_tip(stream, client=client)
    want = Counter(f"a-{i:06d}" for i in range(30)) + Counter(f"b-{i:06d}" for i in range(30))
    assert ids(records) == want
    for shard in shards:  # a closed shard's tip is its end, though moto keeps handing iterators
        reader = kinesis.ShardReader(stream, shard.shard_id, closed=shard.closed, client=client)
        list(reader.to_tip())
        assert reader.ended == shard.closed
