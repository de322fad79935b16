# shellcheck shell=bash
# Network-namespace helpers shared by scripts/local-cluster.sh,
# tests/cluster/run.sh and bench/convergence.sh. Source it; needs root,
# iproute2 and util-linux (unshare).
#
# A "cluster" is N namespaces <QP_NS><i> (i = 0..N-1), each with one veth
# (eth0 inside, <QP_NS>v<i> on the host) on the bridge QP_BR, in the private
# /16 QP_NET.0.0 (the host side of the bridge is QP_NET.0.1). Every node has
# its own /etc/hosts and /etc/resolv.conf in /etc/netns/<ns>/, which
# `ip netns exec` bind-mounts over /etc for every process it starts, and runs
# under its own UTS namespace with the host name <QP_PREFIX><i>.
#
# Settings (set before sourcing, or after and before the first call):
#   QP_NS      namespace prefix            (default qp-)
#   QP_BR      bridge name                 (default br-qp)
#   QP_NET     first two octets of the /16 (default 10.213)
#   QP_PREFIX  host-name prefix            (default quorum-, = NODE_PREFIX)
#   QP_STATE   state dir: data, logs, pids (default /tmp/qp-cluster)
#   QP_PEERD   the quorum-peerd binary
# Different QP_NS/QP_BR/QP_NET let a test run beside a local cluster.

: "${QP_NS:=qp-}"
: "${QP_BR:=br-qp}"
: "${QP_NET:=10.213}"
: "${QP_PREFIX:=quorum-}"
: "${QP_STATE:=/tmp/qp-cluster}"
: "${QP_PEERD:=}"
# The system's python3 when there is one: shims (pyenv) cost 0.2 s a call.
if [ -z "${QP_PY:-}" ]; then
	QP_PY=python3
	[ -x /usr/bin/python3 ] && QP_PY=/usr/bin/python3
fi

# Comment on the iptables rule we add, so that only ours is ever removed.
qp_fw_tag() { printf 'quorum-peerd %s' "$QP_BR"; }

qp_ns() { printf '%s%d' "$QP_NS" "$1"; }
qp_host() { printf '%s%d' "$QP_PREFIX" "$1"; }
# 200 addresses per /24 from .10, so ordinals 0..1023 fit in .1.x to .6.x.
qp_ip() { printf '%s.%d.%d' "$QP_NET" $((1 + $1 / 200)) $((10 + $1 % 200)); }
# A fixed MAC per address (02:00 + the IPv4 bytes), so that every node can
# know every other node's without ARP.
qp_mac() { qp_mac_of "$(qp_ip "$1")"; }
qp_dir() { printf '%s/%s' "$QP_STATE" "$(qp_host "$1")"; }
qp_log() { printf '%s/logs/%s.log' "$QP_STATE" "$(qp_host "$1")"; }
qp_pidfile() { printf '%s/pids/%s.pid' "$QP_STATE" "$(qp_host "$1")"; }

qp_die() {
	printf '%s: %s\n' "${0##*/}" "$*" >&2
	exit 1
}

qp_need_root() {
	[ "$(id -u)" = 0 ] || qp_die "needs root (network namespaces)"
	local c
	for c in ip unshare curl "$QP_PY"; do
		command -v "$c" >/dev/null || qp_die "$c is not installed"
	done
}

# Namespaces of this cluster that exist now, as ordinals.
qp_list_ordinals() {
	ip netns list 2>/dev/null | awk '{print $1}' |
		sed -n "s/^${QP_NS//./\\.}\([0-9][0-9]*\)\$/\1/p" | sort -n
}

# The bridge, its address, and (when bridged traffic goes through iptables,
# as on any Docker host, whose FORWARD policy is DROP) one ACCEPT rule for
# traffic between its ports. Idempotent.
qp_bridge_up() {
	if ! ip link show "$QP_BR" >/dev/null 2>&1; then
		ip link add "$QP_BR" type bridge || return 1
	fi
	ip addr replace "$QP_NET.0.1/16" dev "$QP_BR" || return 1
	ip link set "$QP_BR" up || return 1
	if command -v iptables >/dev/null &&
		! iptables -C FORWARD -i "$QP_BR" -o "$QP_BR" -j ACCEPT \
			-m comment --comment "$(qp_fw_tag)" 2>/dev/null; then
		iptables -I FORWARD 1 -i "$QP_BR" -o "$QP_BR" -j ACCEPT \
			-m comment --comment "$(qp_fw_tag)" 2>/dev/null || true
	fi
	return 0
}

