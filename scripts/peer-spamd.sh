#!/usr/bin/env bash
# peer-spamd.sh start|stop|status - SpamAssassin spamd peer for the bmi interop tests.
#
# Runs Debian 12's spamd (SpamAssassin 4.0.x) on 127.0.0.1:$SPAMD_PORT (7830) only, speaking
# the SPAMC/1.5 protocol (CHECK, SYMBOLS, REPORT, PING ...; see bmi/spamd.go). The daemon is
# started as root and drops to user nobody (-u nobody); all state lives under $SPAMD_STATE
# (/tmp/peers/spamd): spamd.pid, spamd.log, site/ (site config), users/<profile>/user_prefs,
# home/ (helper home dir).
#
# Configuration is self-contained so that a system-wide /etc/spamassassin/local.cf cannot
# change the results: rules come from the shipped default rules (-C /usr/share/spamassassin,
# never sa-update's /var/lib/spamassassin), the site config is $SPAMD_STATE/site (a copy of
# the plugin-loading /etc/spamassassin/*.pre files, without sa-compile.pre, plus our own
# local.cf: required_score 5, no Bayes, no auto-learn, no network tests, and the test rule
# MAILPOLICY_MARKER, 3.0 points, on the body phrase "MAILPOLICY-TEST-MARKER").
# Local tests only (-L), no DNS, no auto-update, at most 3 children.
#
# Per-user profiles without unix users: -x --virtual-config-dir=$SPAMD_STATE/users/%u, so the
# SPAMC "User:" header selects users/<User>/user_prefs. Profiles:
#   strict   required_score 1.0   (the marker phrase alone is spam)
#   lenient  required_score 15.0  (the marker phrase is not spam; GTUBE, 1000 points, still is)
#   (none)   site default required_score 5.0
# Start prints the address; it waits up to 60 s for the listener (rule compilation is slow).
# Env: SPAMD_STATE (/tmp/peers/spamd) SPAMD_PORT (7830)
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
shared=${MAILPOLICY_SHARED:-$repo/../shared}
if [ -f "$shared/peers/lib.sh" ]; then peers=$shared/peers
elif [ -f "$shared/lib.sh" ]; then peers=$shared
else echo "peer-spamd: no peers/lib.sh in $shared (set MAILPOLICY_SHARED)" >&2; exit 1; fi
source "$peers/lib.sh"

S=${SPAMD_STATE:-/tmp/peers/spamd}
PORT=${SPAMD_PORT:-7830}
PF=$S/spamd.pid
LOG=$S/spamd.log

configure() {
  mkdir -p "$S/site" "$S/users/strict" "$S/users/lenient" "$S/home"
  chmod 755 "$S" "$S/site" "$S/users" "$S/users/strict" "$S/users/lenient"
  rm -f "$S"/site/*.pre
  for f in /etc/spamassassin/*.pre; do
    case $(basename "$f") in sa-compile.pre) continue ;; esac
    cp "$f" "$S/site/"
  done
  cat >"$S/site/local.cf" <<'EOF'
# Written by scripts/peer-spamd.sh: deterministic, offline configuration.
required_score 5.0
use_bayes 0
bayes_auto_learn 0
skip_rbl_checks 1
dns_available no
use_razor2 0
use_pyzor 0
report_safe 0
body     MAILPOLICY_MARKER /\bMAILPOLICY-TEST-MARKER\b/
describe MAILPOLICY_MARKER mailpolicy interop marker phrase
score    MAILPOLICY_MARKER 3.0
EOF
  printf 'required_score 1.0\n' >"$S/users/strict/user_prefs"
  printf 'required_score 15.0\n' >"$S/users/lenient/user_prefs"
  chmod 644 "$S"/site/* "$S"/users/*/user_prefs
  touch "$LOG"
  chown nobody "$LOG" "$S/home"
}

case ${1:-} in
start)
  need_pkgs spamassassin spamd spamc
  if running "$PF"; then echo "spamd: already running (pid $(cat "$PF"))"; else
    configure
    rm -f "$PF"
    spamd -d -L -x -u nobody -H "$S/home" \
      --listen="127.0.0.1:$PORT" -A 127.0.0.1 \
      -C /usr/share/spamassassin --siteconfigpath="$S/site" \
      --virtual-config-dir="$S/users/%u" \
      --max-children=3 --min-children=1 \
      -r "$PF" -s "$LOG" >>"$LOG" 2>&1 </dev/null
    ok=""
    for _ in 1 2 3 4 5 6; do
      if wait_tcp 127.0.0.1 "$PORT" 2>/dev/null; then ok=1; break; fi
    done
    [ -n "$ok" ] || { echo "spamd: not listening on 127.0.0.1:$PORT after 60 s (see $LOG)" >&2; exit 1; }
  fi
  echo "spamd: 127.0.0.1:$PORT profiles strict lenient state $S" ;;
stop)   stop_pid spamd "$PF" ;;
status) running "$PF" && echo "spamd: running (pid $(cat "$PF")) on 127.0.0.1:$PORT" || { echo "spamd: stopped"; exit 1; } ;;
*) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
