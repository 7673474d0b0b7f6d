"""Pure core pieces: the sanitiser, number parsing, the backoff policy, the store."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from feeds.core.backoff import Backoff, BackoffPolicy
from feeds.core.decode import number, price
from feeds.core.health import HealthSlice
from feeds.core.store import Store
from feeds.core.text import clean_text
from feeds.model import BadMessage, FeedState, FeedStatus, Heartbeat


@pytest.mark.parametrize(
    ("raw", "want"),
    [
        ("plain", "plain"),
        ("title \x1b]0;PWNED\x07 end", "title  end"),
        ("clip \x1b]52;c;ZXZpbA==\x07!", "clip !"),
        ("wipe \x1b[2J now", "wipe  now"),
        ("c1 \x9b2J x", "c1 2J x"),
        ("link \x1b]8;;http://x\x1b\\text\x1b]8;;\x1b\\", "link text"),
        ("bidi \u202egnp.exe", "bidi gnp.exe"),
        ("zero\u200bwidth", "zerowidth"),
        ("tab\tand\nnewline", "tab and newline"),
        ("[b]markup[/b] [@click=app.quit]", "[b]markup[/b] [@click=app.quit]"),
        ("del\x7f bell\x07", "del bell"),
    ],
)
def test_x1_x3_clean_text(raw: str, want: str) -> None:
    assert clean_text(raw) == want


def test_x3_clean_text_truncates_long_input() -> None:
    out = clean_text("x" * 10_000, 50)
    assert len(out) == 50 and out.endswith("…")


@given(st.text())
def test_clean_text_never_leaves_control_characters(text: str) -> None:
    out = clean_text(text, 500)
    assert all(not (ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F) for c in out)
    assert "\x1b" not in out


@given(
    st.one_of(
        st.none(), st.booleans(), st.integers(), st.floats(), st.text(), st.lists(st.integers())
    )
)
def test_d12_price_is_finite_positive_or_none(value: object) -> None:
    out = price(value)
    assert out is None or (out.is_finite() and out > 0)


def test_number_accepts_signed_plain_decimals_only() -> None:
    assert number("-12.5") == Decimal("-12.5")
    assert number("+3") == Decimal("3")
    for bad in ("1e5", "1_000", " 1", "", "-", ".", "NaN", "inf"):
        assert number(bad) is None, bad


def test_backoff_first_attempt_is_immediate_then_jittered_and_capped() -> None:
    b = Backoff(BackoffPolicy(base=1, cap=8, window=60, max_attempts=100), random.Random(1))
    assert b.delay(0.0) == 0.0
    t = 0.0
    for n in range(1, 12):
        b.attempt(t)
        b.ended(None, t)
        d = b.delay(t)
        step = min(8, 2**n)
        assert 0 <= d <= step
        if n >= 3:
            assert d >= 1  # the floor after three consecutive failures
        t += d


def test_w5_attempt_budget_caps_attempts_per_window() -> None:
    b = Backoff(BackoffPolicy(base=0.001, cap=0.001, window=60, max_attempts=10, floor_after=99))
    t = 0.0
    starts = []
    for _ in range(40):
        t += b.delay(t)
        b.attempt(t)
        starts.append(t)
        b.ended(t, t)  # accepted, then closed at once
    for i, s in enumerate(starts):
        assert sum(1 for x in starts[i:] if x - s < 60) <= 10


def test_backoff_resets_only_after_a_healthy_connection() -> None:
    b = Backoff(BackoffPolicy(healthy_after=60))
    for _ in range(5):
        b.attempt(0)
        b.ended(0.0, 30.0)  # lived 30 s: not healthy long enough
    assert b.failures == 5
    b.ended(0.0, 61.0)
    assert b.failures == 0


class BackoffMachine(RuleBasedStateMachine):
    """Stateful check: whatever the sequence of outcomes, the budget and cap hold."""

    def __init__(self) -> None:
        super().__init__()
        self.policy = BackoffPolicy(base=1, cap=60, healthy_after=60, window=60, max_attempts=10)
        self.b = Backoff(self.policy, random.Random(0))
        self.now = 0.0
        self.starts: list[float] = []
        self.connected_at: float | None = None
        self.open = False

    @precondition(lambda self: not self.open)
    @rule()
    def attempt(self) -> None:
        wait = self.b.delay(self.now)
        assert wait <= max(self.policy.cap, self.policy.window)
        self.now += wait
        self.b.attempt(self.now)
        self.starts.append(self.now)
        self.open = True
        self.connected_at = None

    @precondition(lambda self: self.open)
    @rule(lived=st.floats(0, 200))
    def connect_then_drop(self, lived: float) -> None:
        self.connected_at = self.now
        self.now += lived
        self.b.ended(self.connected_at, self.now)
        self.open = False

    @precondition(lambda self: self.open)
    @rule()
    def refuse(self) -> None:
        self.b.ended(None, self.now)
        self.open = False

    @invariant()
    def at_most_ten_in_any_minute(self) -> None:
        if self.starts:
            last = self.starts[-1]
            assert sum(1 for s in self.starts if last - s < 60) <= 10


TestBackoffMachine = BackoffMachine.TestCase
TestBackoffMachine.settings = settings(max_examples=60, stateful_step_count=40, deadline=None)


class Counter:
    topic = "count"
    accepts: tuple[type, ...] = (Heartbeat,)

    def __init__(self) -> None:
        self.n = 0

    def apply(self, event: object) -> bool:
        self.n += 1
        return True

    def refresh(self, now: float) -> bool:
        return False


def test_store_latest_value_wins_and_drains_once() -> None:
    c = Counter()
    store = Store([c])
    assert store.drain() == {"count"}  # a new slice starts dirty
    for i in range(1000):
        store.apply(Heartbeat("x", float(i)))
    assert c.n == 1000
    assert store.drain() == {"count"}
    assert store.drain() == frozenset()
    store.apply(BadMessage("x", "nope"))  # not routed to Counter
    assert store.drain() == frozenset()


def test_health_turns_stale_after_silence_and_back() -> None:
    h = HealthSlice({"coinbase": 5.0}, heartbeat_kinds=(Heartbeat,))
    store = Store([h])
    store.apply(FeedStatus("coinbase", FeedState.LIVE, "", 100.0))
    store.apply(Heartbeat("coinbase", 101.0))
    store.refresh(105.5)
    assert h.view()["coinbase"].state is FeedState.LIVE
    store.refresh(106.5)
    assert h.view()["coinbase"].state is FeedState.STALE
    assert "5" in h.view()["coinbase"].reason
    store.apply(Heartbeat("coinbase", 107.0))
    store.refresh(107.1)
    assert h.view()["coinbase"].state is FeedState.LIVE
    assert h.view()["coinbase"].last_data is None  # heartbeats are not data


def test_health_counts_bad_messages() -> None:
    h = HealthSlice({})
    for _ in range(3):
        h.apply(BadMessage("kraken", "x"))
    h.apply(FeedStatus("kraken", FeedState.LIVE, "", 1.0))
    assert h.view()["kraken"].bad == 3


def test_store_add_replaces_a_slice_and_its_routes() -> None:
    first, second = Counter(), Counter()
    store = Store([first])
    store.add(second)
    store.apply(Heartbeat("x", 1.0))
    assert (first.n, second.n) == (0, 1)
