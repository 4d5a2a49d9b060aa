"""The ISO table: each ISO/RTO's facts, once.

Producers (which module polls it, its rate limit and key), operating days and checks (its
market clock and each dataset's grid), config (the key's variable names), the warehouse
(the location seed and the neighbouring hubs for spreads) and the CloudFormation generator
(one poller per row) all read this table. Adding an ISO is one row here plus one module
under producers/ (README: "Adding an ISO or a dataset").
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Final
from zoneinfo import ZoneInfo


@dataclass(frozen=True, slots=True)
class Feed:
    """One dataset as an ISO publishes it: the market it belongs to, its interval grid and when
    the ISO posts it. A feed's `name` is what gridtape polls, parses, backfills and watches
    (`gridtape parse --dataset dam`); its ticks carry the contract's `dataset` and `market`."""

    dataset: str  # the tick's dataset: lmp | load
    market: str  # RT5 | RT15 | RTH | DAM
    minutes: int  # interval length; intervals start on this grid of the ISO's clock
    name: str = ""  # the feed's name: lmp | load | dam (default: the dataset)
    # When the ISO posts it. Real-time feeds: about `lag_s` after each interval ends.
    # Day-ahead: the next operating day's results all at once, at `posts_at` (the ISO's
    # market clock, HH:MM), the day before.
    lag_s: int = 120
    posts_at: str | None = None

    def __post_init__(self) -> None:
        if not self.name:
            object.__setattr__(self, "name", self.dataset)


def dam(posts_at: str) -> Feed:
    """Day-ahead hourly LMP, posted at `posts_at` local time for the next operating day."""
    return Feed("lmp", "DAM", 60, name="dam", posts_at=posts_at)


@dataclass(frozen=True, slots=True)
class ApiKey:
    """An API key: read from `env`, else from the Secrets Manager id held in `secret_env`."""

    env: str
    secret_env: str
    required: bool  # False: the ISO answers without one (the key only lifts a rate limit)


@dataclass(frozen=True, slots=True)
class Neighbour:
    """A hub of this ISO and the hub across a seam that traders spread it against."""

    hub: str
    other_iso: str
    other_hub: str


RT5: Final = (Feed("lmp", "RT5", 5), Feed("load", "RT5", 5))


@dataclass(frozen=True)
class Iso:
    code: str
    name: str
    zone: str  # IANA name of the market clock (what Spark and DuckDB understand too)
    requests_per_second: float  # the rate limit gridtape keeps to
    hubs: tuple[str, ...]  # the trading hubs (NYISO: zones) a trader tracks and checks name one by one
    feeds: tuple[Feed, ...] = RT5
    neighbours: tuple[Neighbour, ...] = ()
    api_key: ApiKey | None = None
    # lmp - (energy + congestion + loss) must fall in this range where all three are published.
    # The ISOs round each figure to the cent, so three rounded parts can miss the rounded total
    # by 1.5 cents.
    component_gap: tuple[float, float] = (-0.02, 0.02)
    min_poll_interval_s: float = 5.0  # the ISO's polling etiquette: the shortest gap between two polls of one feed
    system: str = ""  # the location name of the ISO-wide load (default: the code)
    # The real-time market the ISO settles on: what DART (real-time hourly average minus
    # day-ahead) averages. ERCOT settles real time on 15-minute settlement point prices.
    rt_settlement: str = "RT5"
    module: str = ""  # the producers module whose IsoSource polls it (default: producers.<code>)

    def __post_init__(self) -> None:
        if not self.system:
            object.__setattr__(self, "system", self.code)
        if not self.module:
            object.__setattr__(self, "module", f"producers.{self.code.lower()}")

    @cached_property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.zone)

    @property
    def datasets(self) -> tuple[str, ...]:
        """The feed names gridtape polls for this ISO: lmp, load, dam."""
        return tuple(dict.fromkeys(f.name for f in self.feeds))

    @property
    def tick_datasets(self) -> tuple[str, ...]:
        """The contract datasets its ticks carry (dam feeds lmp ticks)."""
        return tuple(dict.fromkeys(f.dataset for f in self.feeds))

    def feed(self, name: str, market: str | None = None) -> Feed:
        """The feed called `name` (for a name with several markets, ERCOT's RT5 and RT15 lmp,
        the one of `market`; without it, the first), or the one whose ticks carry dataset
        `name` in `market` (a tick's ("lmp", "DAM") is the dam feed)."""
        for f in self.feeds:
            if f.name == name and (market is None or f.market == market):
                return f
        for f in self.feeds:
            if f.dataset == name and f.market == market:
                return f
        raise KeyError(f"{self.code} publishes no {name} {market or ''}".strip())

    def feeds_named(self, name: str) -> tuple[Feed, ...]:
        return tuple(f for f in self.feeds if f.name == name)

    @property
    def resource_name(self) -> str:
        """CloudFormation logical-id stem: ISONE -> Isone."""
        return self.code.capitalize()


