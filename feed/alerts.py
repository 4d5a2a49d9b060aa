"""Alert rules on the live feed: a small TOML file (feed/alerts.toml is the default), pure
evaluation, and episodes.

A rule is one of
  price_above / price_below  iso, hub, level [, market = "RT5"]: the hub's latest interval price
  spread_above               pair = [iso_a, hub_a, iso_b, hub_b], level: |lmp_a - lmp_b| of the
                             latest interval both hubs have
  stale                      iso (or "*" for each ISO), minutes: the ISO's newest tick was
                             ingested more than `minutes` ago (an ISO never seen is not stale:
                             its health shows "no data")

An episode starts when a rule's condition becomes true for a subject (one hub, pair or ISO):
the rule fires once (the dashboard shows it, the notifier publishes it to SNS) and stays quiet
while the condition holds; it re-arms when the condition clears. A value that is unknown
(no price yet) neither fires nor clears.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final

from gridtape import aws, config, isos
from gridtape.errors import GridtapeError

DEFAULT_RULES: Final = Path(__file__).with_name("alerts.toml")
KINDS: Final = ("price_above", "price_below", "spread_above", "stale")
_KEYS: Final = {
    "price_above": {"iso", "hub", "level", "market"},
    "price_below": {"iso", "hub", "level", "market"},
    "spread_above": {"pair", "level", "market"},
    "stale": {"iso", "minutes"},
}


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    kind: str
    level: float  # $/MWh, or minutes for stale
    iso: str = "*"
    hub: str = ""
    pair: tuple[str, str, str, str] | None = None
    market: str = "RT5"


@dataclass(frozen=True, slots=True)
class View:
    """What the rules look at: latest prices per (iso, hub, market), latest spreads per
    (iso_a, hub_a, iso_b, hub_b, market) and per-ISO feed age in seconds."""

    prices: dict[tuple[str, str, str], float] = field(default_factory=dict)
    spreads: dict[tuple[str, str, str, str, str], float] = field(default_factory=dict)
    ages: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Alert:
    rule: str
    kind: str
    subject: str  # "ERCOT HB_NORTH", "PJM WESTERN HUB / MISO INDIANA.HUB", "SPP"
    state: str  # firing | cleared
    value: float
    level: float
    at: str  # when the transition was seen (UTC wire format)

    @property
    def message(self) -> str:
        if self.kind == "stale":
            what = f"{self.subject} feed is {self.value / 60:.0f} min old (limit {self.level:g} min)"
        elif self.kind == "spread_above":
            what = f"spread {self.subject} is {self.value:.2f} $/MWh (limit {self.level:g})"
        else:
            side = "above" if self.kind == "price_above" else "below"
            what = f"{self.subject} at {self.value:.2f} $/MWh, {side} {self.level:g}"
        return f"[{self.state}] {self.rule}: {what}"

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "message": self.message}


def _fail(where: str, reason: str) -> GridtapeError:
    return GridtapeError(f"alert rules {where}: {reason}")


def parse_rules(data: dict[str, Any], where: str = "<rules>") -> list[Rule]:
    """The [[rule]] tables -> rules; an unknown kind, key, ISO or hub is an error naming the rule."""
    rules: list[Rule] = []
    for i, raw in enumerate(data.get("rule", []), start=1):
        name = str(raw.get("name") or f"rule {i}")
        at = f"{where} rule {i} ({name})"
        kind = raw.get("when")
        if kind not in KINDS:
            raise _fail(at, f"'when' must be one of {', '.join(KINDS)}, got {kind!r}")
        extra = set(raw) - _KEYS[kind] - {"name", "when"}
        if extra:
            raise _fail(at, f"unknown key {sorted(extra)[0]!r} for {kind}")
        try:
            level = float(raw["minutes" if kind == "stale" else "level"])
            if kind == "stale":
                iso = raw.get("iso", "*")
                if iso != "*":
                    isos.get(iso)
                rules.append(Rule(name, kind, level, iso=iso))
            elif kind == "spread_above":
                a_iso, a_hub, b_iso, b_hub = (str(x) for x in raw["pair"])
                _hub(a_iso, a_hub)
                _hub(b_iso, b_hub)
                rules.append(
                    Rule(name, kind, level, pair=(a_iso, a_hub, b_iso, b_hub), market=raw.get("market", "RT5"))
                )
            else:
                _hub(raw["iso"], raw["hub"])
                rules.append(Rule(name, kind, level, iso=raw["iso"], hub=raw["hub"], market=raw.get("market", "RT5")))
        except KeyError as exc:
            raise _fail(at, f"missing or unknown {exc}") from None
        except (TypeError, ValueError) as exc:
            raise _fail(at, str(exc)) from None
        if any(r.name == name for r in rules[:-1]):
            raise _fail(at, "another rule has this name (a name identifies its episodes)")
    return rules


def _hub(iso: str, hub: str) -> None:
    if hub not in isos.get(iso).hubs:
        raise KeyError(f"hub {hub!r} of {iso}")


def load_rules(path: Path = DEFAULT_RULES) -> list[Rule]:
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise _fail(str(path), str(exc)) from None
    return parse_rules(data, str(path))


def findings(rule: Rule, view: View) -> Iterable[tuple[str, bool, float]]:
    """(subject, condition holds, value) for every subject of the rule the view knows."""
    if rule.kind == "stale":
        for iso, age in view.ages.items():
            if rule.iso in ("*", iso):
                yield iso, age > rule.level * 60, age
    elif rule.kind == "spread_above":
        assert rule.pair is not None
        value = view.spreads.get((*rule.pair, rule.market))
        if value is not None:
            yield f"{rule.pair[0]} {rule.pair[1]} / {rule.pair[2]} {rule.pair[3]}", abs(value) > rule.level, value
    else:
        price = view.prices.get((rule.iso, rule.hub, rule.market))
        if price is not None:
            holds = price > rule.level if rule.kind == "price_above" else price < rule.level
            yield f"{rule.iso} {rule.hub}", holds, price


class AlertEngine:
    """Episodes: evaluate() returns the transitions (firing when a condition starts, cleared
    when it stops) and calls notify on each firing."""

    def __init__(self, rules: list[Rule], notify: Callable[[Alert], None] | None = None) -> None:
        self.rules = rules
        self.notify = notify
        self.active: dict[tuple[str, str], Alert] = {}  # (rule name, subject) -> its firing alert

    def evaluate(self, view: View, at: str, kinds: Iterable[str] = KINDS) -> list[Alert]:
        wanted = set(kinds)
        out: list[Alert] = []
        for rule in self.rules:
            if rule.kind not in wanted:
                continue
            for subject, holds, value in findings(rule, view):
                key = (rule.name, subject)
                if holds and key not in self.active:
                    alert = Alert(rule.name, rule.kind, subject, "firing", value, rule.level, at)
                    self.active[key] = alert
                    out.append(alert)
                    if self.notify is not None:
                        self.notify(alert)
                elif not holds and key in self.active:
                    del self.active[key]
                    out.append(Alert(rule.name, rule.kind, subject, "cleared", value, rule.level, at))
        return out


def sns_publisher(names: config.Names) -> Callable[[Alert], None]:
    """Publish a firing alert to the alerts topic (blocking: the app runs it off its loop)."""
    arn = f"arn:aws:sns:{config.region()}:{names.account}:{names.alerts_topic}"

    def publish(alert: Alert) -> None:
        aws.client("sns").publish(
            TopicArn=arn,
            Subject=f"gridtape alert: {alert.rule}"[:100],
            Message=json.dumps(alert.as_dict(), indent=2),
            MessageAttributes={"kind": {"DataType": "String", "StringValue": alert.kind}},
        )

    return publish
