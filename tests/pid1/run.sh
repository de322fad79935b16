#!/bin/bash
# Black-box PID-1 tests (pid1.md §7): the real `quorum-peerd run` as PID 1 of
# a fresh PID namespace (unshare --pid --fork --mount-proc --kill-child), with
# tests/stubs fake-geth and fake-tm standing in for geth and Tessera. Signals
# come from outside the namespace, as `docker kill` sends them.
#
# usage: tests/pid1/run.sh [BUILD_DIR] [TEST_ID...]     (needs root)
#   BUILD_DIR holds quorum-peerd, fake-geth, fake-tm (default: ./build)
# Prints PASS/FAIL per case and "N passed, N failed"; exits 1 on any failure.
set -u
BUILD=${1:-build}
shift || true
ONLY=("$@")
BUILD=$(cd "$BUILD" && pwd) || exit 2
SUP=$BUILD/quorum-peerd
for b in "$SUP" "$BUILD/fake-geth" "$BUILD/fake-tm"; do
	[ -x "$b" ] || { echo "missing $b (build it first)" >&2; exit 2; }
done
[ "$(id -u)" = 0 ] || { echo "needs root (unshare --pid)" >&2; exit 2; }
command -v unshare >/dev/null && command -v nsenter >/dev/null &&
	command -v curl >/dev/null && command -v python3 >/dev/null ||
	{ echo "needs unshare, nsenter, curl, python3" >&2; exit 2; }
ulimit -c 0 # the stubs die of SEGV/ABRT/QUIT on purpose

WORK=$(mktemp -d /tmp/p1.XXXXXX) # short: the TM socket lives below it
PASSED=0
FAILED=0
FAILS=()
# Below the kernel's ephemeral range: a port the test's own outgoing
# connections (curl probes) may hold locally cannot be bound by a daemon.
read -r EPH_LOW _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || EPH_LOW=32768
[ "$EPH_LOW" -gt 12000 ] 2>/dev/null || EPH_LOW=32768
PORT_BASE=$((10000 + RANDOM % (EPH_LOW - 10000 - 200)))
NTEST=0
U=""
P1=""

