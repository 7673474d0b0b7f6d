"""Live BTC-USD over exchange websockets: Coinbase Exchange and Kraken v2."""