TABLE: Final[tuple[Iso, ...]] = (
    Iso(
        "CAISO",
        "California ISO",
        "America/Los_Angeles",
        requests_per_second=0.2,  # OASIS: one request per 5 s, else 429
        hubs=("TH_NP15_GEN-APND", "TH_SP15_GEN-APND", "TH_ZP26_GEN-APND"),
        neighbours=(Neighbour("TH_SP15_GEN-APND", "CAISO", "TH_NP15_GEN-APND"),),
        # LMP = MCE + MCC + MCL + MGHG, and the GHG adder (>= 0, tens of $/MWh at EIM nodes
        # outside California) has no field in the tick.
        component_gap=(-0.02, 250.0),
        # TAC-area actual load is hourly only (OASIS SLD_FCST ACTUAL): a feed of its own grid.
        feeds=(*RT5, Feed("load", "RTH", 60), dam("13:00")),  # IFM results by 13:00 Pacific
    ),
    Iso(
        "ERCOT",
        "Electric Reliability Council of Texas",
        "America/Chicago",
        requests_per_second=1.0,
        hubs=("HB_BUSAVG", "HB_HOUSTON", "HB_HUBAVG", "HB_NORTH", "HB_PAN", "HB_SOUTH", "HB_WEST"),
        # SCED prices per 5 minutes, settlement point prices per 15; system load per 5 minutes
        # (supply-demand dashboard) and per hour with zones (dashboard, NP6-345/346).
        feeds=(
            Feed("lmp", "RT5", 5),
            Feed("lmp", "RT15", 15),
            Feed("load", "RTH", 60),
            Feed("load", "RT5", 5),
            dam("13:30"),
        ),
        rt_settlement="RT15",
        api_key=ApiKey("ERCOT_API_KEY", "ERCOT_API_KEY_SECRET_ID", required=False),
    ),
    Iso(
        "ISONE",
        "ISO New England",
        "America/New_York",
        requests_per_second=1.0,
        hubs=(".H.INTERNAL_HUB",),
        feeds=(*RT5, dam("13:30")),
    ),
    Iso(
        "MISO",
        "Midcontinent ISO",
        "Etc/GMT+5",  # MISO's market clock is EST all year (POSIX sign: GMT+5 is UTC-05:00)
        requests_per_second=1.0,  # and no more than one request a minute per feed (min_poll_interval_s)
        hubs=tuple(
            f"{h}.HUB" for h in ("ARKANSAS", "ILLINOIS", "INDIANA", "LOUISIANA", "MICHIGAN", "MINN", "MS", "TEXAS")
        ),
        neighbours=(Neighbour("MINN.HUB", "SPP", "SPPNORTH_HUB"), Neighbour("ARKANSAS.HUB", "SPP", "SPPSOUTH_HUB")),
        # RTH: local-resource-zone actual load (and MISO's hourly total), hourly only, the next day.
        feeds=(*RT5, Feed("load", "RTH", 60), dam("14:00")),  # day-ahead by 14:00 EST, the market clock
        min_poll_interval_s=60.0,  # MISO asks for one request a minute per feed: it cannot poll fast
    ),
    Iso(
        "NYISO",
        "New York ISO",
        "America/New_York",
        requests_per_second=2.0,
        # NYISO trades at its eleven load zones; it has no hubs.
        hubs=(
            "CAPITL",
            "CENTRL",
            "DUNWOD",
            "GENESE",
            "HUD VL",
            "LONGIL",
            "MHK VL",
            "MILLWD",
            "N.Y.C.",
            "NORTH",
            "WEST",
        ),
        neighbours=(Neighbour("HUD VL", "ISONE", ".H.INTERNAL_HUB"),),
        feeds=(*RT5, dam("11:00")),
    ),
    Iso(
        "PJM",
        "PJM Interconnection",
        "America/New_York",
        requests_per_second=0.1,  # Data Miner: 6 requests a minute for a non-member key
        hubs=(
            "AEP GEN HUB",
            "AEP-DAYTON HUB",
            "ATSI GEN HUB",
            "CHICAGO GEN HUB",
            "CHICAGO HUB",
            "DOMINION HUB",
            "EASTERN HUB",
            "N ILLINOIS HUB",
            "NEW JERSEY HUB",
            "OHIO HUB",
            "WEST INT HUB",
            "WESTERN HUB",
        ),
        system="PJM RTO",
        neighbours=(Neighbour("WESTERN HUB", "MISO", "INDIANA.HUB"), Neighbour("WESTERN HUB", "NYISO", "WEST")),
        api_key=ApiKey("PJM_API_KEY", "PJM_API_KEY_SECRET_ID", required=True),
        feeds=(*RT5, dam("13:30")),
    ),
    Iso(
        "SPP",
        "Southwest Power Pool",
        "America/Chicago",
        requests_per_second=2.0,
        hubs=("SPPNORTH_HUB", "SPPSOUTH_HUB"),
        neighbours=(Neighbour("SPPSOUTH_HUB", "ERCOT", "HB_NORTH"),),
        feeds=(*RT5, dam("13:00")),
    ),
)

BY_CODE: Final[dict[str, Iso]] = {iso.code: iso for iso in TABLE}
CODES: Final[tuple[str, ...]] = tuple(BY_CODE)
FEED_NAMES: Final[tuple[str, ...]] = tuple(dict.fromkeys(f.name for iso in TABLE for f in iso.feeds))


def get(code: str) -> Iso:
    try:
        return BY_CODE[code]
    except KeyError:
        raise KeyError(f"unknown ISO {code!r}; expected one of {', '.join(CODES)}") from None


def settlement_markets() -> list[tuple[str, str]]:
    """(iso, real-time market it settles on): the warehouse's seed for DART."""
    return [(iso.code, iso.rt_settlement) for iso in TABLE]


def neighbour_pairs() -> list[tuple[str, str, str, str]]:
    """(iso_a, hub_a, iso_b, hub_b) for every seam, each pair once: the warehouse's seed."""
    return [(iso.code, n.hub, n.other_iso, n.other_hub) for iso in TABLE for n in iso.neighbours]
