#!/usr/bin/env bash
# bench-mta.sh - examples/mta against Postfix 3.7 and Exim 4.96 on one machine (issue 15 §3).
#
#   bash scripts/bench-mta.sh [--quick] [--only W[,W...]] [--rounds N] [--write] [--keep]
#
# Workloads (--only names): s1-2k s1-100k s20-2k s20-100k idle auth drain
#   s1-2k ... s20-100k  Postfix smtp-source, 1 or 20 sessions, 2 KB or 100 KB messages to one
#                       local recipient; messages/s (from the first connection until the last
#                       message is in the Maildir) and CPU per message
#   idle                1000 sessions that sent EHLO and stay idle (scripts/idleconns): the
#                       Pss of every process of the instance (MiB)
#   auth                DKIM-signed 2 KB messages (scripts/smtpsend, 20 sessions, from 127.0.0.2)
#                       with SPF, DKIM and DMARC checked on the way in: messages/s, CPU per message
#   drain               200 messages for 20 domains relayed to scripts/latencypeer (100 ms before
#                       every reply): seconds from the first injected message until the peer
#                       has accepted them all
# Each workload runs for the three MTAs in turn (the order rotates per round), 3 rounds
# (--quick: small counts, 1 round); the table shows medians. --write replaces the section
# between "<!-- bench-mta begin -->" and "<!-- bench-mta end -->" in BENCHMARKS.md.
#
# Method
# - Installs what it needs with apt-get (exim4-daemon-heavy, opendkim, opendmarc, iproute2;
#   quiet, idempotent, a temporary policy-rc.d so no system daemon starts) and refuses to go on
#   if an install would remove a package (Postfix and exim4 conflict). Postfix is NOT installed:
#   its .deb is fetched with `apt-get download` and unpacked under the state dir; it runs from
#   there with its own config_directory. Creates the users postfix/postdrop when missing.
# - All state lives under $BENCH_DIR (default: a new /var/tmp/bench-mta.XXXXXX, removed at the
#   end unless --keep). The system's Postfix/Exim configs, port 25 and the host's network are
#   never used: the measurements run in a private network, mount and PID namespace (unshare),
#   with only a loopback interface, a bind-mounted resolv.conf naming scripts/benchdns on
#   127.0.0.1:53 (Exim, Postfix and the milters use the system resolver, which has no port
#   option), and every process is killed when the namespace's first process ends (Ctrl-C too).
# - Each MTA instance runs in a PID namespace of its own, restarted with empty state for every
#   workload. CPU of an instance = the sum, over all its live processes, of
#   utime+stime+cutime+cstime (/proc/PID/stat fields 14-17): an exited process's time is in
#   its parent's cutime/cstime once reaped, and orphans are reaped by the namespace's init,
#   which is counted too, so forked daemons (Postfix's, Exim's, the milters) are all included.
#   Read before and after each run (after = once every message is delivered); divided by the
#   messages. Memory = the sum of Pss from /proc/PID/smaps_rollup over the instance's
#   processes (without its init, a bash), with all idle sessions open.
# - Every instance delivers to a Maildir with fsync: examples/mta before its 250; Postfix
#   virtual(8) and Exim appendfile (maildir_format) after queueing, both fsyncing.
# - DNS (scripts/benchdns): sender.test has SPF "ip4:127.0.0.0/8 -all", a DKIM key
#   (bench2026._domainkey) and DMARC p=reject; 127.0.0.1/127.0.0.2 have PTRs; d01..d20.test
#   have MX mx.relay.test = 127.0.0.1. The auth workload sends from 127.0.0.2 because libspf2
#   (Exim) passes 127.0.0.1 without any lookup.
# - Configurations: examples/mta: its defaults (SPF, DKIM, DMARC, iprev on every message) plus
#   listen, domain, Maildir, spool, relay_from 127.0.0.0/8, nameserver, max_sessions 2000,
#   max_sessions_per_host -1, smtp_port = the latency peer (MX lookups, as in production).
#   Postfix: virtual_mailbox_domains bench.test -> one Maildir (as nobody), chroot off,
#   default_process_limit 1100 (1000 idle sessions), relayhost = the latency peer; auth adds
#   opendkim (verify) and opendmarc (SPFSelfValidate: it checks SPF itself) as milters.
#   Exim: standalone config, accept router -> appendfile maildir, manualroute to the latency
#   peer, smtp_accept_max 1100, smtp_accept_queue_per_connection 0 (so each message is
#   delivered at once, not left for a queue runner after the 10th of a session); auth adds an
#   `spf` ACL condition, the DKIM ACL and ${authresults}; Exim 4.96 has no DMARC here.
# - Ratios are oriented so that > 1 means examples/mta is better: ours/theirs for messages/s,
#   theirs/ours for CPU, memory and drain time.
# Env: BENCH_DIR, GO (go), and counts N_S1_2K N_S1_100K N_S20_2K N_S20_100K N_IDLE N_AUTH N_DRAIN.
set -euo pipefail

SELF=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
REPO=$(cd "$(dirname "$0")/.." && pwd)
ALL_WORKLOADS="s1-2k s1-100k s20-2k s20-100k idle auth drain"
PORT_POSTFIX=2601 PORT_EXIM=2602 PORT_OURS=2603 PORT_PEER=2650 PORT_DKIM=8891 PORT_DMARC=8893
MTAS="ours postfix exim"

