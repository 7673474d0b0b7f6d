"""Fed sources: FOMC calendar, FedWatch math, Kalshi, Polymarket, NY Fed, FRED."""
