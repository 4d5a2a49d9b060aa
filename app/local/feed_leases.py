"""The KCL's lease table, in DynamoDB, for the local feed driver (app/local/feed_driver.py).

One table per consumed stream, named like the KCL application that owns it. Items: hash key
`leaseKey` = shard id; `checkpoint` = the last processed sequence number (TRIM_HORIZON / LATEST
for a fresh lease, SHARD_END for a finished closed shard); `checkpointSubSequenceNumber`;
`leaseOwner` = worker id; `leaseCounter`, bumped by every renewal and checkpoint;
`ownerSwitchesSinceCheckpoint`; `parentShardIds`. Every write is conditional on the counter the
worker last saw, so a worker that lost its lease cannot checkpoint over the new owner (its
checkpoint raises ShutdownException, as the KCL's does). A worker takes a lease that is free
or its own at once, another owner's only once its counter has not moved for `failover_s`.
"""

from __future__ import annotations

import contextlib
import socket
import time
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from feed.processor import CheckpointError
from gridtape import aws, config, kinesis

SHARD_END = "SHARD_END"


def lease_table(names: config.Names, role: str) -> str:
    """The KCL application (= lease table) name of the feed's consumer of one stream role."""
    return str(getattr(names, f"feed_{role}_lease_table"))


def default_worker_id() -> str:
    # Stable across restarts on one machine: a restarted feed takes its own leases back at once.
    return f"feed@{socket.gethostname()}"


@dataclass
class Lease:
    key: str
    owner: str
    counter: int
    checkpoint: str


class LeaseTable:
    def __init__(self, name: str, client: Any = None) -> None:
        self.name = name
        self.ddb = client or aws.client("dynamodb")
        self._seen: dict[str, tuple[int, float]] = {}  # other owners' counters: (counter, first seen)

    def ensure(self) -> None:
        """Create the table as the KCL would (on-demand, hash key leaseKey) if it is absent."""
        try:
            self.ddb.describe_table(TableName=self.name)
            return
        except self.ddb.exceptions.ResourceNotFoundException:
            pass
        with contextlib.suppress(self.ddb.exceptions.ResourceInUseException):  # another worker was first
            self.ddb.create_table(
                TableName=self.name,
                AttributeDefinitions=[{"AttributeName": "leaseKey", "AttributeType": "S"}],
                KeySchema=[{"AttributeName": "leaseKey", "KeyType": "HASH"}],
                BillingMode="PAY_PER_REQUEST",
            )
        self.ddb.get_waiter("table_exists").wait(TableName=self.name, WaiterConfig={"Delay": 0.2})

    def get(self, key: str) -> dict[str, Any] | None:
        item = self.ddb.get_item(TableName=self.name, Key={"leaseKey": {"S": key}}, ConsistentRead=True).get("Item")
        if item is None:
            return None
        return {k: next(iter(v.values())) for k, v in item.items()}

    def _conditional(self, **kwargs: Any) -> bool:
        try:
            self.ddb.update_item(TableName=self.name, **kwargs)
            return True
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise

    def take(self, shard: kinesis.Shard, owner: str, start: str, failover_s: float) -> Lease | None:
        """The shard's lease for owner, or None while someone else holds it."""
        item = self.get(shard.shard_id)
        if item is None:
            parents = [p for p in (shard.parent_shard_id, shard.adjacent_parent_shard_id) if p]
            values: dict[str, Any] = {
                "leaseKey": {"S": shard.shard_id},
                "leaseOwner": {"S": owner},
                "leaseCounter": {"N": "1"},
                "checkpoint": {"S": start},
                "checkpointSubSequenceNumber": {"N": "0"},
                "ownerSwitchesSinceCheckpoint": {"N": "0"},
            }
            if parents:
                values["parentShardIds"] = {"SS": parents}
            try:
                self.ddb.put_item(
                    TableName=self.name, Item=values, ConditionExpression="attribute_not_exists(leaseKey)"
                )
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                    return None  # another worker created it a moment ago
                raise
            return Lease(shard.shard_id, owner, 1, start)
        counter = int(item["leaseCounter"])
        holder = item.get("leaseOwner")
        if holder and holder != owner:
            seen = self._seen.get(shard.shard_id)
            if seen is None or seen[0] != counter:
                self._seen[shard.shard_id] = (counter, time.monotonic())
                return None
            if time.monotonic() - seen[1] < failover_s:
                return None
        switches = 0 if holder == owner else 1
        if not self._conditional(
            Key={"leaseKey": {"S": shard.shard_id}},
            UpdateExpression="SET leaseOwner = :o, leaseCounter = :n, "
            "ownerSwitchesSinceCheckpoint = ownerSwitchesSinceCheckpoint + :s",
            ConditionExpression="leaseCounter = :c",
            ExpressionAttributeValues={
                ":o": {"S": owner},
                ":n": {"N": str(counter + 1)},
                ":c": {"N": str(counter)},
                ":s": {"N": str(switches)},
            },
        ):
            return None
        self._seen.pop(shard.shard_id, None)
        return Lease(shard.shard_id, owner, counter + 1, str(item.get("checkpoint") or start))

    def _bump(self, lease: Lease, extra: str = "", values: dict[str, Any] | None = None) -> bool:
        ok = self._conditional(
            Key={"leaseKey": {"S": lease.key}},
            UpdateExpression="SET leaseCounter = :n" + extra,
            ConditionExpression="leaseCounter = :c AND leaseOwner = :o",
            ExpressionAttributeValues={
                ":n": {"N": str(lease.counter + 1)},
                ":c": {"N": str(lease.counter)},
                ":o": {"S": lease.owner},
                **(values or {}),
            },
        )
        if ok:
            lease.counter += 1
        return ok

    def renew(self, lease: Lease) -> bool:
        return self._bump(lease)

    def checkpoint(self, lease: Lease, sequence: str) -> bool:
        ok = self._bump(
            lease,
            ", checkpoint = :s, checkpointSubSequenceNumber = :z, ownerSwitchesSinceCheckpoint = :z",
            {":s": {"S": sequence}, ":z": {"N": "0"}},
        )
        if ok:
            lease.checkpoint = sequence
        return ok

    def release(self, lease: Lease) -> None:
        self._conditional(
            Key={"leaseKey": {"S": lease.key}},
            UpdateExpression="REMOVE leaseOwner",
            ConditionExpression="leaseCounter = :c AND leaseOwner = :o",
            ExpressionAttributeValues={":c": {"N": str(lease.counter)}, ":o": {"S": lease.owner}},
        )


class Checkpointer:
    """The KCL checkpointer for one shard: checkpoint() with no sequence number checkpoints the
    last record delivered (or SHARD_END once the shard has ended)."""

    def __init__(self, table: LeaseTable, lease: Lease) -> None:
        self.table = table
        self.lease = lease
        self.delivered: str | None = None
        self.ended = False
        self.refused = False  # a checkpoint was refused: the lease is someone else's now

    def checkpoint(self, sequence_number: str | None = None, sub_sequence_number: int | None = None) -> None:
        sequence = sequence_number or (SHARD_END if self.ended else self.delivered)
        if sequence is None:
            return
        if not self.table.checkpoint(self.lease, sequence):
            self.refused = True
            raise CheckpointError("ShutdownException")