log() { printf '%s bench-mta: %s\n' "$(date +%T)" "$*" >&2; }
die() { log "$*"; exit 1; }
fail() { log "$*"; echo "$*" >>"$D/failures.txt"; }   # a failed run: logged, listed with the table

# ---------------------------------------------------------------------------------------------
# Inside the namespaces.
# ---------------------------------------------------------------------------------------------

# ns_pids: the PIDs (as /proc shows them here) in the PID namespace of the instance's init.
ns_pids() {
  local p ref=/proc/$INST_INIT/ns/pid
  for p in /proc/[0-9]*; do
    [ "$p/ns/pid" -ef "$ref" ] && echo "${p#/proc/}"
  done
  return 0
}

# inst_cpu_ms: CPU (user+system) used so far by the instance, exited processes included, in ms.
# Per live process the larger of utime+stime (/proc/PID/stat, whole clock ticks, exited threads
# included) and the sum of its threads' exact run time (/proc/PID/task/*/schedstat, ns): with
# dozens of short-lived single-threaded daemons, truncating each to 10 ms ticks would lose
# hundreds of ms. Exited processes count through cutime+cstime of whoever reaped them.
inst_cpu_ms() {
  local p st t a s
  for p in $(ns_pids); do
    { read -r st <"/proc/$p/stat"; } 2>/dev/null || continue
    s=0
    for t in /proc/$p/task/*/schedstat; do
      { read -r a _ <"$t"; } 2>/dev/null && s=$((s + a))
    done
    echo "$s ${st##*) }"   # run time, then /proc/PID/stat from field 3 (state) on
  done | awk -v hz="$(getconf CLK_TCK)" '
    { own = ($13 + $14) * 1000 / hz; run = $1 / 1e6; if (run > own) own = run
      t += own + ($15 + $16) * 1000 / hz }   # fields 14-17: utime stime cutime cstime
    END { printf "%.1f\n", t }'
}

# inst_pss_kb: the Pss of the instance's processes, its init excluded.
inst_pss_kb() {
  local files=() p
  for p in $(ns_pids); do
    [ "$p" = "$INST_INIT" ] || files+=("/proc/$p/smaps_rollup")
  done
  cat "${files[@]}" 2>/dev/null | awk '/^Pss:/ { s += $2 } END { print s + 0 }'
}

inst_nprocs() { ns_pids | wc -l; }

wait_tcp() {  # wait_tcp PORT [SECONDS]
  local i
  for i in $(seq $((${2:-20} * 10))); do
    ss -Hltn "sport = :$1" | grep -q . && return 0
    sleep 0.1
  done
  return 1
}

count_files() { local n; n=$(ls -U "$1" 2>/dev/null | wc -l); echo "$n"; }

# wait_files DIR N SECONDS: wait until DIR holds N files; false on timeout.
wait_files() {
  local end=$((SECONDS + $3))
  while [ "$(count_files "$1")" -lt "$2" ]; do
    [ $SECONDS -ge $end ] && return 1
    sleep 0.05
  done
}

now() { echo "$EPOCHREALTIME"; }

maildir_of() {
  case $1 in
    ours) echo "$D/run/ours/Maildir/new" ;;
    postfix) echo "$D/run/postfix/mail/Maildir/new" ;;
    exim) echo "$D/run/exim/maildir/new" ;;
  esac
}
port_of() { case $1 in ours) echo $PORT_OURS ;; postfix) echo $PORT_POSTFIX ;; exim) echo $PORT_EXIM ;; esac; }

write_ours() {  # write_ours VARIANT
  local S=$D/run/ours
  mkdir -p "$S"
  cat >"$S/mta.toml" <<EOF
# generated by bench-mta.sh: the defaults plus what a private instance needs
listen = "127.0.0.1:$PORT_OURS"
hostname = "ours.bench.test"
domains = ["bench.test"]
maildir = "$S/Maildir"
nameserver = "127.0.0.1:53"
max_sessions = 2000
max_sessions_per_host = -1
relay_from = "127.0.0.0/8"
spool = "$S/spool"
smtp_port = $PORT_PEER
EOF
}

write_postfix() {  # write_postfix VARIANT
  local S=$D/run/postfix R=$D/postfix-root milters=""
  mkdir -p "$S"/{conf,queue,data,log,mail}
  chown nobody:nogroup "$S/mail"
  chown postfix "$S/data"
  cp "$R/etc/postfix/postfix-files" "$S/conf/"
  cp -r "$R/etc/postfix/postfix-files.d" "$S/conf/" 2>/dev/null || true
  cp "$R/usr/share/postfix/dynamicmaps.cf" "$S/conf/"
  mkdir -p "$S/conf/dynamicmaps.cf.d"
  [ "$1" = auth ] && milters="inet:127.0.0.1:$PORT_DKIM, inet:127.0.0.1:$PORT_DMARC"
  cat >"$S/conf/main.cf" <<EOF
# generated by bench-mta.sh: a private Postfix on loopback
compatibility_level = 3.6
queue_directory = $S/queue
data_directory = $S/data
meta_directory = $S/conf
daemon_directory = $R/usr/lib/postfix/sbin
command_directory = $R/usr/sbin
shlib_directory = $R/usr/lib/postfix
mail_owner = postfix
setgid_group = postdrop
import_environment = MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ LANG=C LD_LIBRARY_PATH
maillog_file = $S/log/maillog
myhostname = pf.bench.test
mydomain = bench.test
myorigin = bench.test
mydestination =
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
alias_maps =
alias_database =
local_recipient_maps =
biff = no
append_dot_mydomain = no
readme_directory = no
virtual_mailbox_domains = bench.test
virtual_mailbox_base = $S/mail
virtual_mailbox_maps = static:Maildir/
virtual_uid_maps = static:$(id -u nobody)
virtual_gid_maps = static:$(getent group nogroup | cut -d: -f3)
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
relayhost = [127.0.0.1]:$PORT_PEER
default_process_limit = 1100
smtp_tls_security_level = none
smtpd_tls_security_level = none
smtpd_milters = $milters
milter_default_action = tempfail
EOF
  cat >"$S/conf/master.cf" <<EOF
# generated by bench-mta.sh: upstream's services, chroot off
127.0.0.1:$PORT_POSTFIX inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
  if [ "$1" = auth ]; then
    cat >"$S/opendkim.conf" <<EOF
# generated by bench-mta.sh: verify only
Mode                v
Socket              inet:$PORT_DKIM@127.0.0.1
PidFile             $S/opendkim.pid
Syslog              no
Background          no
TestDNSData         file:$S/dkim.dns
AuthservID          pf.bench.test
AlwaysAddARHeader   yes
EOF
    # The key comes from TestDNSData, not DNS: opendkim 2.11's libunbound needs a config file
    # to ask a loopback server (do-not-query-localhost) and to see test. (an RFC 6761
    # local zone), and opendkim re-reads that file for every message, which crashes it
    # ("fatal flex scanner internal error") once sessions run in parallel.
    printf 'bench2026._domainkey.sender.test %s\n' "$(cat "$D/dkim.txt")" >"$S/dkim.dns"
    cat >"$S/opendmarc.conf" <<EOF
# generated by bench-mta.sh: DMARC with its own SPF check, no reports, no rejects
Socket              inet:$PORT_DMARC@127.0.0.1
PidFile             $S/opendmarc.pid
Syslog              false
AuthservID          pf.bench.test
TrustedAuthservIDs  pf.bench.test
SPFSelfValidate     true
SPFIgnoreResults    true
RejectFailures      false
FailureReports      false
PublicSuffixList    /usr/share/publicsuffix/public_suffix_list.dat
EOF
  fi
}

write_exim() {  # write_exim VARIANT
  local S=$D/run/exim mail_acl="" dkim_acl="" data_acl=""
  mkdir -p "$S"/{spool,log,maildir/new,maildir/cur,maildir/tmp}
  if [ "$1" = auth ]; then
    mail_acl='acl_smtp_mail = acl_mail'
    dkim_acl='acl_smtp_dkim = acl_dkim'
    data_acl='  warn    add_header = :at_start:${authresults {$primary_hostname}}'
  fi
  cat >"$S/exim.conf" <<EOF
# generated by bench-mta.sh: a standalone Exim on loopback
primary_hostname = exim.bench.test
qualify_domain = bench.test
spool_directory = $S/spool
log_file_path = $S/log/%slog
pid_file_path = $S/exim.pid
daemon_smtp_ports = $PORT_EXIM
local_interfaces = 127.0.0.1
keep_environment =
host_lookup =
rfc1413_hosts =
tls_advertise_hosts =
smtp_accept_max = 1100
smtp_connect_backlog = 128
smtp_accept_queue_per_connection = 0
domainlist local_domains = bench.test
acl_smtp_rcpt = acl_rcpt
acl_smtp_data = acl_data
$mail_acl
$dkim_acl

begin acl
acl_mail:
  warn    spf = pass
  accept
acl_rcpt:
  accept  domains = +local_domains
  accept  hosts = 127.0.0.0/8
  deny
acl_dkim:
  accept
acl_data:
$data_acl
  accept

begin routers
local_maildir:
  driver = accept
  domains = +local_domains
  transport = maildir_delivery
relay_all:
  driver = manualroute
  domains = ! +local_domains
  route_list = * 127.0.0.1
  self = send
  transport = relay_smtp

begin transports
maildir_delivery:
  driver = appendfile
  directory = $S/maildir
  maildir_format
  create_directory
  user = Debian-exim
relay_smtp:
  driver = smtp
  port = $PORT_PEER
  allow_localhost

begin retry
*  *  F,1h,10s
EOF
  chown -R Debian-exim:Debian-exim "$S"/{spool,log,maildir}
  chmod 644 "$S/exim.conf"
}

# inst_init MTA VARIANT: runs as PID 1 of the instance's PID namespace. Starts the MTA (which
# may daemonize: its processes stay in this namespace), reaps orphans, and on TERM signals
# every other process here by PID and exits, which makes the kernel kill what is left.
inst_init() {
  local m=$1 S=$D/run/$1 p
  stopping() {
    for p in /proc/[0-9]*; do p=${p#/proc/}; [ "$p" = 1 ] || kill -TERM "$p" 2>/dev/null || true; done
    sleep 0.5
    exit 0
  }
  trap stopping TERM INT
  case $m in
    ours)
      "$D/bin/mta" -config "$S/mta.toml" >"$S/mta.log" 2>&1 & ;;
    postfix)
      if [ "$2" = auth ]; then
        opendkim -x "$S/opendkim.conf" >"$S/opendkim.log" 2>&1 &
        opendmarc -f -c "$S/opendmarc.conf" >"$S/opendmarc.log" 2>&1 &
      fi
      # master passes LD_LIBRARY_PATH on to its daemons (import_environment)
      LD_LIBRARY_PATH=$D/postfix-root/usr/lib/postfix "$D/postfix-root/usr/sbin/postfix" -c "$S/conf" start >"$S/start.log" 2>&1 & ;;
    exim)
      # a child of PID 1 already, Exim does not fork into the background: keep it in ours
      # so this shell stays in `wait`, where the TERM trap runs at once
      exim4 -C "$S/exim.conf" -bd >"$S/start.log" 2>&1 & ;;
  esac
  while :; do sleep 3600 & wait $! || true; done
}

# inst_start MTA VARIANT: fresh state, config, a new PID namespace; sets INST_PID (the unshare
# process) and INST_INIT, and waits for the SMTP port (and the milters).
inst_start() {
  local m=$1 v=$2 kids="" i
  rm -rf "$D/run/$m"
  mkdir -p "$D/run/$m"
  "write_$m" "$v"
  unshare --pid --fork --kill-child --mount-proc bash "$SELF" __init "$m" "$v" &
  INST_PID=$!
  for i in $(seq 100); do
    kids=$(cat "/proc/$INST_PID/task/$INST_PID/children" 2>/dev/null || true)
    [ -n "$kids" ] && break
    sleep 0.05
  done
  INST_INIT=${kids%% *}
  [ -n "$INST_INIT" ] || die "$m: no init process"
  wait_tcp "$(port_of "$m")" 30 || { tail -5 "$D/run/$m"/*.log >&2 || true; die "$m: SMTP port $(port_of "$m") not listening"; }
  if [ "$m" = postfix ] && [ "$v" = auth ]; then
    wait_tcp $PORT_DKIM 10 || die "opendkim did not start: $(tail -3 "$D/run/postfix/opendkim.log")"
    wait_tcp $PORT_DMARC 10 || die "opendmarc did not start: $(tail -3 "$D/run/postfix/opendmarc.log")"
  fi
  sleep 0.5   # let forked daemons settle before the first CPU reading
}

inst_stop() {
  [ -n "${INST_PID:-}" ] || return 0
  kill -TERM "$INST_INIT" 2>/dev/null || true
  local i
  for i in $(seq 50); do kill -0 "$INST_PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$INST_PID" 2>/dev/null || true
  wait "$INST_PID" 2>/dev/null || true
  INST_PID="" INST_INIT=""
}

record() { printf '%s\t%s\t%s\t%s\t%s\n' "$@" >>"$D/results.tsv"; }   # workload mta round metric value

# run_delivery W MTA ROUND SESSIONS COUNT SIZE: smtp-source (or smtpsend for auth), until all
# are in the Maildir; records rate (msg/s) and cpu (ms/msg).
run_delivery() {
  local w=$1 m=$2 r=$3 s=$4 n=$5 l=$6 port md t0 t1 c0 c1 rc=0 base=0
  port=$(port_of "$m") md=$(maildir_of "$m")
  if [ "$w" = auth ]; then
    # one message first, alone: opendkim's libunbound crashes ("fatal flex scanner internal
    # error") when its first lookups race; the others get the same warm-up
    "$D/bin/smtpsend" -addr "127.0.0.1:$port" -source 127.0.0.2 -m 1 -f alice@sender.test \
      -t bob@bench.test -file "$D/signed.eml" >"$D/run/$m.warm.log" 2>&1 &&
      wait_files "$md" 1 30 || fail "auth $m: warm-up message failed: $(cat "$D/run/$m.warm.log")"
    base=$(count_files "$md")
  fi
  c0=$(inst_cpu_ms) t0=$(now)
  if [ "$w" = auth ]; then
    "$D/bin/smtpsend" -addr "127.0.0.1:$port" -source 127.0.0.2 -s "$s" -m "$n" \
      -f alice@sender.test -t bob@bench.test -file "$D/signed.eml" >"$D/run/$m.load.log" 2>&1 || rc=$?
  else
    LD_LIBRARY_PATH=$D/postfix-root/usr/lib/postfix "$D/postfix-root/usr/sbin/smtp-source" \
      -s "$s" -m "$n" -l "$l" -f a@sender.test -t bob@bench.test "127.0.0.1:$port" >"$D/run/$m.load.log" 2>&1 || rc=$?
  fi
  if [ $rc -ne 0 ] || ! wait_files "$md" $((base + n)) 300; then
    fail "$w $m round $r: FAILED (load exit $rc, $(($(count_files "$md") - base))/$n delivered): $(tail -2 "$D/run/$m.load.log" | tr '\n' ' ')"
    record "$w" "$m" "$r" rate NA; record "$w" "$m" "$r" cpu NA
    return 0
  fi
  t1=$(now)
  sleep 0.3   # delivery processes finish and are reaped after the file appears
  c1=$(inst_cpu_ms)
  local rate cpu
  rate=$(awk -v n="$n" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", n / (b - a) }')
  cpu=$(awk -v n="$n" -v a="$c0" -v b="$c1" 'BEGIN { printf "%.3f", (b - a) / n }')
  log "$w $m round $r: $n messages in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s = $rate msg/s, $cpu ms CPU/msg"
  record "$w" "$m" "$r" rate "$rate"; record "$w" "$m" "$r" cpu "$cpu"
}

run_idle() {
  local m=$1 r=$2 port pid line base pss
  port=$(port_of "$m")
  base=$(inst_pss_kb)
  rm -f "$D/run/idle.ready"
  "$D/bin/idleconns" -addr "127.0.0.1:$port" -n "$N_IDLE" -ready "$D/run/idle.ready" -hold 10m >"$D/run/$m.load.log" 2>&1 &
  pid=$!
  local end=$((SECONDS + 180))
  while [ ! -s "$D/run/idle.ready" ] && [ $SECONDS -lt $end ] && kill -0 $pid 2>/dev/null; do sleep 0.2; done
  line=$(cat "$D/run/idle.ready" 2>/dev/null || echo "no result")
  sleep 2   # forked session processes finish starting
  pss=$(inst_pss_kb)
  local nprocs; nprocs=$(inst_nprocs)
  kill -TERM $pid 2>/dev/null || true; wait $pid 2>/dev/null || true
  set -- $line
  if [ "${1:-}" != idle ] || [ "${2:-0}" -lt "$N_IDLE" ]; then
    fail "idle $m round $r: FAILED: $line"
    record idle "$m" "$r" pss NA
    return 0
  fi
  log "idle $m round $r: $line, $nprocs processes, Pss $((pss / 1024)) MiB (before the sessions: $((base / 1024)) MiB)"
  record idle "$m" "$r" pss "$(awk -v k="$pss" 'BEGIN { printf "%.1f", k / 1024 }')"
  record idle "$m" "$r" base "$(awk -v k="$base" 'BEGIN { printf "%.1f", k / 1024 }')"
}

run_drain() {
  local m=$1 r=$2 port pid t0 t1 got=0 rcpts="" i
  port=$(port_of "$m")
  for i in $(seq -w 1 20); do rcpts="$rcpts${rcpts:+,}bob$i@d$i.test"; done
  rm -f "$D/run/peer.count"
  "$D/bin/latencypeer" -listen "127.0.0.1:$PORT_PEER" -delay 100ms -count "$D/run/peer.count" >"$D/run/peer.log" 2>&1 &
  pid=$!
  wait_tcp $PORT_PEER 10 || die "latencypeer did not start: $(cat "$D/run/peer.log")"
  t0=$(now)
  "$D/bin/smtpsend" -addr "127.0.0.1:$port" -d -s 20 -m "$N_DRAIN" -f a@sender.test -t "$rcpts" \
    -file "$D/drain.eml" >"$D/run/$m.load.log" 2>&1 || fail "drain $m: injection: $(tail -2 "$D/run/$m.load.log" | tr '\n' ' ')"
  local end=$((SECONDS + 300))
  while :; do
    got=$(awk '{ print $2 }' "$D/run/peer.count" 2>/dev/null || echo 0)
    [ "${got:-0}" -ge "$N_DRAIN" ] && break
    [ $SECONDS -ge $end ] && break
    sleep 0.05
  done
  t1=$(now)
  local info; info=$(cat "$D/run/peer.count" 2>/dev/null || true)
  kill -TERM $pid 2>/dev/null || true; wait $pid 2>/dev/null || true
  if [ "${got:-0}" -lt "$N_DRAIN" ]; then
    fail "drain $m round $r: FAILED: the peer has $got of $N_DRAIN after 300 s"
    record drain "$m" "$r" secs NA
    return 0
  fi
  local secs; secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
  log "drain $m round $r: $N_DRAIN messages at the peer after $secs s ($info)"
  record drain "$m" "$r" secs "$secs"
}

run_one() {  # run_one WORKLOAD MTA ROUND
  local w=$1 m=$2 r=$3 v=plain
  [ "$w" = auth ] && v=auth
  inst_start "$m" "$v"
  case $w in
    s1-2k) run_delivery "$w" "$m" "$r" 1 "$N_S1_2K" 2048 ;;
    s1-100k) run_delivery "$w" "$m" "$r" 1 "$N_S1_100K" 102400 ;;
    s20-2k) run_delivery "$w" "$m" "$r" 20 "$N_S20_2K" 2048 ;;
    s20-100k) run_delivery "$w" "$m" "$r" 20 "$N_S20_100K" 102400 ;;
    auth) run_delivery "$w" "$m" "$r" 20 "$N_AUTH" 0; check_auth "$m" "$r" ;;
    idle) run_idle "$m" "$r" ;;
    drain) run_drain "$m" "$r" ;;
  esac
  inst_stop
}

# check_auth MTA ROUND: in round 1, keep the verdict headers of one delivered message.
check_auth() {
  [ "$2" = 1 ] || return 0
  local f
  for f in "$(maildir_of "$1")"/*; do break; done
  [ -f "$f" ] || return 0
  awk '/^$/ { exit } /^(Authentication-Results|Received-SPF|ARC-|X-DMARC)/ { p = 1; print; next }
       /^[ \t]/ && p { print; next } { p = 0 }' "$f" >"$D/auth-headers.$1"
  log "auth $1: $(tr -s ' \t\n' ' ' <"$D/auth-headers.$1")"
}

inner() {
  ip link set lo up
  mount --bind "$D/resolv.conf" /etc/resolv.conf
  "$D/bin/benchdns" -listen 127.0.0.1:53 "$D/bench.zone" >"$D/benchdns.log" 2>&1 &
  DNS_PID=$!
  trap 'inst_stop; kill -TERM $DNS_PID 2>/dev/null || true' EXIT
  trap 'exit 143' TERM   # PID 1 here: without a trap TERM would be ignored
  wait_tcp 53 10 || die "benchdns did not start: $(cat "$D/benchdns.log")"
  : >"$D/results.tsv"
  : >"$D/failures.txt"
  local r w m order
  for r in $(seq "$ROUNDS"); do
    # rotate the order so no MTA always runs first
    case $(((r - 1) % 3)) in 0) order="ours postfix exim" ;; 1) order="postfix exim ours" ;; 2) order="exim ours postfix" ;; esac
    for w in $WORKLOADS; do
      for m in $order; do run_one "$w" "$m" "$r"; done
    done
  done
}

case ${1:-} in
  __init) shift; inst_init "$@"; exit 0 ;;
  __inner) inner; exit 0 ;;
esac

# ---------------------------------------------------------------------------------------------
# Outside: arguments, installation, build, the run, the table.
# ---------------------------------------------------------------------------------------------

usage() { sed -n '2,4p' "$SELF" | sed 's/^# \{0,1\}//'; }

QUICK=0 WRITE=0 KEEP=0 ONLY="" ROUNDS=""
ARGS=("$@")
while [ $# -gt 0 ]; do
  case $1 in
    --quick) QUICK=1 ;;
    --write) WRITE=1 ;;
    --keep) KEEP=1 ;;
    --only) [ $# -ge 2 ] || { usage >&2; exit 2; }; ONLY="$ONLY ${2//,/ }"; shift ;;
    --only=*) ONLY="$ONLY ${1#--only=}"; ONLY=${ONLY//,/ } ;;
    --rounds) [ $# -ge 2 ] || { usage >&2; exit 2; }; ROUNDS=$2; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
  shift
done
WORKLOADS=$ALL_WORKLOADS
if [ -n "$ONLY" ]; then
  WORKLOADS=""
  for w in $ONLY; do
    case " $ALL_WORKLOADS " in *" $w "*) WORKLOADS="$WORKLOADS $w" ;; *) die "unknown workload $w (have: $ALL_WORKLOADS)" ;; esac
  done
fi
if [ $QUICK = 1 ]; then
  : "${N_S1_2K:=30}" "${N_S1_100K:=20}" "${N_S20_2K:=100}" "${N_S20_100K:=40}" "${N_IDLE:=200}" "${N_AUTH:=60}" "${N_DRAIN:=40}" "${ROUNDS:=1}"
else
  : "${N_S1_2K:=200}" "${N_S1_100K:=100}" "${N_S20_2K:=1000}" "${N_S20_100K:=400}" "${N_IDLE:=1000}" "${N_AUTH:=500}" "${N_DRAIN:=200}" "${ROUNDS:=3}"
fi
[ "$(id -u)" = 0 ] || die "run as root (apt-get, namespaces, users)"
[ -r /etc/debian_version ] || die "needs Debian (12)"
GO=${GO:-go}
command -v "$GO" >/dev/null || die "needs Go ($GO)"

if [ -n "${BENCH_DIR:-}" ]; then
  D=$BENCH_DIR OWN_D=0
  mkdir -p "$D"
else
  D=$(mktemp -d /var/tmp/bench-mta.XXXXXX) OWN_D=1
fi
D=$(cd "$D" && pwd)
chmod 755 "$D"   # Debian-exim and nobody deliver below it
RUN_PID=""
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [ -n "$RUN_PID" ] && kill -0 "$RUN_PID" 2>/dev/null; then
    # unshare ignores TERM while it waits: stop its child, the namespaces' first process,
    # whose exit trap stops the instance; SIGKILL to unshare (--kill-child) is the fallback
    local kid i
    kid=$(cat "/proc/$RUN_PID/task/$RUN_PID/children" 2>/dev/null || true)
    [ -n "$kid" ] && kill -TERM ${kid%% *} 2>/dev/null
    for i in $(seq 100); do kill -0 "$RUN_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$RUN_PID" 2>/dev/null || true
    wait "$RUN_PID" 2>/dev/null || true
  fi
  if [ $OWN_D = 1 ] && [ $KEEP = 0 ]; then rm -rf "$D"; elif [ $OWN_D = 1 ]; then log "state kept in $D"; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

need_pkgs() {
  local p missing="" made_policy=""
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing="$missing $p"
  done
  [ -z "$missing" ] && return 0
  log "installing:$missing"
  local apt=(env DEBIAN_FRONTEND=noninteractive apt-get -y -qq -o DPkg::Lock::Timeout=300
             -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold --no-install-recommends)
  "${apt[@]}" -s install $missing >"$D/apt-sim.log" 2>&1 || { "${apt[@]}" update >/dev/null 2>&1 || true; "${apt[@]}" -s install $missing >"$D/apt-sim.log" 2>&1; } ||
    die "apt-get cannot install$missing: $(tail -3 "$D/apt-sim.log")"
  if grep -q '^Remv' "$D/apt-sim.log"; then
    die "installing$missing would remove $(grep '^Remv' "$D/apt-sim.log" | awk '{print $2}' | tr '\n' ' ')- not touching the system's MTA"
  fi
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; chmod 755 /usr/sbin/policy-rc.d; made_policy=1
  fi
  "${apt[@]}" install $missing >"$D/apt.log" 2>&1 || { [ -n "$made_policy" ] && rm -f /usr/sbin/policy-rc.d; die "apt-get install failed: $(tail -3 "$D/apt.log")"; }
  [ -n "$made_policy" ] && rm -f /usr/sbin/policy-rc.d
  return 0
}

setup() {
  need_pkgs exim4-daemon-heavy opendkim opendmarc publicsuffix openssl iproute2 util-linux
  getent group postdrop >/dev/null || groupadd --system postdrop
  id postfix >/dev/null 2>&1 || useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin postfix
  # Postfix, unpacked, not installed
  if [ ! -x "$D/postfix-root/usr/lib/postfix/sbin/master" ]; then
    log "unpacking postfix (apt-get download)"
    local t; t=$(mktemp -d "$D/dl.XXXXXX"); chmod 777 "$t"
    (cd "$t" && { apt-get download -qq postfix >/dev/null 2>&1 || { apt-get update -qq >/dev/null 2>&1; apt-get download -qq postfix >/dev/null 2>&1; }; } &&
      dpkg-deb -x postfix_*.deb "$D/postfix-root") || die "could not fetch and unpack postfix"
    rm -rf "$t"
  fi
  log "building examples/mta and the helpers"
  mkdir -p "$D/bin"
  (cd "$REPO" && "$GO" build -o "$D/bin/mta" ./examples/mta &&
    "$GO" build -o "$D/bin/" ./examples/policycheck ./scripts/latencypeer ./scripts/idleconns ./scripts/smtpsend ./scripts/benchdns) ||
    die "go build failed"
  # DNS: the key, the zone, resolv.conf
  [ -s "$D/dkim.pem" ] || openssl genrsa -out "$D/dkim.pem" 2048 2>/dev/null
  local pub; pub=$(openssl rsa -in "$D/dkim.pem" -pubout -outform DER 2>/dev/null | base64 -w0)
  echo "v=DKIM1; k=rsa; p=$pub" >"$D/dkim.txt"
  {
    echo '$TTL 300'
    echo 'test. SOA ns.bench.test. hostmaster.bench.test. 1 3600 600 86400 300'
    echo 'sender.test. TXT "v=spf1 ip4:127.0.0.0/8 -all"'
    echo '_dmarc.sender.test. TXT "v=DMARC1; p=reject"'
    printf 'bench2026._domainkey.sender.test. TXT "v=DKIM1; k=rsa; p=" '
    echo "$pub" | fold -w 200 | sed 's/.*/"&"/' | tr '\n' ' '; echo
    echo 'client.sender.test. A 127.0.0.1'
    echo 'client.sender.test. A 127.0.0.2'
    echo 'mx.relay.test. A 127.0.0.1'
    for i in $(seq -w 1 20); do echo "d$i.test. MX 10 mx.relay.test."; done
    echo '127.in-addr.arpa. SOA ns.bench.test. hostmaster.bench.test. 1 3600 600 86400 300'
    echo '1.0.0.127.in-addr.arpa. PTR client.sender.test.'
    echo '2.0.0.127.in-addr.arpa. PTR client.sender.test.'
  } >"$D/bench.zone"
  printf 'nameserver 127.0.0.1\noptions attempts:2 timeout:2\n' >"$D/resolv.conf"
  # the messages: 2 KB, one DKIM-signed
  local body; body=$(for i in $(seq 32); do echo "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd"; done)
  printf 'From: alice@sender.test\nTo: bob@bench.test\nSubject: bench-mta auth\nDate: %s\nMessage-ID: <bench-auth@sender.test>\nMIME-Version: 1.0\nContent-Type: text/plain\n\n%s\n' \
    "$(date -R)" "$body" >"$D/auth.eml"
  "$D/bin/policycheck" dkim-sign -dkim_strict -dkim_domain sender.test -dkim_selector bench2026 \
    -dkim_private_key "$D/dkim.pem" -message "$D/auth.eml" >"$D/signed.eml" || die "dkim-sign failed"
  printf 'From: a@sender.test\nTo: relay\nSubject: bench-mta drain\nDate: %s\nMessage-ID: <bench-drain@sender.test>\n\n%s\n' \
    "$(date -R)" "$body" >"$D/drain.eml"
}

