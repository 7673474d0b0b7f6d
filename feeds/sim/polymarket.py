"""Simulated Polymarket Gamma (``/events?tag_slug=fed-rates``): one event per meeting for
the next few meetings, each outcome bucket a binary market with ``groupItemTitle`` and
JSON-encoded ``outcomes``/``outcomePrices`` strings, priced a little off Kalshi so the
cross-check column has something to say. Simulated numbers, not quotes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from typing import Any

import orjson

from feeds.core.clock import Clock
from feeds.model.fed import FomcMeeting
from feeds.sim.fed_rates import sim_meeting_odds
from feeds.sim.http import SimHttpServer, SimRequest, SimResponse, json_response

LABELS = ("50+ bps decrease", "25 bps decrease", "No change", "25+ bps increase", None)
MEETINGS_LISTED = 5
"""Polymarket lists fewer meetings ahead than Kalshi."""


def _slug(meeting: FomcMeeting) -> str:
    return f"fed-decision-in-{meeting.decision:%B}-{meeting.decision:%Y}".lower()


@dataclass(slots=True)
class SimPolymarket:
    """The simulated Gamma server and its scripting knobs.

    Attributes:
        server: The HTTP server; its URL is the ``polymarket`` endpoint.
        clock: Simulated time.
        overrides: Market id -> fields replaced in that market's JSON (None removes).
        dropped: Event slugs left out.
        extra_events: Raw events appended to the listing.
    """

    server: SimHttpServer
    clock: Clock
    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)
    dropped: set[str] = field(default_factory=set)
    extra_events: list[dict[str, Any]] = field(default_factory=list)

    @property
    def url(self) -> str:
        """The endpoint base, as configured for ``polymarket``."""
        return self.server.url

    def events(self) -> list[dict[str, Any]]:
        """The open fed-rates events."""
        out: list[dict[str, Any]] = []
        for i, (meeting, probs) in enumerate(sim_meeting_odds(self.clock)[:MEETINGS_LISTED]):
            slug = _slug(meeting)
            if slug in self.dropped:
                continue
            # Polymarket leans a touch more dovish than Kalshi here: a cross-check, not a copy.
            c26, c25, h0, h25, h26 = probs
            lean = 0.02
            adjusted = (c26, c25 + lean, max(0.0, h0 - lean), h25 + h26, None)
            end = datetime.combine(meeting.decision, time(0, 0), tzinfo=UTC)
            markets = []
            for j, (label, p) in enumerate(zip(LABELS, adjusted, strict=True)):
                if label is None or p is None:
                    continue
                mid = round(max(0.001, p), 3)
                market_id = f"{600000 + 10 * i + j}"
                market = {
                    "id": market_id,
                    "question": f"Fed {label} after {meeting.decision:%B %Y} meeting?",
                    "slug": f"{slug}-{j}",
                    "groupItemTitle": label,
                    "outcomes": '["Yes", "No"]',
                    "outcomePrices": orjson.dumps([f"{mid}", f"{round(1 - mid, 3)}"]).decode(),
                    "bestBid": round(max(0.0, mid - 0.005), 3),
                    "bestAsk": round(min(1.0, mid + 0.005), 3),
                    "volume": f"{int(2_000_000 * max(p, 0.01))}",
                    "volumeNum": int(2_000_000 * max(p, 0.01)),
                    "active": True,
                    "closed": False,
                    "endDate": end.isoformat().replace("+00:00", "Z"),
                }
                for k, v in self.overrides.get(market_id, {}).items():
                    if v is None:
                        market.pop(k, None)
                    else:
                        market[k] = v
                markets.append(market)
            out.append(
                {
                    "id": f"{30000 + i}",
                    "slug": slug,
                    "title": f"Fed decision in {meeting.decision:%B %Y}?",
                    "endDate": end.isoformat().replace("+00:00", "Z"),
                    "active": True,
                    "closed": False,
                    "tags": [{"slug": "fed-rates", "label": "Fed Rates"}],
                    "markets": markets,
                }
            )
        out.extend(self.extra_events)
        return out

    async def _events(self, req: SimRequest) -> SimResponse:
        if req.query.get("tag_slug", "fed-rates") != "fed-rates":
            return json_response(b"[]")
        return json_response(orjson.dumps(self.events()))


async def start_sim_polymarket(clock: Clock, port: int = 0) -> SimPolymarket:
    """Start the simulated Gamma API on 127.0.0.1."""
    server = SimHttpServer("polymarket")
    sim = SimPolymarket(server, clock)
    server.route(r"/events", sim._events)
    await server.start(port)
    return sim
