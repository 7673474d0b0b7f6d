"""Simulated Kalshi market data (``/trade-api/v2/events``) for the two Fed series:
KXFEDDECISION (one event per meeting, markets ``-C26 -C25 -H0 -H25 -H26``) and the KXFED
upper-bound ladder (``-T3.75`` ...). Prices are ``*_dollars`` strings with a small
overround and realistic spreads, quoted around :mod:`feeds.sim.fed_rates`' reference
odds. Tests script junk through :attr:`SimKalshi.overrides` and
:attr:`SimKalshi.dropped`.

Like the real venue, every ladder also lists far strikes nobody trades: resting 1-cent
bids and 99-cent asks, 100 contracts a side, no volume (placeholders, issue 19). One
meeting past the listed eight has a ladder made of little else, and
:attr:`SimKalshi.placeholder_ladders` gives any meeting that shape.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from typing import Any

import orjson

from feeds.core.clock import Clock
from feeds.model.fed import FomcMeeting
from feeds.rates.calendar import ET
from feeds.sim.fed_rates import REFERENCE_ODDS, cumulative_upper, range_on, sim_meeting_odds
from feeds.sim.http import SimHttpServer, SimRequest, SimResponse, json_response

API_PREFIX = "/trade-api/v2"
SUFFIXES = ("C26", "C25", "H0", "H25", "H26")
TITLES = ("Cut >25bps", "Cut 25bps", "Hold", "Hike 25bps", "Hike >25bps")
OVERROUND = 1.02
FAR_STRIKES = 2
"""Placeholder strikes listed above each ladder's top traded strike."""
PLACEHOLDER = {
    "yes_bid_dollars": "0.0100",
    "yes_ask_dollars": "0.9900",
    "no_bid_dollars": "0.0100",
    "no_ask_dollars": "0.9900",
    "last_price_dollars": "0.0000",
    "previous_price_dollars": "0.0000",
    "yes_bid_size_fp": "100.00",
    "yes_ask_size_fp": "100.00",
    "volume_fp": "0.00",
    "volume_24h_fp": "0.00",
    "open_interest_fp": "0.00",
    "liquidity_dollars": "0.0000",
}
"""A resting 1-cent / 99-cent quote with nothing traded: the fields a placeholder
strike carries (issue 19's description; no recording of one exists in tests/data/real)."""


def event_code(meeting: FomcMeeting) -> str:
    """``26JAN`` for a January 2026 meeting."""
    return f"{meeting.decision:%y}{meeting.decision:%b}".upper()


def _quote(p: float, spread: float) -> tuple[str, str]:
    """Yes bid and ask around ``p`` (two decimals, inside [0, 1])."""
    mid = min(0.99, max(0.0, p))
    bid = max(0.0, round(mid - spread / 2, 2))
    ask = min(1.0, round(max(bid + 0.01, mid + spread / 2), 2))
    return f"{bid:.4f}", f"{ask:.4f}"


def _market(
    ticker: str, event: str, title: str, p: float, spread: float, meeting: FomcMeeting
) -> dict[str, Any]:
    bid, ask = _quote(p, spread)
    close = datetime.combine(meeting.decision, time(14, 0), tzinfo=ET).astimezone(UTC)
    volume = int(400_000 * max(p, 0.01))
    return {
        "ticker": ticker,
        "event_ticker": event,
        "market_type": "binary",
        "title": title,
        "subtitle": "",
        "yes_sub_title": title,
        "status": "active",
        "yes_bid_dollars": bid,
        "yes_ask_dollars": ask,
        "no_bid_dollars": f"{1 - float(ask):.4f}",
        "no_ask_dollars": f"{1 - float(bid):.4f}",
        "last_price_dollars": f"{round(p, 2):.4f}",
        "previous_price_dollars": f"{round(p, 2):.4f}",
        "volume_fp": f"{volume}.00",
        "volume_24h_fp": f"{volume // 40}.00",
        "open_interest_fp": f"{volume // 3}.00",
        "yes_bid_size_fp": "1500.00",
        "yes_ask_size_fp": "1200.00",
        "liquidity_dollars": "25000.0000",
        "close_time": close.isoformat().replace("+00:00", "Z"),
        "expected_expiration_time": close.isoformat().replace("+00:00", "Z"),
        "response_price_units": "usd_cent",
        "price_level_structure": "linear_cent",
        "fractional_trading_enabled": False,
    }


