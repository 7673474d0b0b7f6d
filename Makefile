# Convenience wrappers; dev.py is the single source of truth and needs only python3.
.PHONY: run demo test lint bench bench-quick
run: ; python3 dev.py run
demo: ; python3 dev.py demo
test: ; python3 dev.py test
lint: ; python3 dev.py lint
bench: ; python3 dev.py bench
bench-quick: ; python3 dev.py bench --quick