median() {  # median WORKLOAD MTA METRIC -> value or NA
  awk -F'\t' -v w="$1" -v m="$2" -v k="$3" '$1 == w && $2 == m && $4 == k && $5 != "NA" { print $5 }' "$D/results.tsv" |
    sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "NA"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3g\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

ratio() {  # ratio OURS THEIRS higher|lower
  awk -v a="$1" -v b="$2" -v o="$3" 'BEGIN {
    if (a == "NA" || b == "NA" || a + 0 == 0 || b + 0 == 0) { print "–"; exit }
    r = (o == "higher") ? a / b : b / a
    printf (r < 1 ? "**%.2f**" : "%.2f"), r }'
}

table() {
  local w label unit metric order n
  echo "| workload | metric | examples/mta | Postfix $PF_VERSION | Exim $EXIM_VERSION | ours/Postfix (> 1: ours better) | ours/Exim (> 1: ours better) |"
  echo "| --- | --- | ---: | ---: | ---: | ---: | ---: |"
  for w in $WORKLOADS; do
    case $w in
      s1-2k) label="smtp-source 1 session × 2 KB, $N_S1_2K msgs" ;;
      s1-100k) label="smtp-source 1 session × 100 KB, $N_S1_100K msgs" ;;
      s20-2k) label="smtp-source 20 sessions × 2 KB, $N_S20_2K msgs" ;;
      s20-100k) label="smtp-source 20 sessions × 100 KB, $N_S20_100K msgs" ;;
      auth) label="DKIM-signed 2 KB, 20 sessions, $N_AUTH msgs, SPF+DKIM+DMARC¹" ;;
      idle) label="$N_IDLE idle sessions after EHLO" ;;
      drain) label="outbound drain, $N_DRAIN msgs / 20 domains, peer 100 ms per reply" ;;
    esac
    case $w in
      idle) set -- "pss:Pss MiB:lower" ;;
      drain) set -- "secs:seconds:lower" ;;
      *) set -- "rate:msgs/s:higher" "cpu:CPU ms/msg:lower" ;;
    esac
    for spec in "$@"; do
      IFS=: read -r metric unit order <<<"$spec"
      local o p e
      o=$(median "$w" ours "$metric") p=$(median "$w" postfix "$metric") e=$(median "$w" exim "$metric")
      echo "| $label | $unit | $o | $p | $e | $(ratio "$o" "$p" "$order") | $(ratio "$o" "$e" "$order") |"
    done
  done
}

