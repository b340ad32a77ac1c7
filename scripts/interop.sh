#!/usr/bin/env bash
# scripts/interop.sh - run the interop tests (build tag "interop") against the
# real peers of ../shared/peers on loopback.
#
#   1. peer-dns.sh start          (apt-get installs nsd/unbound/... when missing)
#   2. copies spf/testdata/interop/*.zone into $DNS_STATE/zones and restarts
#      nsd when a zone is new, changed or not yet served
#   3. spf-check.sh pyspf once    (installs python3-spf, smoke test)
#   4. go test -race -count=1 -tags interop ./...  with MAILPOLICY_INTEROP_REQUIRED=1,
#      so a missing peer fails the run instead of skipping
#   5. on exit, stops the peers this script started (peers that were already
#      running are left running)
#
# Must run as root on Debian 12 with Go installed (the peer scripts need root;
# -race needs gcc, installed here when missing).
# Env: MAILPOLICY_SHARED (default <repo>/../shared; the shared dir, or its peers/
#      dir), DNS_STATE (/tmp/peers/dns), DNS_AUTH_PORT (5353), GOTESTFLAGS
#      (extra go test flags, e.g. "-v -run Interop").
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
shared=${MAILPOLICY_SHARED:-$repo/../shared}
if [ -f "$shared/peers/spf-check.sh" ]; then peers=$shared/peers
elif [ -f "$shared/spf-check.sh" ]; then peers=$shared
else echo "interop: no peers in $shared (set MAILPOLICY_SHARED)" >&2; exit 1; fi
peers=$(cd "$peers" && pwd)
# Tests read suites/ and peers/ below it, so export the shared dir itself.
if [ -d "$peers/../suites" ]; then export MAILPOLICY_SHARED=$(cd "$peers/.." && pwd); else export MAILPOLICY_SHARED=$peers; fi
export DNS_STATE=${DNS_STATE:-/tmp/peers/dns}
export DNS_AUTH_PORT=${DNS_AUTH_PORT:-5353}

[ "$(id -u)" = 0 ] || { echo "interop: must run as root (the peer scripts install packages and start daemons)" >&2; exit 1; }
command -v go >/dev/null || { echo "interop: go not found in PATH" >&2; exit 1; }

log() { printf 'interop: %s\n' "$*" >&2; }
t0=$(date +%s)

started_dns=""
cleanup() {
  local rc=$?
  if [ -n "$started_dns" ]; then bash "$peers/peer-dns.sh" stop >&2 || true; fi
  log "done in $(( $(date +%s) - t0 ))s (exit $rc)"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# gcc for the race detector, openssl for the OCSP responder and TLS
# peers (need_pkgs: apt-get, with update on failure).
if ! command -v gcc >/dev/null; then
  ( source "$peers/lib.sh"; need_pkgs gcc libc6-dev )
fi
if ! command -v openssl >/dev/null; then
  ( source "$peers/lib.sh"; need_pkgs openssl )
fi
# dkim's signing interop tests: python3-dkim (dkimpy) and a private Exim
# verify our signatures.
( source "$peers/lib.sh"; need_pkgs python3-dkim exim4-daemon-heavy )
# mtasts's differential test: Debian's postfix-mta-sts-resolver
# (mta-sts-query, mta-sts-daemon), run in a private namespace by the test.
( source "$peers/lib.sh"; need_pkgs postfix-mta-sts-resolver )

# 1. DNS peer.
if bash "$peers/peer-dns.sh" status >/dev/null 2>&1; then
  log "dns peer already running; it will be left running"
else
  started_dns=1
fi
bash "$peers/peer-dns.sh" start >&2
[ -n "$started_dns" ] && log "started dns peer; it will be stopped on exit"

# 2. Our zones. Restart when a file is new or changed, or when nsd does not
#    serve the zone with the file's SOA serial (copied but never loaded).
soa_serial_file() { awk '$2 == "SOA" || $3 == "SOA" { print $(NF-4); exit }' "$1"; }
soa_serial_dns() {
  dig +short +time=2 +tries=1 @127.0.0.1 -p "$DNS_AUTH_PORT" "$1" SOA 2>/dev/null | awk '{ print $3; exit }'
}
restart=""
mkdir -p "$DNS_STATE/zones"
for f in "$repo"/spf/testdata/interop/*.zone; do
  dst=$DNS_STATE/zones/$(basename "$f")
  if ! cmp -s "$f" "$dst"; then cp "$f" "$dst"; restart=1; continue; fi
  zone=$(basename "$f" .zone)
  [ "$(soa_serial_dns "$zone")" = "$(soa_serial_file "$f")" ] || restart=1
done
if [ -n "$restart" ]; then
  log "loading zones from spf/testdata/interop"
  bash "$peers/peer-dns.sh" restart >&2
fi
for f in "$repo"/spf/testdata/interop/*.zone; do
  zone=$(basename "$f" .zone)
  if [ "$(soa_serial_dns "$zone")" != "$(soa_serial_file "$f")" ]; then
    log "nsd does not serve $zone from $f (see $DNS_STATE/nsd.log)"; exit 1
  fi
done

# 3. Reference SPF implementation (installs python3-spf on first use).
smoke=$(bash "$peers/spf-check.sh" pyspf 192.0.2.10 alice@spf.test)
log "smoke test: $smoke"
case $smoke in "pyspf: pass |"*) ;; *) log "pyspf smoke test failed"; exit 1 ;; esac

# 4. Tests.
cd "$repo"
log "go test -race -count=1 -tags interop ${GOTESTFLAGS:+$GOTESTFLAGS }./..."
MAILPOLICY_INTEROP_REQUIRED=1 go test -race -count=1 -tags interop ${GOTESTFLAGS:-} ./...