qp_bridge_down() {
	if command -v iptables >/dev/null; then
		while iptables -D FORWARD -i "$QP_BR" -o "$QP_BR" -j ACCEPT \
			-m comment --comment "$(qp_fw_tag)" 2>/dev/null; do :; done
	fi
	if ip link show "$QP_BR" >/dev/null 2>&1; then
		ip link del "$QP_BR" 2>/dev/null || true
	fi
}

# qp_hosts N [ORDINAL...]: the hosts file of a cluster of N, leaving out
# the ordinals given (a name that never resolves).
qp_hosts() {
	local n=$1 i skip
	shift
	printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost\n'
	for ((i = 0; i < n; i++)); do
		for skip in "$@"; do [ "$skip" = "$i" ] && continue 2; done
		printf '%s\t%s\n' "$(qp_ip "$i")" "$(qp_host "$i")"
	done
}

# qp_node_files I HOSTS_TEXT: /etc/netns/<ns>/{hosts,resolv.conf}. The
# resolver points at a closed local port, so a name missing from hosts fails
# at once instead of leaking to the host's DNS.
qp_node_files() {
	local d
	d=/etc/netns/$(qp_ns "$1")
	mkdir -p "$d" || return 1
	printf '%s\n' "$2" >"$d/hosts.tmp" && mv -f "$d/hosts.tmp" "$d/hosts" ||
		return 1
	printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' \
		>"$d/resolv.conf"
}

# qp_node_up I: namespace, veth pair, address, routes. Idempotent: a
# namespace that exists with its address is left alone.
qp_node_up() {
	local i=$1 ns veth peer ip
	ns=$(qp_ns "$i")
	veth=${QP_NS}v$i
	peer=${QP_NS}p$i
	ip=$(qp_ip "$i")
	if ip netns list 2>/dev/null | awk '{print $1}' | grep -qx -- "$ns"; then
		if ip -n "$ns" -4 addr show dev eth0 2>/dev/null |
			grep -q "inet $ip/" &&
			ip -n "$ns" link show dev eth0 | grep -q "$(qp_mac "$i") "; then
			return 0
		fi
		ip netns del "$ns" || return 1
	fi
	ip link del "$veth" 2>/dev/null || true
	ip netns add "$ns" || return 1
	ip link add "$veth" type veth peer name "$peer" || return 1
	ip link set "$peer" netns "$ns" || return 1
	ip link set "$veth" master "$QP_BR" up || return 1
	ip -n "$ns" link set "$peer" name eth0 || return 1
	ip -n "$ns" link set eth0 address "$(qp_mac "$i")" || return 1
	ip -n "$ns" addr add "$ip/16" dev eth0 || return 1
	ip -n "$ns" link set lo up || return 1
	ip -n "$ns" link set eth0 up || return 1
}