write_benchmarks() {
  local f=$REPO/BENCHMARKS.md new
  grep -q '^<!-- bench-mta begin -->$' "$f" && grep -q '^<!-- bench-mta end -->$' "$f" ||
    die "BENCHMARKS.md has no bench-mta markers"
  new=$(mktemp)
  {
    echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC') on $(nproc) cores, $(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), Linux $(uname -r), $("$GO" env GOVERSION); examples/mta at $COMMIT."
    echo
    echo "Command: \`bash scripts/bench-mta.sh${ARGS:+ ${ARGS[*]}}\` ($ROUNDS round(s), medians; ratios > 1 mean examples/mta is better: ours/theirs for msgs/s, theirs/ours for CPU, memory and seconds; **bold** where examples/mta is behind)."
    echo
    table
    echo
    echo "¹ examples/mta: SPF, DKIM, DMARC and iprev (its defaults, on every row). Postfix: $PF_AUTH. Exim: SPF (\`spf\` ACL condition) and DKIM with \${authresults}; Exim 4.96 (Debian) has no DMARC, so its row checks DKIM+SPF only."
    if [ -s "$D/failures.txt" ]; then
      echo
      echo "Failed runs (left out of the medians):"
      echo
      sed 's/^/- /; s/`/'"'"'/g' "$D/failures.txt"
    fi
    if ls "$D"/auth-headers.* >/dev/null 2>&1; then
      echo
      echo "Verdicts each MTA added to a delivered auth message (round 1):"
      echo
      local m
      for m in ours postfix exim; do
        [ -s "$D/auth-headers.$m" ] && echo "- $m: \`$(tr -s ' \t\n' ' ' <"$D/auth-headers.$m" | sed 's/ $//; s/`/'"'"'/g')\`"
      done
    fi
  } >"$new.body"
  awk -v body="$new.body" '
    /^<!-- bench-mta begin -->$/ { print; while ((getline l < body) > 0) print l; skip = 1; next }
    /^<!-- bench-mta end -->$/ { skip = 0 }
    !skip { print }' "$f" >"$new"
  cat "$new" >"$f"
  rm -f "$new" "$new.body"
  log "wrote the table to BENCHMARKS.md"
}

