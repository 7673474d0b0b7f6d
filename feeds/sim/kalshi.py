"""Simulated Kalshi market data (``/trade-api/v2/events``) for the two Fed series:
KXFEDDECISION (one event per meeting, markets ``-C26 -C25 -H0 -H25 -H26``) and the KXFED
upper-bound ladder (``-T3.75`` ...). Prices are ``*_dollars`` strings with a small
overround and realistic spreads, quoted around :mod:`feeds.sim.fed_rates`' reference
odds. Tests script junk through :attr:`SimKalshi.overrides` and
:attr:`SimKalshi.dropped`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from typing import Any

import orjson

from feeds.core.clock import Clock
from feeds.model.fed import FomcMeeting
from feeds.rates.calendar import ET
from feeds.sim.fed_rates import cumulative_upper, range_on, sim_meeting_odds
from feeds.sim.http import SimHttpServer, SimRequest, SimResponse, json_response

API_PREFIX = "/trade-api/v2"
SUFFIXES = ("C26", "C25", "H0", "H25", "H26")
TITLES = ("Cut >25bps", "Cut 25bps", "Hold", "Hike 25bps", "Hike >25bps")
OVERROUND = 1.02


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
    """

    server: SimHttpServer
    clock: Clock
    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)
    dropped: set[str] = field(default_factory=set)
    extra_events: list[dict[str, Any]] = field(default_factory=list)
    page_size: int = 100

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

    def ladder_events(self) -> list[dict[str, Any]]:
        """KXFED upper-bound ladder events for the upcoming meetings."""
        odds = sim_meeting_odds(self.clock)
        upper = range_on(self.clock.now().date())[1]
        out: list[dict[str, Any]] = []
        for i, ((meeting, _), dist) in enumerate(
            zip(odds, cumulative_upper(odds, upper), strict=True)
        ):
            event = f"KXFED-{event_code(meeting)}"
            if event in self.dropped:
                continue
            markets = []
            for k in range(-8, 4):
                strike = round(upper + 0.25 * k, 2)
                above = sum(p for level, p in dist.items() if level > strike + 1e-9)
                if above < 0.005 and k > 0:
                    continue
                ticker = f"{event}-T{strike:.2f}"
                m = _market(ticker, event, f"Above {strike:.2f}%", above, 0.02 + 0.005 * i, meeting)
                m["floor_strike"] = strike
                m["strike_type"] = "greater"
                markets.append(self._apply(m))
            out.append(
                {
                    "event_ticker": event,
                    "series_ticker": "KXFED",
                    "title": f"Fed rate after the {meeting.decision:%b %Y} meeting",
                    "markets": markets,
                }
            )
        return out

    async def _events(self, req: SimRequest) -> SimResponse:
        series = req.query.get("series_ticker", "")
        if series == "KXFEDDECISION":
            events = self.decision_events()
        elif series == "KXFED":
            events = self.ladder_events()
        else:
            events = []
        try:
            limit = max(1, min(int(req.query.get("limit", "100")), 200, self.page_size))
            start = int(req.query.get("cursor") or 0)
        except ValueError:
            return json_response(b'{"error":{"code":"bad_request"}}', 400)
        page = events[start : start + limit]
        cursor = str(start + limit) if start + limit < len(events) else ""
        return json_response(orjson.dumps({"events": page, "cursor": cursor}))


async def start_sim_kalshi(clock: Clock, port: int = 0) -> SimKalshi:
    """Start the simulated Kalshi on 127.0.0.1 (``port`` 0 picks a free one)."""
    server = SimHttpServer("kalshi")
    sim = SimKalshi(server, clock)
    server.route(rf"(?:{API_PREFIX})?/events", sim._events)
    await server.start(port)
    return sim
