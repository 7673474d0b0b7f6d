"""Yahoo Finance v8 chart poller: the default quote source (sources.md §C1, §C2).

One request per symbol per cycle, in sequence, on the shared client; the base class
keeps polls single flight and honours 429/Retry-After. This class adds the session-
aware schedule, a jittered backoff across failed cycles, the once-per-cycle cookie and
crumb refresh on 401, and per-symbol failures that never blank a row.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from urllib.parse import quote as urlquote

import httpx

from feeds.core.clock import Clock
from feeds.core.decode import DecodeError
from feeds.core.poll import FetchError, PolledFeed, PollTiming, RateLimited, Response
from feeds.core.text import clean_text
from feeds.model.core import BadMessage
from feeds.model.quotes import MarketState, Quote, QuoteMiss
from feeds.quotes.parse import decode_body, parse_chart_quote, yahoo_error
from feeds.quotes.session import SessionIntervals, cash_state, is_future_symbol

CHART_PATH = "/v8/finance/chart/"
CRUMB_PATH = "/v1/test/getcrumb"
YAHOO_COOKIE_URL = "https://fc.yahoo.com"
"""Where Yahoo hands out its session cookie (sources.md §C2)."""


class YahooChartFeed(PolledFeed):
    """Polls ``/v8/finance/chart/{symbol}?range=1d`` for every watchlist symbol.

    Yields :class:`Quote` per symbol delivered, :class:`QuoteMiss` (plus a BadMessage for
    bad payloads) per symbol not delivered, and status events; the quotes slice decides
    from these which symbols Cboe serves. A cycle in which no symbol could be fetched
    raises into the base class, so the source reads DOWN, DEGRADED or RATE-LIMITED with
    the reason.
    """

    source = "yahoo"
    # A Yahoo that accepts connections and never answers would otherwise hold the first
    # symbol for ``attempts`` timeouts (over 30 s at the defaults) with the status still
    # "first request", and Cboe would not be asked meanwhile. One timeout ends the
    # cycle: the status reads "not answering" and the quotes slice hands the symbols to
    # Cboe. Refused connections and 5xx answers, which fail fast, keep the retries.
    retry_timeouts = False

    def __init__(
        self,
        base_url: str,
        *,
        client: httpx.AsyncClient,
        clock: Clock,
        symbols: Sequence[str],
        futures: Sequence[str] = (),
        show_futures_when_closed: bool = True,
        intervals: SessionIntervals | None = None,
        backoff_cap: float = 600.0,
        cookie_url: str | None = None,
        timing: PollTiming | None = None,
        rng: random.Random | None = None,
    ) -> None:
        super().__init__(client=client, clock=clock, timing=timing, rng=rng)
        self.base_url = base_url.rstrip("/")
        self.symbols = tuple(symbols)
        self.futures = tuple(f for f in futures if f not in self.symbols)
        self.show_futures = show_futures_when_closed
        self.intervals = intervals or SessionIntervals()
        self.backoff_cap = backoff_cap
        self.cookie_url = cookie_url
        self.crumb: str | None = None
        self.failures = 0
        """Consecutive cycles that delivered nothing (drives the backoff)."""
        self.crumb_refreshes = 0

    # -- schedule ---------------------------------------------------------------------

    def symbols_now(self) -> tuple[str, ...]:
        """The watchlist, plus the index futures while the cash session is not open."""
        if (
            self.show_futures
            and self.futures
            and cash_state(self.clock.now()) is not MarketState.REGULAR
        ):
            return self.symbols + self.futures
        return self.symbols

    def interval(self) -> float:
        """The session interval; after failed cycles, a jittered doubling of it, capped.

        The base class reads this before each poll, so the backoff starts from the
        second failed cycle; the first retry comes on the normal schedule.
        """
        syms = self.symbols_now()
        base = self.intervals.for_time(self.clock.now(), any(map(is_future_symbol, syms)))
        if not self.failures:
            return base
        step = min(max(self.backoff_cap, base), base * 2.0 ** min(self.failures, 16))
        return self._rng.uniform(max(base, step / 2), step)

    # -- polling ----------------------------------------------------------------------

    async def poll(self) -> Sequence[object]:
        """One cycle over every symbol, in sequence."""
        syms = self.symbols_now()
        out: list[object] = []
        ok: list[str] = []
        refreshed = False
        first_error: FetchError | None = None
        try:
            for i, sym in enumerate(syms):
                try:
                    result, refreshed = await self._fetch_one(sym, refreshed)
                except RateLimited:
                    raise
                except FetchError as exc:
                    if exc.status in (None, 401) or exc.status >= 500:
                        # The host is down, slow or refusing us: asking for the other
                        # symbols now would only add load. They count as missed.
                        if not ok:
                            raise
                        first_error = exc
                        now = self.clock.monotonic()
                        out.extend(QuoteMiss(self.source, s, exc.reason, now) for s in syms[i:])
                        break
                    result = [QuoteMiss(self.source, sym, exc.reason, self.clock.monotonic())]
                for event in result:
                    out.append(event)
                    if isinstance(event, Quote):
                        ok.append(sym)
        except (FetchError, DecodeError):
            self.failures += 1
            raise
        if not ok and syms:
            self.failures += 1
            misses = [e for e in out if isinstance(e, QuoteMiss)]
            reason = misses[0].reason if misses else "no symbol delivered"
            if first_error is not None:
                raise first_error
            raise FetchError(reason, transient=False, status=200)
        self.failures = 0
        return out

    def _params(self) -> dict[str, str]:
        params = {"range": "1d", "interval": "5m", "includePrePost": "false"}
        if self.crumb:
            params["crumb"] = self.crumb
        return params

    async def _fetch_one(self, sym: str, refreshed: bool) -> tuple[list[object], bool]:
        url = self.base_url + CHART_PATH + urlquote(sym, safe="")
        resp = await self.get(url, params=self._params())
        if resp.status == 401:
            if not refreshed:
                refreshed = True
                await self._refresh_crumb()
                resp = await self.get(url, params=self._params())
            if resp.status == 401:
                why = _error_reason(resp) or "unauthorized"
                raise FetchError(
                    f"HTTP 401: {why} (after crumb refresh)", transient=False, status=401
                )
        now = self.clock.monotonic()
        if resp.status >= 400:
            why = _error_reason(resp) or f"HTTP {resp.status}"
            return [QuoteMiss(self.source, sym, f"{sym}: {why}", now)], refreshed
        payload = decode_body(resp.body, resp.headers.get("content-type", ""), self.source)
        if isinstance(payload, BadMessage):
            return [payload, QuoteMiss(self.source, sym, payload.reason, now)], refreshed
        quote = parse_chart_quote(payload, sym, received=now, now=self.clock.now())
        if isinstance(quote, BadMessage):
            return [quote, QuoteMiss(self.source, sym, quote.reason, now)], refreshed
        return [quote], refreshed

    async def _refresh_crumb(self) -> None:
        """Fetch a session cookie, then a crumb (yfinance's "basic" strategy)."""
        self.crumb_refreshes += 1
        self.crumb = None
        if self.cookie_url:
            try:
                # Any answer will do: the cookie comes with it (fc.yahoo.com answers 404).
                await self.get(self.cookie_url)
            except RateLimited:
                raise
            except FetchError:
                pass
        resp = await self.get(self.base_url + CRUMB_PATH)
        text = resp.text().strip()
        if (
            resp.status != 200
            or not text
            or len(text) > 64
            or any(c in text for c in " <>{}\"'")
            or "too many requests" in text.lower()
        ):
            raise FetchError(
                f"HTTP {resp.status}: no crumb ({clean_text(text, 40) or 'empty'})",
                transient=False,
                status=resp.status if resp.status >= 400 else 401,
            )
        self.crumb = text


def _error_reason(resp: Response) -> str | None:
    payload = decode_body(resp.body, resp.headers.get("content-type", ""), "yahoo")
    return None if isinstance(payload, BadMessage) else yahoo_error(payload)