setup
PF_VERSION=$(LD_LIBRARY_PATH=$D/postfix-root/usr/lib/postfix "$D/postfix-root/usr/sbin/postconf" -d -h mail_version 2>/dev/null || echo "?")
EXIM_VERSION=$(exim4 -bV 2>/dev/null | awk '/^Exim version/ { print $3; exit }')
PF_AUTH="opendkim $(dpkg-query -W -f='${Version}' opendkim 2>/dev/null) (verify; the key from its TestDNSData file, not DNS: see the script) and opendmarc $(dpkg-query -W -f='${Version}' opendmarc 2>/dev/null) with SPFSelfValidate (its own SPF check) as milters"
COMMIT=$(cd "$REPO" && git rev-parse --short HEAD 2>/dev/null || echo unknown)
(cd "$REPO" && git diff --quiet HEAD -- examples/mta 2>/dev/null) || COMMIT="$COMMIT + uncommitted changes in examples/mta"
log "state in $D; workloads:$WORKLOADS; rounds $ROUNDS"
export D WORKLOADS ROUNDS N_S1_2K N_S1_100K N_S20_2K N_S20_100K N_IDLE N_AUTH N_DRAIN
unshare --net --mount --pid --fork --kill-child --mount-proc bash "$SELF" __inner &
RUN_PID=$!
wait $RUN_PID || die "the run failed"
RUN_PID=""
echo
table
if [ -s "$D/failures.txt" ]; then echo; echo "Failed runs (left out of the medians):"; cat "$D/failures.txt"; fi
[ $WRITE = 1 ] && write_benchmarks
exit 0