@dataclass(slots=True)
class SimKalshi:
    """The simulated Kalshi server and its scripting knobs.

    Attributes:
        server: The HTTP server (base URL for the feed: :attr:`url`).
        clock: Where the simulated time comes from.
        overrides: Market ticker -> fields replaced in (or, with value None, removed
            from) that market's JSON: junk prices, legacy integer fields.
        dropped: Event tickers left out (a missing meeting).
        extra_events: Raw events appended to the KXFEDDECISION listing.
        page_size: Largest page served; smaller values exercise cursor pagination.
        placeholder_ladders: KXFED event tickers served in issue 19's shape: five strikes
            from 1.25 points above the current upper bound, four of them placeholders
            and the lowest quoted 0.41 / 0.99 with 61 contracts traded.
        unnested: Event tickers listed without their ``markets`` (issue 18); their
            markets are served by ``/markets?event_ticker=...``.
    """

    server: SimHttpServer
    clock: Clock
    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)
    dropped: set[str] = field(default_factory=set)
    extra_events: list[dict[str, Any]] = field(default_factory=list)
    page_size: int = 100
    placeholder_ladders: set[str] = field(default_factory=set)
    unnested: set[str] = field(default_factory=set)

    @property
    def url(self) -> str:
        """The endpoint base, as configured for ``kalshi``."""
        return self.server.url + API_PREFIX

    def _apply(self, market: dict[str, Any]) -> dict[str, Any]:
        for k, v in self.overrides.get(market["ticker"], {}).items():
            if v is None:
                market.pop(k, None)
            else:
                market[k] = v
        return market

    def decision_events(self) -> list[dict[str, Any]]:
        """KXFEDDECISION events for the upcoming meetings."""
        out: list[dict[str, Any]] = []
        for i, (meeting, probs) in enumerate(sim_meeting_odds(self.clock)):
            event = f"KXFEDDECISION-{event_code(meeting)}"
            if event in self.dropped:
                continue
            spread = 0.01 if i < 2 else 0.02 + 0.005 * (i - 2)
            markets = [
                self._apply(_market(f"{event}-{sfx}", event, title, p * OVERROUND, spread, meeting))
                for sfx, title, p in zip(SUFFIXES, TITLES, probs, strict=True)
            ]
            out.append(
                {
                    "event_ticker": event,
                    "series_ticker": "KXFEDDECISION",
                    "title": f"Fed decision in {meeting.decision:%b %Y}?",
                    "sub_title": f"On {meeting.decision:%b %d, %Y}",
                    "mutually_exclusive": True,
                    "category": "Economics",
                    "markets": markets,
                }
            )
        out.extend(self.extra_events)
        return out

    def _strike(
        self, event: str, strike: float, above: float, spread: float, meeting: FomcMeeting
    ) -> dict[str, Any]:
        ticker = f"{event}-T{strike:.2f}"
        m = _market(ticker, event, f"Above {strike:.2f}%", above, spread, meeting)
        m["floor_strike"] = strike
        m["strike_type"] = "greater"
        return m

    def _placeholder(self, event: str, strike: float, meeting: FomcMeeting) -> dict[str, Any]:
        m = self._strike(event, strike, 0.5, 0.02, meeting)
        m.update(PLACEHOLDER)
        return m

    def _issue19_ladder(self, event: str, upper: float, meeting: FomcMeeting) -> list[Any]:
        """Five strikes nobody prices: the lowest 0.41 / 0.99 after 61 contracts, the
        rest placeholders (the page issue 19 describes)."""
        first = self._strike(event, upper + 1.25, 0.7, 0.02, meeting)
        first.update(
            {
                "yes_bid_dollars": "0.4100",
                "yes_ask_dollars": "0.9900",
                "no_bid_dollars": "0.0100",
                "no_ask_dollars": "0.5900",
                "last_price_dollars": "0.4100",
                "previous_price_dollars": "0.4100",
                "volume_fp": "61.00",
                "volume_24h_fp": "0.00",
                "open_interest_fp": "61.00",
            }
        )
        rest = [self._placeholder(event, upper + 1.25 + 0.25 * k, meeting) for k in range(1, 5)]
        return [first, *rest]

    def ladder_events(self) -> list[dict[str, Any]]:
        """KXFED upper-bound ladder events for the upcoming meetings, then one for the
        meeting after them in issue 19's placeholder shape."""
        odds = sim_meeting_odds(self.clock, count=len(REFERENCE_ODDS) + 1)
        far_meeting = odds.pop()[0] if len(odds) > len(REFERENCE_ODDS) else None
        upper = range_on(self.clock.now().date())[1]
        out: list[dict[str, Any]] = []
        for i, ((meeting, _), dist) in enumerate(
            zip(odds, cumulative_upper(odds, upper), strict=True)
        ):
            event = f"KXFED-{event_code(meeting)}"
            if event in self.dropped:
                continue
            if event in self.placeholder_ladders:
                markets = self._issue19_ladder(event, upper, meeting)
            else:
                markets = []
                top = upper
                for k in range(-8, 4):
                    strike = round(upper + 0.25 * k, 2)
                    above = sum(p for level, p in dist.items() if level > strike + 1e-9)
                    if above < 0.005 and k > 0:
                        continue
                    top = strike
                    markets.append(self._strike(event, strike, above, 0.02 + 0.005 * i, meeting))
                markets += [
                    self._placeholder(event, round(top + 0.25 * k, 2), meeting)
                    for k in range(1, FAR_STRIKES + 1)
                ]
            out.append(self._ladder_event(event, meeting, markets))
        if far_meeting is not None:
            event = f"KXFED-{event_code(far_meeting)}"
            if event not in self.dropped:
                markets = self._issue19_ladder(event, upper, far_meeting)
                out.append(self._ladder_event(event, far_meeting, markets))
        return out

    def _ladder_event(
        self, event: str, meeting: FomcMeeting, markets: list[dict[str, Any]]
    ) -> dict[str, Any]:
        return {
            "event_ticker": event,
            "series_ticker": "KXFED",
            "title": f"Fed rate after the {meeting.decision:%b %Y} meeting",
            "markets": [self._apply(m) for m in markets],
        }

    def _listed(self, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The events as ``/events`` lists them: without ``markets`` where scripted."""
        return [
            {k: v for k, v in ev.items() if k != "markets"}
            if ev["event_ticker"] in self.unnested
            else ev
            for ev in events
        ]

    async def _markets(self, req: SimRequest) -> SimResponse:
        """``/markets?event_ticker=...``: one event's markets, cursor-paged."""
        wanted = req.query.get("event_ticker", "")
        if not wanted:
            # The bare listing is flooded with parlays on the real venue; never serve it.
            return json_response(b'{"error":{"code":"bad_request"}}', 400)
        markets: list[dict[str, Any]] = []
        for ev in [*self.decision_events(), *self.ladder_events()]:
            if ev["event_ticker"] == wanted:
                markets = list(ev.get("markets", []))
        return self._page(req, markets, "markets")

    def _page(self, req: SimRequest, items: list[dict[str, Any]], key: str) -> SimResponse:
        try:
            limit = max(1, min(int(req.query.get("limit", "100")), 200, self.page_size))
            start = int(req.query.get("cursor") or 0)
        except ValueError:
            return json_response(b'{"error":{"code":"bad_request"}}', 400)
        page = items[start : start + limit]
        cursor = str(start + limit) if start + limit < len(items) else ""
        return json_response(orjson.dumps({key: page, "cursor": cursor}))

    async def _events(self, req: SimRequest) -> SimResponse:
        series = req.query.get("series_ticker", "")
        if series == "KXFEDDECISION":
            events = self.decision_events()
        elif series == "KXFED":
            events = self.ladder_events()
        else:
            events = []
        return self._page(req, self._listed(events), "events")


async def start_sim_kalshi(clock: Clock, port: int = 0) -> SimKalshi:
    """Start the simulated Kalshi on 127.0.0.1 (``port`` 0 picks a free one)."""
    server = SimHttpServer("kalshi")
    sim = SimKalshi(server, clock)
    server.route(rf"(?:{API_PREFIX})?/events", sim._events)
    server.route(rf"(?:{API_PREFIX})?/markets", sim._markets)
    await server.start(port)
    return sim
