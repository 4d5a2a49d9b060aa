"""The tick contract's verdict on the many ticks of one parse, without walking every field of
every tick: a parse repeats each location a few hundred times and each interval once per
location, so most of contract.validate's work is the same work again.

TickChecker.all_pass(ticks) (passes(t) for one) is True only when contract.validate accepts
every tick; False means "ask contract.validate" (it names the offending field, and may still
accept an unusual but valid tick, e.g. one missing a nullable key). It never decides a refusal
alone, so a reason text is always the contract's own.

How it stays exact without a second copy of most rules: a tick's non-value fields fall in two
parts, WHERE (the location side) and WHEN (the interval side). The first tick showing a new
part is checked by contract.validate in full; once a tick with that part has passed, the
part's rules (allowed values, timestamps, era, market grid, printable names...) hold for every
tick carrying the same part. That needs every rule over non-value fields to read one part
only: iso, market and dataset are in both, so only a rule relating a place to a time would
break it (none does; tests/producers/test_parse_columns.py compares this checker with
contract.validate on mutated ticks). The value fields differ on nearly every tick and are
checked here with the bounds' own constants, by column where they are all floats: finite
numbers, price and load ranges, the value a dataset needs, lmp = energy + congestion + loss
within the ISO's gap, revision. A new bound on values must be added here too (the tests above
catch a checker that passes what the contract refuses)."""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence
from datetime import datetime
from operator import itemgetter
from typing import Any, Final

from gridtape import bounds, contract, isos

WHERE: Final = ("iso", "market", "dataset", "location", "location_type", "source")
WHEN: Final = ("iso", "market", "dataset", "interval_start", "interval_end", "published_at", "ingested_at")
VALUES: Final = ("lmp", "energy", "congestion", "loss", "load_mw", "revision")

_where = itemgetter(*WHERE)
_when = itemgetter(*WHEN)
_values = itemgetter(*VALUES)
_SIZE: Final = len(contract.TICK.names)
_NUMBER: Final = (float, int)  # matched by type(): a bool is no number, and anything unusual goes to contract.validate
assert set(WHERE) | set(WHEN) | set(VALUES) == set(contract.TICK.names), "a tick field in no part"


class TickChecker:
    """Remembers the parts of ticks that passed; one per parse (it holds what it saw, and the
    ISO table as it was)."""

    def __init__(self) -> None:
        self._where: dict[tuple[Any, ...], tuple[float, float]] = {}  # a WHERE part -> its ISO's component gap
        self._when: set[tuple[Any, ...]] = set()
        self._windows: dict[datetime, dict[str, bool]] = {}  # fetch time -> interval start -> in the live window

    def passes(self, t: dict[str, Any], fetched_at: datetime | None = None) -> bool:
        """True only when contract.validate(t) accepts t and, given `fetched_at`, so does
        bounds.check_live(t, fetched_at) (False: ask them)."""
        return self.all_pass([t], fetched_at)

    def all_pass(self, ticks: Sequence[dict[str, Any]], fetched_at: datetime | None = None) -> bool:
        """passes() for every tick (False: at least one must ask): each distinct part is looked
        up once, the values are checked by column."""
        if not ticks:
            return True
        try:
            if set(map(len, ticks)) != {_SIZE}:
                return False
            # every field is read: with the size right, none is missing and none extra
            by_where = dict(zip(map(_where, ticks), ticks, strict=True))
            by_when = dict(zip(map(_when, ticks), ticks, strict=True))
            values = list(map(_values, ticks))
        except (KeyError, TypeError):  # TypeError: an unhashable value, not a tick to remember
            return False
        for parts, seen in ((by_where, self._where), (by_when, self._when)):
            if not all(part in seen or self._learn(t) for part, t in parts.items()):
                return False
        gaps = {self._where[part] for part in by_where}
        datasets = {part[2] for part in by_where}
        if not (len(gaps) == 1 and len(datasets) == 1 and _columns_pass(values, datasets.pop(), gaps.pop())):
            for t, row in zip(ticks, values, strict=True):  # the unusual batch: tick by tick
                if not _values_pass(row, t["dataset"], self._where[_where(t)]):
                    return False
        if fetched_at is not None:
            windows = self._windows.setdefault(fetched_at, {})
            return all(_in_window(t, fetched_at, windows) for t in by_when.values())
        return True

    def _learn(self, t: dict[str, Any]) -> bool:
        """contract.validate on a tick showing a new part: when it passes, both its parts are
        known good (and its ISO's component gap is read)."""
        try:
            contract.validate(t)
        except ValueError:
            return False
        self._where[_where(t)] = isos.get(t["iso"]).component_gap
        self._when.add(_when(t))
        return True


def _in_window(t: dict[str, Any], fetched_at: datetime, windows: dict[str, bool]) -> bool:
    """bounds.check_live's verdict on a valid tick: it reads only the start and the fetch."""
    ok = windows.get(t["interval_start"])
    if ok is None:
        try:
            bounds.check_live(t, fetched_at)
            ok = True
        except ValueError:
            ok = False
        windows[t["interval_start"]] = ok
    return ok


def _columns_pass(values: list[tuple[Any, ...]], dataset: Any, gap: tuple[float, float]) -> bool:
    """_values_pass for ticks of one dataset and ISO, column by column, in the common case:
    every column all floats or all null, no revision. False: a value fails, or not that case
    (the caller then looks tick by tick)."""
    lmp, energy, congestion, loss, load, revision = zip(*values, strict=True)
    prices = [_column(c, bounds.PRICE_MIN, bounds.PRICE_MAX) for c in (lmp, energy, congestion, loss)]
    loads = _column(load, 0.0, bounds.LOAD_MAX_MW)
    if not all(r is None for r in revision) or False in prices or loads is False or (loads and min(load) <= 0.0):
        return False
    if (dataset == "lmp" and prices[0] is None) or (dataset == "load" and loads is None):
        return False
    if all(prices):
        diffs = list(map(operator.sub, lmp, map(math.fsum, zip(energy, congestion, loss, strict=True))))
        return gap[0] - 1e-9 <= min(diffs) and max(diffs) <= gap[1] + 1e-9
    return True


def _column(column: tuple[Any, ...], low: float, high: float) -> bool | None:
    """True: finite floats within [low, high]; None: all null; False: anything else."""
    kinds = set(map(type, column))
    if kinds == {type(None)}:
        return None
    return kinds == {float} and all(map(math.isfinite, column)) and low <= min(column) and max(column) <= high


def _values_pass(values: tuple[Any, ...], dataset: str, gap: tuple[float, float]) -> bool:
    """The value fields' rules (contract types and bounds); `gap`: the tick's ISO's allowed
    lmp - (energy + congestion + loss)."""
    lmp, energy, congestion, loss, load, revision = values
    low, high = bounds.PRICE_MIN, bounds.PRICE_MAX
    for v in (lmp, energy, congestion, loss):
        if v is not None and (type(v) not in _NUMBER or not low <= v <= high):  # NaN is out of range too
            return False
    if load is not None and (type(load) not in _NUMBER or not 0 < load <= bounds.LOAD_MAX_MW):
        return False
    if (lmp is None and dataset == "lmp") or (load is None and dataset == "load"):
        return False
    if revision is not None and (type(revision) is not int or not 0 <= revision <= bounds.REVISION_MAX):
        return False
    if lmp is not None and energy is not None and congestion is not None and loss is not None:
        total = math.fsum((energy, congestion, loss))
        if not gap[0] - 1e-9 <= lmp - total <= gap[1] + 1e-9:
            return False
    return True