cleanup() {
	[ -n "$U" ] && kill -KILL "$U" 2>/dev/null
	pkill -KILL -f "$WORK/" 2>/dev/null
	[ -n "${KEEP:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT

want() { # want ID: is this test selected?
	[ ${#ONLY[@]} -eq 0 ] && return 0
	local i
	for i in "${ONLY[@]}"; do [ "$i" = "$1" ] && return 0; done
	return 1
}

# setup NAME: fresh directory, data dir, fake log, stubs on PATH, port.
setup() {
	NAME=$1
	T=$WORK/$NAME
	mkdir -p "$T/bin"
	ln -sf "$BUILD/fake-geth" "$T/bin/geth"
	ln -sf "$BUILD/fake-tm" "$T/bin/tessera"
	L=$T/fake.log
	ERR=$T/err
	OUT=$T/out
	NTEST=$((NTEST + 1))
	PORT=$((PORT_BASE + NTEST))
	ERRORS=()
	U=""
	P1=""
	ENVS=(PATH="$T/bin:/usr/sbin:/usr/bin:/sbin:/bin" NODE_NUMBER=1
	    NODE_ORDINAL=0 NODE_IP=127.0.0.1 HTTP_PORT=$PORT
	    DATA_DIR="$T/d" KEYSTORE_KDF=light PRIVACY=tessera
	    FAKE_LOG="$L" STOP_TIMEOUT=5)
}

fail() { ERRORS+=("$*"); }
check() { # check "description" command...
	local d=$1
	shift
	"$@" || fail "$d"
}

# start [VAR=value...]: the daemon as PID 1 of a new namespace.
start() {
	env -i "${ENVS[@]}" "$@" unshare --pid --fork --mount-proc \
	    --kill-child -- "${PREFIX[@]}" "$SUP" run >"$OUT" 2>"$ERR" &
	U=$!
	T0=$(date +%s.%N)
	find_p1
}

find_p1() {
	local i st
	for i in $(seq 1 200); do
		P1=$(cat /proc/$U/task/$U/children 2>/dev/null | awk '{print $1}')
		[ -n "$P1" ] && return 0
		# unshare is done, so its child (our PID 1) ran and exited before
		# we looked: a start that fails at once. No P1; the test's own
		# checks (exit code, stderr) judge it.
		st=$(awk '{print $3}' "/proc/$U/stat" 2>/dev/null)
		{ [ -z "$st" ] || [ "$st" = Z ]; } && return 0
		sleep 0.01
	done
	fail "no PID 1 appeared"
	return 1
}

# wait_ready [secs]: /readyz is 200, and the geth stand-in has written its
# start line (the daemon is ready once geth is spawned, which can be a
# moment before that process has run at all).
wait_ready() {
	local i n=$(( ${1:-10} * 20 )) ready=0
	for i in $(seq 1 $n); do
		if [ $ready = 0 ] && [ "$(curl -s -o /dev/null -w '%{http_code}' \
		    http://127.0.0.1:$PORT/readyz 2>/dev/null)" = 200 ]; then
			ready=1
		fi
		[ $ready = 1 ] && grep -q '^GETH start ' "$L" 2>/dev/null &&
			return 0
		kill -0 "$U" 2>/dev/null || break
		sleep 0.05
	done
	if [ $ready = 1 ]; then
		fail "ready, but no geth start line within ${1:-10}s"
	else
		fail "not ready within ${1:-10}s"
	fi
	return 1
}

# wait_exit SECS: RC = exit code, or 999 on timeout (then everything is
# killed); ELAPSED = seconds since T1 (set by the caller) or the start.
wait_exit() {
	local end
	end=$(echo "$(date +%s.%N) + $1" | bc)
	while kill -0 "$U" 2>/dev/null; do
		if [ "$(echo "$(date +%s.%N) > $end" | bc)" = 1 ]; then
			kill -KILL "$U" 2>/dev/null
			wait "$U" 2>/dev/null
			RC=999
			fail "did not exit within $1s"
			return 1
		fi
		sleep 0.02
	done
	wait "$U"
	RC=$?
	ELAPSED=$(echo "$(date +%s.%N) - ${T1:-$T0}" | bc)
	U=""
	return 0
}

# Everything of this test is gone (the namespace with it).
all_gone() {
	local i
	for i in $(seq 1 50); do
		pgrep -f "$T/" >/dev/null || return 0
		sleep 0.05
	done
	fail "processes left: $(pgrep -af "$T/" | tr '\n' ';')"
}

finish() {
	all_gone
	if [ ${#ERRORS[@]} -eq 0 ]; then
		echo "PASS $NAME"
		PASSED=$((PASSED + 1))
	else
		echo "FAIL $NAME: ${ERRORS[*]}"
		FAILED=$((FAILED + 1))
		FAILS+=("$NAME")
		# The end of the daemon's stderr and of the stand-ins' log
		# always (30 lines with VERBOSE=1): a failure in CI must say
		# what happened.
		local lines=8
		[ -n "${VERBOSE:-}" ] && lines=30
		[ -f "$ERR" ] && sed 's/^/    err| /' "$ERR" | tail -n "$lines"
		[ -f "$L" ] && sed 's/^/    log| /' "$L" | tail -n "$lines"
	fi
	[ -n "$U" ] && kill -KILL "$U" 2>/dev/null && wait "$U" 2>/dev/null
	U=""
	T1=""
	PREFIX=()
}

rc_is() { [ "$RC" = "$1" ] || { fail "exit $RC, want $1"; return 1; }; }
log_has() { grep -q -- "$1" "$L" 2>/dev/null || { fail "no '$1' in fake log"; return 1; }; }
# log_wait TEXT [SECS]: like log_has, for a line a child writes on its own
# time (geth counts as started, and /readyz is 200, once it is spawned).
log_wait() {
	local i
	for ((i = 0; i < ${2:-5} * 20; i++)); do
		grep -q -- "$1" "$L" 2>/dev/null && return 0
		sleep 0.05
	done
	log_has "$1"
}
log_hasnt() { ! grep -q -- "$1" "$L" 2>/dev/null || { fail "unexpected '$1' in fake log"; return 1; }; }
err_has() { grep -q -- "$1" "$ERR" || { fail "no '$1' on stderr"; return 1; }; }
line_of() { grep -n -m1 -- "$1" "$L" | cut -d: -f1; }
before() { # before A B: first A before first B in the fake log
	local a b
	a=$(line_of "$1")
	b=$(line_of "$2")
	[ -n "$a" ] && [ -n "$b" ] && [ "$a" -lt "$b" ] ||
		{ fail "'$1' not before '$2'"; return 1; }
}
lt() { [ "$(echo "$1 < $2" | bc)" = 1 ] || { fail "$3: $1 not < $2"; return 1; }; }
gt() { [ "$(echo "$1 > $2" | bc)" = 1 ] || { fail "$3: $1 not > $2"; return 1; }; }

# Host pid of a child of PID 1 whose command line has PATTERN.
child_pid() {
	local c
	for c in $(cat /proc/$P1/task/*/children 2>/dev/null); do
		grep -q -- "$1" <<<"$(tr '\0' ' ' <"/proc/$c/cmdline" 2>/dev/null)" &&
			{ echo "$c"; return 0; }
	done
	return 1
}
geth_pid() { child_pid -- "--nodiscover"; }
tm_pid() { child_pid -- "-configfile"; }
state_of() { awk '{print $3}' "/proc/$1/stat" 2>/dev/null; }
# Processes of P1's namespace (host pids).
ns_pids() {
	local ns p
	ns=$(readlink /proc/$P1/ns/pid) || return
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/ns/pid" 2>/dev/null)" = "$ns" ] &&
			echo "${p#/proc/}"
	done
}
ns_zombies() {
	local n=0 p
	for p in $(ns_pids); do
		[ "$(state_of "$p")" = Z ] && n=$((n + 1))
	done
	echo $n
}
alive() { kill -0 "$1" 2>/dev/null; }
fake_field() { # fake_field PREFIX FIELD: from the "<PREFIX> start" line
	grep -m1 "^$1 start" "$L" | tr ' ' '\n' | sed -n "s/^$2=//p"
}
# Host pid of namespace pid N (NSpid: host ... ns).
host_of() {
	local p
	for p in $(ns_pids); do
		[ "$(awk '/^NSpid/{print $NF}' "/proc/$p/status" 2>/dev/null)" = "$1" ] &&
			{ echo "$p"; return 0; }
	done
	return 1
}

PREFIX=()

# ---------------------------------------------------------------------
# Start-up and signal plumbing

if want T-S1; then
	setup T-S1
	start
	wait_ready
	for st in /proc/$P1/task/*/status; do
		blk=$(awk '/^SigBlk/{print $2}' "$st")
		cgt=$(awk '/^SigCgt/{print $2}' "$st")
		ign=$(awk '/^SigIgn/{print $2}' "$st")
		for s in 15 2 1 3 10 12 17; do
			(( ((0x$blk | 0x$cgt) >> (s - 1)) & 1 )) ||
				fail "$(basename "$(dirname "$st")"): signal $s neither blocked nor caught"
		done
		for s in 13 21 22; do
			(( (0x$ign >> (s - 1)) & 1 )) ||
				fail "signal $s not ignored"
		done
	done
	kill -TERM "$P1"
	wait_exit 10
	finish
fi

if want T-S2; then
	setup T-S2
	start FAKE_TESSERA_SOCKET=0
	sleep 1
	T1=$(date +%s.%N)
	kill -TERM "$P1"
	wait_exit 3
	rc_is 143
	log_has "TESSERA sig 15"
	log_hasnt "GETH start"
	finish
fi

if want T-S3; then
	setup T-S3
	start NODE_NUMBER=2
	sleep 1
	T1=$(date +%s.%N)
	kill -TERM "$P1"
	wait_exit 2
	rc_is 143
	check "stop not logged during discovery" \
	    grep -q "stop requested.*SIGTERM" "$ERR"
	check "discovery not mentioned" grep -qi "discover" "$ERR"
	# `geth version` may have run (GENESIS_FORM=auto asks it before
	# anything is rendered); neither the TM nor geth may have started.
	grep -q ' start pid=' "$L" 2>/dev/null && fail "a child was started"
	finish
fi

if want T-S4; then
	# TERM at once, N times. (a) As soon as PID 1 is our binary: a
	# signal can still be lost in the exec/dynamic-loader window before
	# the first block (K1/K2, unavoidable; counted, not failed), but
	# never once the daemon has logged. (b) 20-200 ms after the start,
	# i.e. during settings/identity/discovery: every run must exit.
	setup T-S4
	N=${T_S4_COUNT:-10}
	ok=0
	hang_after_log=0
	okb=0
	for i in $(seq 1 "$N"); do
		rm -rf "$T/d" "$L"
		start
		for j in $(seq 1 500); do
			[ "$(readlink /proc/$P1/exe 2>/dev/null)" = "$SUP" ] &&
				break
			sleep 0.002
		done
		logged=0
		[ -s "$ERR" ] && logged=1
		kill -TERM "$P1" 2>/dev/null
		saved=("${ERRORS[@]}")
		if wait_exit 5; then
			case $RC in 0 | 1 | 130 | 137 | 143) ok=$((ok + 1)) ;; esac
		else
			[ $logged = 1 ] && hang_after_log=$((hang_after_log + 1))
		fi
		ERRORS=("${saved[@]}")
		all_gone

		rm -rf "$T/d" "$L"
		start
		sleep "0.$(printf %03d $((20 + RANDOM % 180)))"
		kill -TERM "$P1" 2>/dev/null
		saved=("${ERRORS[@]}")
		if wait_exit 5; then
			case $RC in 0 | 1 | 130 | 137 | 143) okb=$((okb + 1)) ;; esac
		fi
		ERRORS=("${saved[@]}")
		all_gone
	done
	[ $hang_after_log = 0 ] || fail "$hang_after_log hangs after the first log line"
	[ $okb = "$N" ] || fail "only $okb/$N exited when TERM came after 20-200 ms"
	echo "     T-S4: TERM at exec: $ok/$N exited (rest lost before main, K2); TERM after 20-200 ms: $okb/$N"
	finish
fi

# ---------------------------------------------------------------------
# Child hygiene

if want T-H1; then
	setup T-H1
	# The daemon inherits INT/QUIT ignored (as from `bash -c 'x &'`),
	# USR1 blocked, and Python's PIPE/XFSZ ignored.
	PREFIX=(python3 -c 'import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_IGN)
signal.signal(signal.SIGQUIT, signal.SIG_IGN)
signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGUSR1])
os.execv(sys.argv[1], sys.argv[1:])')
	start
	wait_ready
	for who in GETH TESSERA; do
		blk=$(fake_field $who blk)
		ign=$(fake_field $who ign)
		[ "$blk" = 0000000000000000 ] || fail "$who blk=$blk"
		(( (0x$ign & ~((1 << 12) | (1 << 24))) == 0 )) ||
			fail "$who ign=$ign"
	done
	kill -TERM "$P1"
	wait_exit 10
	finish
fi

if want T-H2; then
	setup T-H2
	start
	wait_ready
	for who in GETH TESSERA; do
		pid=$(fake_field $who pid)
		[ -n "$pid" ] &&
			[ "$(fake_field $who sid)" = "$pid" ] &&
			[ "$(fake_field $who pgid)" = "$pid" ] ||
			fail "$who not in its own session: $(grep "^$who start" "$L")"
		[ "$(fake_field $who ppid)" = 1 ] || fail "$who ppid != 1"
	done
	[ "$(fake_field GETH pgid)" != "$(fake_field TESSERA pgid)" ] ||
		fail "same process group"
	kill -TERM "$P1"
	wait_exit 10
	finish
fi

if want T-H3; then
	setup T-H3
	start
	wait_ready
	g=$(host_of "$(fake_field GETH pid)")
	nd=$(tr '\0' '\n' <"/proc/$P1/environ" | grep -c ^)
	ng=$(tr '\0' '\n' <"/proc/$g/environ" | grep -c ^)
	[ "$ng" = $((nd + 1)) ] || fail "geth has $ng variables, daemon $nd (+PRIVATE_CONFIG)"
	grep -q "^PRIVATE_CONFIG=$T/d/tm/tm.ipc$" <<<"$(tr '\0' '\n' <"/proc/$g/environ")" ||
		fail "no PRIVATE_CONFIG for geth"
	kill -TERM "$P1"
	wait_exit 10
	finish
fi

if want T-H4; then
	setup T-H4
	exec 7</etc/hostname
	start
	exec 7<&-
	wait_ready
	for who in GETH TESSERA; do
		fds=$(fake_field $who fds)
		[ "$fds" = "0,1,2,3,4" ] || fail "$who fds=$fds"
	done
	g=$(geth_pid)
	[ -n "$g" ] && [ ! -e "/proc/$g/fd/7" ] || fail "geth holds fd 7"
	kill -TERM "$P1"
	wait_exit 10
	finish
fi

# ---------------------------------------------------------------------
# Exec errors

if want T-E1; then
	setup T-E1
	rm "$T/bin/geth"
	start
	wait_exit 5
	rc_is 127
	check "no line naming geth and ENOENT" \
	    grep -q "geth.*No such file or directory" "$ERR"
	log_hasnt "TESSERA start"
	finish
fi

if want T-E2; then
	setup T-E2
	rm "$T/bin/tessera"
	cp "$BUILD/fake-tm" "$T/bin/tessera"
	chmod 0644 "$T/bin/tessera"
	start
	wait_exit 5
	rc_is 126
	check "no line naming tessera and EACCES" \
	    grep -q "tessera.*Permission denied" "$ERR"
	log_hasnt "GETH start"
	finish
fi

if want T-E3; then
	setup T-E3
	start FAKE_GETH_INIT_EXIT=1
	wait_exit 10
	rc_is 1
	err_has "geth init failed (exit 1)"
	log_has "TESSERA sig 15"
	log_hasnt "GETH start"
	finish
fi

# ---------------------------------------------------------------------
# Reaping

if want T-Z1; then
	setup T-Z1
	start FAKE_GETH_ORPHANS=50
	wait_ready
	sleep 2
	z=$(ns_zombies)
	[ "$z" = 0 ] || fail "$z zombies"
	alive "$P1" || fail "daemon died"
	[ -n "$(geth_pid)" ] && [ -n "$(tm_pid)" ] || fail "a child died"
	log_has "GETH orphans 50"
	kill -TERM "$P1"
	wait_exit 10
	rc_is 143
	finish
fi

if want T-Z2; then
	setup T-Z2
	start
	wait_ready
	for i in $(seq 1 20); do
		nsenter -t "$P1" -p -m sh -c 'sh -c "sleep 0.1 &"'
	done
	sleep 1
	z=$(ns_zombies)
	[ "$z" = 0 ] || fail "$z zombies"
	alive "$P1" || fail "daemon died"
	kill -TERM "$P1"
	wait_exit 10
	finish
fi

if want T-Z3; then
	setup T-Z3
	start
	wait_ready
	g=$(geth_pid)
	kill -STOP "$g"
	sleep 1
	kill -CONT "$g"
	sleep 0.3
	alive "$P1" || fail "daemon died"
	alive "$g" || fail "geth died"
	[ "$(curl -s -o /dev/null -w '%{http_code}' \
	    http://127.0.0.1:$PORT/readyz)" = 200 ] || fail "readyz != 200"
	check "treated as an exit" bash -c "! grep -q 'geth (pid.*exited' '$ERR'"
	kill -TERM "$P1"
	wait_exit 10
	rc_is 143
	finish
fi

if want T-R3; then
	setup T-R3
	N=${T_R3_COUNT:-10}
	hangs=0
	bad=0
	for i in $(seq 1 "$N"); do
		rm -rf "$T/d" "$L"
		start FAKE_GETH_EXIT_AFTER=0.3:0 FAKE_GETH_ORPHANS=5
		saved=("${ERRORS[@]}")
		if wait_exit 20; then
			[ "$RC" = 1 ] || bad=$((bad + 1))
		else
			hangs=$((hangs + 1))
		fi
		ERRORS=("${saved[@]}")
		all_gone
	done
	[ $hangs = 0 ] || fail "$hangs hangs"
	[ $bad = 0 ] || fail "$bad runs with an exit code != 1"
	finish
fi

if want T-R4; then
	setup T-R4
	start LOG_LEVEL=debug
	wait_ready
	for i in $(seq 1 10); do
		kill -HUP "$P1"; kill -USR1 "$P1"; kill -USR2 "$P1"
	done
	sleep 0.5
	alive "$P1" || fail "daemon died"
	for who in GETH TESSERA; do
		for n in 1 10 12; do log_has "$who sig $n"; done
	done
	kill -TERM "$P1"
	wait_exit 10
	rc_is 143
	finish
fi

# ---------------------------------------------------------------------
# Signal forwarding

if want T-F1; then
	setup T-F1
	start
	wait_ready
	for s in HUP USR1 USR2; do
		kill -$s "$P1"
		sleep 0.2
	done
	sleep 0.3
	for who in GETH TESSERA; do
		for n in 1 10 12; do log_has "$who sig $n"; done
	done
	alive "$P1" && [ -n "$(geth_pid)" ] && [ -n "$(tm_pid)" ] ||
		fail "something died"
	kill -TERM "$P1"
	wait_exit 10
	finish
fi

if want T-F2; then
	setup T-F2
	start FAKE_GETH_STRAY=1
	wait_ready
	sleep 0.2
	stray=$(host_of "$(sed -n 's/^GETH stray pid=//p' "$L")")
	[ -n "$stray" ] || fail "no stray"
	kill -USR1 "$P1"
	sleep 0.5
	[ -n "$stray" ] && alive "$stray" && [ "$(state_of "$stray")" != Z ] &&
		fail "stray in geth's group still alive"
	log_has "GETH sig 10"
	g=$(host_of "$(fake_field GETH pid)")
	[ -n "$g" ] && alive "$g" || fail "geth died"
	kill -TERM "$P1"
	wait_exit 10
	finish
fi

if want T-F4; then
	setup T-F4
	start
	wait_ready
	kill -WINCH "$P1"
	kill -s RTMIN "$P1"
	sleep 0.3
	alive "$P1" && [ -n "$(geth_pid)" ] && [ -n "$(tm_pid)" ] ||
		fail "something died"
	kill -TERM "$P1"
	wait_exit 10
	rc_is 143
	finish
fi

if want T-F5; then
	setup T-F5
	start
	wait_ready
	kill -SEGV "$P1"
	sleep 0.3
	alive "$P1" || fail "daemon died of an outside SEGV"
	kill -TERM "$P1"
	wait_exit 10
	rc_is 143
	finish
fi

if want T-F3; then
	setup T-F3
	start
	wait_ready
	for s in TSTP TTIN TTOU; do kill -$s "$P1"; sleep 0.1; done
	sleep 0.5
	for n in 20 21 22; do log_hasnt "sig $n"; done
	for p in $(ns_pids); do
		[ "$(state_of "$p")" = T ] && fail "pid $p stopped"
	done
	alive "$P1" || fail "daemon died"
	kill -TERM "$P1"
	wait_exit 10
	rc_is 143
	finish
fi

# ---------------------------------------------------------------------
# Graceful stop and escalation

if want T-G1; then
	setup T-G1
	start FAKE_GETH_ON_TERM=slow:2 FAKE_TESSERA_ON_TERM=default
	wait_ready
	T1=$(date +%s.%N)
	kill -TERM "$P1"
	wait_exit 8
	rc_is 0
	before "GETH sig 15" "TESSERA sig 15"
	before "GETH exit 0" "TESSERA sig 15"
	gt "$ELAPSED" 1.8 "stop time"
	lt "$ELAPSED" 4.5 "stop time"
	err_has "stopping geth"
	err_has "geth (pid [0-9]*) exited 0"
	err_has "stopping tessera"
	err_has "tessera (pid [0-9]*) killed by SIGTERM"
	finish
fi

if want T-G2; then
	setup T-G2
	start FAKE_GETH_ON_TERM=ignore STOP_TIMEOUT=2
	wait_ready
	T1=$(date +%s.%N)
	kill -TERM "$P1"
	wait_exit 10
	rc_is 137
	err_has "geth did not stop within 2s, killed"
	log_has "TESSERA sig 15"
	gt "$ELAPSED" 1.8 "stop time"
	lt "$ELAPSED" 7 "stop time"
	finish
fi

if want T-G3; then
	setup T-G3
	start FAKE_GETH_ON_TERM=slow:1
	wait_ready
	kill -TERM "$P1"
	for i in $(seq 1 10); do
		sleep 0.1
		kill -TERM "$P1" 2>/dev/null
		kill -INT "$P1" 2>/dev/null
	done
	wait_exit 10
	rc_is 0
	n=$(grep -c "^GETH sig 15" "$L")
	[ "$n" = 1 ] || fail "GETH got TERM $n times"
	log_hasnt "GETH sig 2"
	finish
fi

if want T-G4; then
	setup T-G4
	start FAKE_GETH_ON_TERM=ignore STOP_TIMEOUT=30
	wait_ready
	g=$(geth_pid)
	kill -STOP "$g"
	sleep 0.2
	[ "$(state_of "$g")" = T ] || fail "geth not stopped by SIGSTOP"
	kill -TERM "$P1"
	sleep 0.5
	st=$(state_of "$g")
	[ "$st" = S ] || [ "$st" = R ] || fail "geth state $st after the stop"
	log_has "GETH sig 15"
	kill -KILL "$U"
	wait "$U" 2>/dev/null
	U=""
	finish
fi

if want T-G6; then
	setup T-G6
	start LOG_LEVEL=debug
	wait_ready
	nsenter -t "$P1" -p -m sh -c '(trap "" TERM; exec sleep 1000) &'
	sleep 0.3
	T1=$(date +%s.%N)
	kill -TERM "$P1"
	wait_exit 12
	rc_is 143
	check "stray not reaped after KILL" grep -q "reaped orphan.*code=137" "$ERR"
	gt "$ELAPSED" 1.5 "grace"
	lt "$ELAPSED" 10 "stop time"
	finish
fi

if want T-G5; then
	setup T-G5
	start FAKE_GETH_ON_TERM=slow:1 FAKE_GETH_STRAY=1 LOG_LEVEL=debug
	wait_ready
	T1=$(date +%s.%N)
	kill -TERM "$P1"
	wait_exit 12
	rc_is 0
	check "stray not KILLed by the sweep" grep -q "reaped orphan.*code=137" "$ERR"
	finish
fi

if want T-G7; then
	setup T-G7
	start FAKE_GETH_ON_TERM=exit:0
	wait_ready
	kill -INT "$P1"
	wait_exit 10
	rc_is 0
	before "GETH sig 15" "TESSERA sig 15"
	err_has "stop requested by SIGINT"
	finish
fi

# ---------------------------------------------------------------------
# A child dies on its own

if want T-C1; then
	setup T-C1
	start FAKE_GETH_EXIT_AFTER=1:3
	wait_exit 15
	rc_is 3
	before "GETH exit 3" "TESSERA sig 15"
	log_has "TESSERA exit"
	err_has "geth exited 3 unexpectedly"
	finish
fi

if want T-C2; then
	setup T-C2
	start FAKE_TESSERA_EXIT_AFTER=1:sig9
	wait_exit 15
	rc_is 137
	log_has "GETH sig 15"
	err_has "tessera killed by SIGKILL unexpectedly"
	finish
fi

if want T-C3; then
	setup T-C3
	start FAKE_GETH_EXIT_AFTER=1:0
	wait_exit 15
	rc_is 1
	err_has "geth exited 0 unexpectedly"
	finish
fi

if want T-C4; then
	setup T-C4
	start FAKE_GETH_EXIT_AFTER=1:sig11 FAKE_TESSERA_ON_TERM=exit:7
	wait_exit 15
	rc_is 139
	log_has "TESSERA exit 7"
	finish
fi

if want T-C5; then
	setup T-C5
	N=${T_C5_COUNT:-5}
	for i in $(seq 1 "$N"); do
		rm -rf "$T/d" "$L"
		# The TM starts ~0.1 s before geth: both exit at about 1.1 s.
		start FAKE_GETH_EXIT_AFTER=1:2 FAKE_TESSERA_EXIT_AFTER=1.1:5
		wait_exit 15
		[ "$RC" = 2 ] || [ "$RC" = 5 ] || fail "run $i: exit $RC"
		grep -q "exited [25] unexpectedly" "$ERR" || fail "run $i: no cause"
		all_gone
	done
	finish
fi

# ---------------------------------------------------------------------
# Exit code mapping

if want T-X1; then
	setup T-X1
	for n in 1 2 42 126 127 254 255; do
		rm -rf "$T/d" "$L"
		start FAKE_GETH_EXIT_AFTER=0.5:$n
		wait_exit 15
		[ "$RC" = "$n" ] || fail "exit $n gave $RC"
		all_gone
	done
	finish
fi

if want T-X2; then
	setup T-X2
	for n in 1 2 3 6 9 15; do
		rm -rf "$T/d" "$L"
		start FAKE_GETH_EXIT_AFTER=0.5:sig$n
		wait_exit 15
		[ "$RC" = $((128 + n)) ] || fail "sig$n gave $RC"
		all_gone
	done
	finish
fi

if want T-X3; then
	setup T-X3
	start FAKE_GETH_ON_TERM=default
	wait_ready
	kill -TERM "$P1"
	wait_exit 10
	rc_is 143
	finish
fi

if want T-X4; then
	setup T-X4
	start FAKE_GETH_ON_TERM=exit:0
	wait_ready
	kill -TERM "$P1"
	wait_exit 10
	rc_is 0
	finish
fi

if want T-X5; then
	setup T-X5
	start NODE_NUMBER=0
	wait_exit 5
	rc_is 2
	check "no line naming NODE_NUMBER" grep -q "NODE_NUMBER" "$ERR"
	[ "$(wc -l <"$ERR")" = 1 ] || fail "more than one line: $(cat "$ERR")"
	[ ! -e "$T/d" ] || [ -z "$(ls -A "$T/d")" ] || fail "DATA_DIR written"
	finish
fi

if want T-X6; then
	setup T-X6
	start STOP_TIMEOUT=1 FAKE_GETH_ON_TERM=ignore
	wait_ready
	kill -TERM "$P1"
	wait_exit 10
	rc_is 137
	finish
fi

# ---------------------------------------------------------------------
# Not PID 1

if want T-N1; then
	setup T-N1
	env -i "${ENVS[@]}" FAKE_GETH_STRAY=1 FAKE_GETH_ORPHANS=5 \
	    "$SUP" run >"$OUT" 2>"$ERR" &
	U=$!
	P1=$U
	wait_ready
	sleep 1
	stray=$(sed -n 's/^GETH stray pid=//p' "$L")
	[ -n "$stray" ] || fail "no stray"
	pp=$(awk '/^PPid/{print $2}' "/proc/$stray/status" 2>/dev/null)
	[ "$pp" = "$U" ] || fail "stray PPid $pp, want $U"
	z=0
	for p in $(cat /proc/$U/task/*/children); do
		[ "$(state_of "$p")" = Z ] && z=$((z + 1))
	done
	[ $z = 0 ] || fail "$z zombies"
	err_has "not PID 1"
	# T-N2: the stray (TERM ignored) is gone after the daemon's exit.
	kill -TERM "$U"
	wait_exit 15
	rc_is 143
	alive "$stray" && fail "stray left running"
	finish
fi

if want T-N3; then
	setup T-N3
	env -i "${ENVS[@]}" "$SUP" run >"$OUT" 2>"$ERR" &
	U=$!
	P1=$U
	wait_ready
	kill -SEGV "$U"
	wait_exit 5
	rc_is 139
	# PDEATHSIG: geth and the TM die with the daemon (all_gone checks).
	finish
fi

# ---------------------------------------------------------------------
# Logging

if want T-L1; then
	setup T-L1
	start LOG_FORMAT=json FAKE_GETH_ON_TERM=ignore STOP_TIMEOUT=2
	wait_ready
	kill -TERM "$P1"
	wait_exit 10
	rc_is 137
	[ -s "$OUT" ] && fail "daemon wrote to stdout"
	python3 - "$ERR" <<'EOF' || fail "JSON log check failed"
import json, sys
lines = open(sys.argv[1]).read().splitlines()
recs = []
for i, l in enumerate(lines):
    try:
        recs.append(json.loads(l))
    except Exception:
        print("     line %d is not JSON: %r" % (i + 1, l)); sys.exit(1)
def find(pred, start, what):
    for i in range(start, len(recs)):
        if pred(recs[i]):
            return i
    print("     missing (in order): " + what); sys.exit(1)
s = json.dumps
i = find(lambda r: r.get("child") == "tessera" and "started" in s(r), 0, "spawn tessera")
i = find(lambda r: r.get("child") == "geth" and "started" in s(r), i, "spawn geth")
i = find(lambda r: r.get("signal") == "SIGTERM" and "stop requested" in s(r), i, "stop requested")
i = find(lambda r: "warn" in s(r).lower() and "did not stop" in s(r), i, "escalation")
i = find(lambda r: r.get("child") == "geth" and r.get("signal") == "SIGKILL" and "killed by" in s(r), i, "geth exit")
i = find(lambda r: r.get("code") == 137, i, "final code")
EOF
	finish
fi

if want T-L2; then
	setup T-L2
	start LOG_LEVEL=error FAKE_GETH_ON_TERM=slow:1
	wait_ready
	kill -TERM "$P1"
	wait_exit 10
	rc_is 0
	[ -s "$ERR" ] && fail "stderr not empty: $(head -3 "$ERR")"
	finish
fi

# ---------------------------------------------------------------------
# Geth releases and consensus kinds end to end (the stubs check the flags
# of the pretended release, the genesis, the enode lists, the TM socket).

for spec in "T-V1 1.9.7 raft" "T-V2 1.9.7 istanbul" "T-V3 1.10.3 qbft" \
    "T-V4 1.10.3 istanbul"; do
	set -- $spec
	want "$1" || continue
	setup "$1"
	start FAKE_GETH_VERSION=$2 CONSENSUS=$3
	wait_ready 15
	log_wait "GETH run "
	if [ "$2" = 1.9.7 ]; then
		check "not --rpc" grep -q -- "--rpcport" "/proc/$(geth_pid)/cmdline"
	fi
	kill -TERM "$P1"
	wait_exit 10
	rc_is 143
	finish
done

# The stand-ins refuse bad input loudly (a stand-in that accepts anything
# would prove nothing).
if want T-K1; then
	setup T-K1
	G=$BUILD/fake-geth
	D=$T/kd
	mkdir -p "$D"
	expect_fail() { # expect_fail "message part" cmd...
		local m=$1 o
		shift
		if o=$("$@" 2>&1); then
			fail "accepted: $*"
		elif ! grep -q -- "$m" <<<"$o"; then
			fail "'$*' failed without '$m': $o"
		fi
	}
	expect_fail "flag provided but not defined: -http" \
	    env FAKE_GETH_VERSION=1.9.7 "$G" --datadir "$D" --http
	# 1.10 keeps --rpc* as deprecated aliases (a WARN each), not --ws*.
	expect_fail "flag provided but not defined: -wsaddr" \
	    env FAKE_GETH_VERSION=1.10.3 "$G" --datadir "$D" --wsaddr x
	expect_fail "The flag --rpc is deprecated" \
	    env FAKE_QUORUM_VERSION=24.4.1 "$G" --datadir "$D/none" --rpc \
	    --networkid 10
	expect_fail "Failed to enumerate USB devices" \
	    env FAKE_GETH_VERSION=1.9.7 "$G" --datadir "$D/none" --networkid 10
	expect_fail "flag provided but not defined: -usb" \
	    env FAKE_GETH_VERSION=1.9.7 "$G" --usb
	expect_fail "flag provided but not defined: -allow-insecure-unlock" \
	    env FAKE_GETH_VERSION=1.8.18 "$G" --allow-insecure-unlock
	expect_fail "sub-commands must run without it" \
	    env PRIVATE_CONFIG=/x/tm.ipc "$G" version
	printf '{"config":{"chainId":1,"isQuorum":true},"gasLimit":"0x1","difficulty":"0x0","alloc":{}}' >"$D/g1.json"
	expect_fail "chain id or network id as 1" "$G" --datadir "$D" init "$D/g1.json"
	printf '{"config":{"chainId":10,"homesteadBlock":0,"eip150Block":0,"eip155Block":0,"byzantiumBlock":0},"gasLimit":"0x1","difficulty":"0x0","alloc":{}}' >"$D/g2.json"
	expect_fail "unsupported fork ordering" "$G" --datadir "$D" init "$D/g2.json"
	printf '{"config":{"chainId":10,"maxCodeSize":35},"gasLimit":"0x1","difficulty":"0x0","alloc":{}}' >"$D/g3.json"
	expect_fail "maxCodeSize" "$G" --datadir "$D" init "$D/g3.json"
	printf '{"config":{"chainId":10,"homesteadBlock":0,"eip150Block":0,"eip155Block":0,"eip158Block":0,"byzantiumBlock":0,"constantinopleBlock":0,"petersburgBlock":0,"istanbulBlock":0,"istanbul":{"epoch":30000}},"gasLimit":"0x1","difficulty":"0x1","mixHash":"0x63746963616c2062797a616e74696e65206661756c7420746f6c6572616e6365","extraData":"0x00","alloc":{}}' >"$D/g4.json"
	expect_fail "extra-data" "$G" --datadir "$D" init "$D/g4.json"
	expect_fail "no chain data" "$G" --datadir "$D/none" --networkid 10
	[ ! -e "$D/geth/chaindata" ] || fail "a bad genesis created chaindata"
	printf '{"jdbc":{"url":"x"},"serverConfigs":[{"app":"Q2T","serverAddress":"unix:/tmp/x.ipc","communicationType":"REST"}],"peer":[],"keys":{"keyData":[]}}' >"$D/t.json"
	expect_fail "exactly one P2P" "$BUILD/fake-tm" -configfile "$D/t.json"
	expect_fail "Unknown option" "$BUILD/fake-tm" --bogus
	# Constellation's getOpt: a detached value is a second config file.
	expect_fail "Only one configuration file" "$BUILD/fake-tm" \
	    "$D/tm.conf" --verbosity 3
	# The uber jar of old Tessera images, run by java.
	ln -sf "$BUILD/fake-tm" "$D/java"
	expect_fail "Unable to access jarfile" "$D/java" -jar "$D/none.jar"
	# transitions (GoQuorum 22.4+) and maxCodeSizeConfig exclude each other;
	# an older geth would ignore them (24 KiB contracts).
	printf '{"config":{"chainId":10,"homesteadBlock":0,"eip150Block":0,"eip155Block":0,"eip158Block":0,"byzantiumBlock":0,"constantinopleBlock":0,"petersburgBlock":0,"istanbulBlock":0,"maxCodeSizeConfig":[{"block":0,"size":64}],"transitions":[{"block":0,"contractsizelimit":64}]},"gasLimit":"0x1","difficulty":"0x0","alloc":{}}' >"$D/g5.json"
	expect_fail "ContractSizeLimit and MaxCodeSizeConfig" \
	    "$G" --datadir "$D" init "$D/g5.json"
	expect_fail "not read by Quorum 2.7.0" \
	    env FAKE_GETH_VERSION=1.9.7 "$G" --datadir "$D" init "$D/g5.json"
	# A chaindata without a genesis (an init killed part way): geth
	# writes mainnet's there, and IBFT has no consensus then.
	mkdir -p "$D/killed/geth/chaindata"
	expect_fail "Consensus not specified" \
	    "$G" --datadir "$D/killed" --networkid 10 --mine
	[ -e "$D/killed/geth/chaindata/GENESIS.json" ] ||
		fail "no genesis written into the empty chaindata"
	finish
fi

echo "$PASSED passed, $FAILED failed${FAILS:+ (${FAILS[*]})}"
[ "$FAILED" = 0 ]