# qp_neigh_batch N: `ip -batch` lines making permanent neighbour entries
# for nodes 0..N-1 (one line per node, in ordinal order). The kernel's
# neighbour table is shared by every namespace, and full-mesh ARP (N*(N-1)
# entries) overflows its default gc_thresh3 of 1024 already at N=33
# ("neighbor table overflow": connections time out); permanent entries do
# not count against it, and no ARP is needed at all.
qp_neigh_batch() {
	local j a b
	for ((j = 0; j < $1; j++)); do
		a=$((1 + j / 200))
		b=$((10 + j % 200))
		printf 'neigh replace %s.%d.%d lladdr %s dev eth0 nud permanent\n' \
			"$QP_NET" "$a" "$b" "$(qp_mac_of "$QP_NET.$a.$b")"
	done
}
qp_mac_of() {
	local ip=$1
	printf '02:00:%02x:%02x:%02x:%02x' ${ip//./ }
}

# qp_node_neigh I BATCH: loads BATCH (from qp_neigh_batch) into node I,
# but its own line.
qp_node_neigh() {
	printf '%s\n' "$2" | grep -v -F " $(qp_ip "$1") " |
		ip -n "$(qp_ns "$1")" -batch -
}

# qp_net_up N [ORDINAL...]: bridge and nodes 0..N-1 but the ordinals given
# (which get no namespace and no hosts entry anywhere: names that never
# resolve). Idempotent. Fails with a message on stderr.
qp_net_up() {
	local n=$1 i skip hosts batch
	shift
	qp_bridge_up || { echo "cannot create bridge $QP_BR" >&2; return 1; }
	hosts=$(qp_hosts "$n" "$@")
	batch=$(qp_neigh_batch "$n")
	for ((i = 0; i < n; i++)); do
		for skip in "$@"; do [ "$skip" = "$i" ] && continue 2; done
		qp_node_up "$i" && qp_node_neigh "$i" "$batch" &&
			qp_node_files "$i" "$hosts" || {
			echo "cannot set up namespace $(qp_ns "$i")" >&2
			return 1
		}
	done
}

# qp_kill_ns I [SIGNAL]: signals every process in the namespace.
qp_kill_ns() {
	local pids
	pids=$(ip netns pids "$(qp_ns "$1")" 2>/dev/null)
	[ -n "$pids" ] || return 0
	# shellcheck disable=SC2086
	kill -"${2:-TERM}" $pids 2>/dev/null
	return 0
}

# qp_ns_empty I: true when no process runs in the namespace.
qp_ns_empty() {
	[ -z "$(ip netns pids "$(qp_ns "$1")" 2>/dev/null)" ]
}

# qp_node_down I: every process in it (TERM, then KILL after 5 s), the
# namespace (which takes its veth pair along) and its /etc/netns files.
qp_node_down() {
	local i=$1 ns t
	ns=$(qp_ns "$i")
	if ip netns list 2>/dev/null | awk '{print $1}' | grep -qx -- "$ns"; then
		qp_kill_ns "$i" TERM
		for ((t = 0; t < 50; t++)); do
			qp_ns_empty "$i" && break
			sleep 0.1
		done
		qp_kill_ns "$i" KILL
		for ((t = 0; t < 20; t++)); do
			qp_ns_empty "$i" && break
			sleep 0.1
		done
		ip netns del "$ns" 2>/dev/null
	fi
	ip link del "${QP_NS}v$i" 2>/dev/null
	rm -rf "/etc/netns/$ns"
	return 0
}

# qp_all_down: every node of this cluster, then the bridge. Nodes are
# stopped in parallel (a TERM each first) so that 200 of them take seconds.
qp_all_down() {
	local i ords
	ords=$(qp_list_ordinals)
	for i in $ords; do qp_kill_ns "$i" TERM; done
	for i in $ords; do qp_node_down "$i" & done
	wait
	# /etc/netns entries left by a crash (namespace already gone).
	for i in /etc/netns/"$QP_NS"*; do
		[ -d "$i" ] || continue
		case "${i##*/}" in
		"$QP_NS"[0-9]*) rm -rf "$i" ;;
		esac
	done
	qp_bridge_down
}

# qp_exec I CMD...: runs CMD in node I's namespace under its host name, with
# its hosts file, in the foreground.
qp_exec() {
	local i=$1
	shift
	ip netns exec "$(qp_ns "$i")" unshare --uts sh -c \
		'hostname "$0" && exec "$@"' "$(qp_host "$i")" "$@"
}

