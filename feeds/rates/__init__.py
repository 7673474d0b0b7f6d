"""Fed rate odds: Kalshi, Polymarket, FedWatch from ZQ futures, EFFR, the FOMC calendar."""
