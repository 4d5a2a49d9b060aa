"""Fakes for the context tests: an in-memory S3 (list/get/put/delete, what batch/context.py and
producers/backfill/context.py call) and record builders for the three context contracts."""

from __future__ import annotations

import io
from typing import Any

from botocore.exceptions import ClientError

from gridtape import contract, landing


class FakeS3:
    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], bytes] = {}

    def put_object(self, Bucket: str, Key: str, Body: bytes, **_: Any) -> None:
        self.objects[(Bucket, Key)] = Body

    def get_object(self, Bucket: str, Key: str) -> dict[str, Any]:
        if (Bucket, Key) not in self.objects:
            raise ClientError({"Error": {"Code": "NoSuchKey", "Message": Key}}, "GetObject")
        return {"Body": io.BytesIO(self.objects[(Bucket, Key)])}

    def delete_object(self, Bucket: str, Key: str) -> None:
        self.objects.pop((Bucket, Key), None)

    def get_paginator(self, name: str) -> Any:
        assert name == "list_objects_v2"
        s3 = self

        class _Pages:
            def paginate(self, Bucket: str, Prefix: str) -> list[dict[str, Any]]:
                keys = sorted(k for b, k in s3.objects if b == Bucket and k.startswith(Prefix))
                return [{"Contents": [{"Key": k} for k in keys]}]

        return _Pages()

    def land(self, bucket: str, kind: str, iso: str, records: list[dict[str, Any]], name: str = "x") -> None:
        at = "observed_at" if kind == "weather" else "interval_start"
        parts: dict[str, list[dict[str, Any]]] = {}
        for r in records:
            parts.setdefault(r[at][:10], []).append(r)
        for d, part in parts.items():
            key = f"{landing.context_partition(kind, iso, d)}{name}.gz"
            self.put_object(Bucket=bucket, Key=key, Body=landing.encode(contract.dumps(r) for r in part))


PROV = {"published_at": "2026-06-12T01:00:00Z", "ingested_at": "2026-06-12T01:00:05Z", "source": "test", "revision": 0}


def outage(
    iso: str, area: str, start: str, mw: float, *, kind: str = "total", fuel: str = "all", end: str = "", **kw: Any
) -> dict[str, Any]:
    area_type = "system" if area == iso else "zone"
    end = end or start[:11] + f"{int(start[11:13]) + 1:02d}" + start[13:]
    return {"iso": iso, "area": area, "area_type": area_type, "fuel": fuel, "kind": kind, "interval_start": start,
            "interval_end": end, "outage_mw": mw, **PROV, **kw}  # fmt: skip


def weather(
    station: str, at: str, t: float | None, dew: float | None = None, wind: float | None = None, **kw: Any
) -> dict[str, Any]:
    return {
        "station": station,
        "observed_at": at,
        "temperature_c": t,
        "dew_point_c": dew,
        "wind_mps": wind,
        **PROV,
        **kw,
    }


def customers(fips: str, iso: str | None, zone: str | None, start: str, n: int, **kw: Any) -> dict[str, Any]:
    minute = int(start[14:16]) + 15
    end = (
        start[:14] + f"{minute:02d}" + start[16:] if minute < 60 else start[:11] + f"{int(start[11:13]) + 1:02d}:00:00Z"
    )
    return {"provider": "eaglei", "fips": fips, "county": "C", "state": "S", "iso": iso, "zone": zone,
            "interval_start": start, "interval_end": end, "customers_out": n, **PROV, **kw}  # fmt: skip