# qp_start I [VAR=value...]: starts quorum-peerd run in node I's namespace,
# in the background, with DATA_DIR=$QP_STATE/<host>, HTTP_PORT 80 and the
# given environment on top of ours. Logs are appended to qp_log I; the pid
# (the daemon's own: ip, unshare and sh all exec) goes to qp_pidfile I.
# With QP_GATE set to a FIFO, the node waits for EOF on it before the
# daemon starts (see qp_gate_open), so that many start at the same moment.
qp_start() {
	local i=$1 pid
	shift
	[ -n "$QP_PEERD" ] || qp_die "QP_PEERD is not set"
	mkdir -p "$(qp_dir "$i")" "$QP_STATE/logs" "$QP_STATE/pids" || return 1
	chmod 0700 "$(qp_dir "$i")"
	env DATA_DIR="$(qp_dir "$i")" "$@" \
		setsid ip netns exec "$(qp_ns "$i")" unshare --uts sh -c \
		'hostname "$0" || exit 1
		[ -z "$1" ] || { read -r _ <"$1" || :; }
		shift
		exec "$@"' "$(qp_host "$i")" "${QP_GATE:-}" \
		"$QP_PEERD" run </dev/null >>"$(qp_log "$i")" 2>&1 9>&- &
	pid=$!
	printf '%s\n' "$pid" >"$(qp_pidfile "$i")"
}

# qp_gate_open / qp_gate_release N: a start barrier. open makes the FIFO
# QP_GATE and holds it open read-write (fd 9) so that nodes started with
# qp_start block reading it; release waits (bounded) until nodes 0..N-1 all
# sit in the gate, closes it (EOF: every one goes at once) and removes it
# (qp_gate_wait N, then qp_gate_go).
qp_gate_open() {
	QP_GATE=$QP_STATE/gate
	rm -f "$QP_GATE"
	mkfifo -m 0600 "$QP_GATE" || return 1
	exec 9<>"$QP_GATE"
}
qp_gate_release() {
	qp_gate_wait "$1"
	qp_gate_go
}

# qp_gate_wait N [FROM]: until nodes FROM..N-1 (FROM default 0) all sit in
# the gate (bounded: 5 s each). Bash tests, no process per check: a
# benchmark may time from the moment this returns.
qp_gate_wait() {
	local n=$1 i t pid
	for ((i = ${2:-0}; i < n; i++)); do
		read -r pid <"$(qp_pidfile "$i")" 2>/dev/null || continue
		for ((t = 0; t < 100; t++)); do
			[ "/proc/$pid/fd/0" -ef "$QP_GATE" ] && break
			sleep 0.05
		done
	done
}

# qp_gate_go: opens the gate (EOF for every node at once) and removes it.
qp_gate_go() {
	exec 9>&-
	rm -f "$QP_GATE"
	QP_GATE=
}

# qp_pid I: the daemon's pid if it runs (from its pid file), else fails.
qp_pid() {
	local f pid
	f=$(qp_pidfile "$1")
	[ -r "$f" ] || return 1
	read -r pid <"$f" || return 1
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
	# A zombie (reaped by nobody once `up` has exited) has an empty
	# command line; a reused pid has another one.
	tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q quorum-peerd ||
		return 1
	printf '%s\n' "$pid"
}

# qp_curl I URL-PATH [NODE]: GET http://<host of NODE>/PATH from inside node
# I's namespace (NODE defaults to I). Body on stdout; fails on non-2xx.
qp_curl() {
	local from=$1 path=$2 to=${3:-$1}
	ip netns exec "$(qp_ns "$from")" curl -fsS --max-time 5 \
		"http://$(qp_host "$to")/${path#/}"
}

# qp_code I PATH [NODE]: the HTTP status code only (000 if unreachable).
qp_code() {
	local from=$1 path=$2 to=${3:-$1}
	ip netns exec "$(qp_ns "$from")" curl -s -o /dev/null --max-time 5 \
		-w '%{http_code}' "http://$(qp_host "$to")/${path#/}"
}

# qp_wait SECONDS CMD...: polls CMD every 0.2 s until it succeeds; fails
# when SECONDS pass first.
qp_wait() {
	local limit=$1 end
	shift
	end=$((SECONDS + limit))
	while ! "$@"; do
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.2
	done
}

# The files every node writes, relative to DATA_DIR (the TM config depends
# on PRIVACY and is checked apart).
QP_SHARED_FILES=(dd/static-nodes.json dd/permissioned-nodes.json genesis.json)

