.PHONY: test interop

# Unit tests (no peers needed).
test:
	go test -race ./...

# Interop tests against ../shared/peers (root, Debian; see scripts/interop.sh).
interop:
	bash scripts/interop.sh
