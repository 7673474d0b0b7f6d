"""The dashboard's one vocabulary: the words every panel uses for a price against its
all-time high and for a source's state. Panels choose words here; the facts (at the
high, pending, outlier, the state) come from the views in :mod:`feeds.model`.

=========  ==============================================================
RECORD     at or above the confirmed all-time high
PENDING    a print above the stored high, waiting for confirmation
OUTLIER    a print judged an outlier (not a high)
LIVE …     a source's state: the :class:`~feeds.model.core.FeedState` word
=========  ==============================================================
"""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol

from feeds.model.core import FeedState

RECORD = "RECORD"
"""At or above the confirmed all-time high (every panel)."""
PENDING = "PENDING"
"""A print above the stored high that the ATH guard has not confirmed yet."""
OUTLIER = "OUTLIER"
"""A print the ATH guard judged an outlier."""
STALE = FeedState.STALE.value
"""A source whose data stopped arriving (the status bar's word, everywhere)."""
CONNECTING = FeedState.CONNECTING.value
"""A source that has not answered yet."""


class AthFacts(Protocol):
    """What the ATH view says about one symbol (``AthMark`` or ``AthRow``)."""

    @property
    def distance_pct(self) -> Decimal | None:
        """Price against the confirmed high, percent."""

    @property
    def at_high(self) -> bool:
        """At or above the confirmed high, neither pending nor an outlier."""

    @property
    def pending(self) -> bool:
        """Above the stored high, waiting for the guard's confirmation."""

    @property
    def outlier(self) -> bool:
        """Judged an outlier by the guard."""


def ath_word(facts: AthFacts | None) -> str | None:
    """The word for ``facts`` (RECORD, PENDING, OUTLIER), or None when the distance
    below the high is what to show. A price above the stored high never shows as a
    positive distance: unless the view says it is at the high, it is PENDING."""
    if facts is None or facts.distance_pct is None:
        return None
    if facts.at_high:
        return RECORD
    if facts.outlier:
        return OUTLIER
    # A positive distance that is not at the high is unconfirmed, whatever else is said.
    if facts.pending or facts.distance_pct > 0:
        return PENDING
    return None