# qp_written I: node I has written every shared file. No subshell: the
# benchmark's wait loop runs this for every node and must not fork.
qp_written() {
	local f d=$QP_STATE/$QP_PREFIX$1
	for f in "${QP_SHARED_FILES[@]}"; do
		[ -s "$d/$f" ] || return 1
	done
}

# qp_any_written I...: true if any of the nodes has written any config.
qp_any_written() {
	local i f d
	for i in "$@"; do
		d=$(qp_dir "$i")
		for f in "${QP_SHARED_FILES[@]}" tm.conf tessera-config.json; do
			[ -e "$d/$f" ] && return 0
		done
	done
	return 1
}

# qp_all_written N: nodes 0..N-1 have all written every shared file.
qp_all_written() {
	local i
	for ((i = 0; i < $1; i++)); do qp_written "$i" || return 1; done
}

# qp_status_line I: one line summarising node I's /status.
qp_status_line() {
	local json
	json=$(qp_curl "$1" /status 2>/dev/null) || {
		printf '%-12s %-14s not answering\n' "$(qp_host "$1")" \
			"$(qp_ip "$1")"
		return 1
	}
	printf '%s' "$json" | "$QP_PY" -c '
import json, sys
host, ip = sys.argv[1], sys.argv[2]
s = json.load(sys.stdin)
waiting = [p for p in s.get("peers", []) if p.get("state") != "found"]
kids = " ".join("%s:%s" % (c.get("name"), c.get("state"))
                for c in s.get("children", []))
line = "%-12s %-14s %-11s discovered %s/%s ready=%s" % (host, ip,
    s.get("phase"), s.get("discovered"), s.get("nodes"),
    "yes" if s.get("ready") else "no")
if kids:
    line += " children: " + kids
if waiting:
    w = waiting[0]
    line += " waiting for %s (%d more; attempts %s, last error: %s)" % (
        w.get("host"), len(waiting) - 1, w.get("attempts"),
        w.get("last_error"))
print(line)
' "$(qp_host "$1")" "$(qp_ip "$1")"
}

# qp_run_cases [CASE...]: each case_<name> (default: all_cases) in a
# subshell with its own QP_STATE=$base/<name>, PASS/FAIL per case (with the
# last lines of its logs on failure), every node down after each; counts
# into passed/failed/failed_names; exits 1 if any failed. For the test
# suites (they set base, all_cases and the counters, and clean up on exit).
# shellcheck disable=SC2154 # base and all_cases: the suite's
qp_run_cases() {
	local cases=("$@") c rc log
	[ ${#cases[@]} -eq 0 ] && cases=("${all_cases[@]}")
	for c in "${cases[@]}"; do
		declare -F "case_$c" >/dev/null ||
			qp_die "unknown case $c (known: ${all_cases[*]})"
	done
	for c in "${cases[@]}"; do
		QP_STATE=$base/$c
		mkdir -p "$QP_STATE/logs" "$QP_STATE/pids"
		printf '%s\n' "--- $c"
		t0=$SECONDS
		(case_"$c")
		rc=$?
		if [ "$rc" = 0 ]; then
			passed=$((passed + 1))
			printf 'PASS %s (%d s)\n' "$c" $((SECONDS - t0))
		else
			failed=$((failed + 1))
			failed_names+=("$c")
			for log in "$QP_STATE"/logs/*.log; do
				[ -f "$log" ] || continue
				printf '    == %s (last lines)\n' "${log##*/}"
				tail -n 12 "$log" | cut -c1-300 | sed 's/^/    /'
			done 2>/dev/null | head -n 80
			printf 'FAIL %s\n' "$c"
		fi
		qp_all_down
	done
	printf '%d passed, %d failed\n' "$passed" "$failed"
	[ "$failed" -eq 0 ] || {
		printf 'failed: %s\n' "${failed_names[*]}"
		[ "${KEEP:-0}" = 1 ] && printf 'state kept in %s\n' "$base"
		exit 1
	}
}
