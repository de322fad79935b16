#!/bin/sh
# Time and memory to create one identity (`quorum-peerd identity`) with each
# keystore KDF: median / min / max wall time over fresh DATA_DIRs and the
# peak resident set size (GNU time's "Maximum resident set size"). Figures
# only, no pass/fail.
#   bench/identity.sh [path/to/quorum-peerd]
#   LIGHT_RUNS=10 STANDARD_RUNS=3 (defaults)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
peerd=${1:-${PEERD:-$root/build/quorum-peerd}}
light_runs=${LIGHT_RUNS:-10}
standard_runs=${STANDARD_RUNS:-3}
if [ ! -x "$peerd" ]; then
	echo "bench: no executable quorum-peerd at $peerd" >&2
	exit 2
fi
if [ ! -x /usr/bin/time ]; then
	echo "bench: installing GNU time (package time)" >&2
	if [ "$(id -u)" = 0 ]; then
		apt-get install -y -qq time >/dev/null
	else
		sudo apt-get install -y -qq time >/dev/null
	fi
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/peerd-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

# Prints the median of the numbers on stdin (mean of the middle two if even)
# with $1 decimals.
median() {
	sort -n | awk -v p="$1" '{ v[NR] = $1 } END {
		if (NR == 0) exit
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%.*f", p, m }'
}

# bench KDF RUNS: one line of figures.
bench() {
	kdf=$1
	runs=$2
	: >"$work/ms"
	: >"$work/rss"
	i=0
	while [ "$i" -lt "$runs" ]; do
		i=$((i + 1))
		d=$work/$kdf-$i
		t0=$(date +%s%N)
		/usr/bin/time -f '%M' -o "$work/time" env -i PATH="$PATH" \
			KEYSTORE_KDF="$kdf" "$peerd" identity --data-dir "$d" \
			>/dev/null
		t1=$(date +%s%N)
		awk -v ns=$((t1 - t0)) 'BEGIN { printf "%.1f\n", ns / 1e6 }' \
			>>"$work/ms"
		tail -n 1 "$work/time" >>"$work/rss"
		rm -rf "$d"
	done
	printf '%-9s %5d %10s %9s %9s %14s %13s\n' "$kdf" "$runs" \
		"$(median 1 <"$work/ms")" \
		"$(sort -n "$work/ms" | head -n 1)" \
		"$(sort -n "$work/ms" | tail -n 1)" \
		"$(median 0 <"$work/rss")" \
		"$(sort -n "$work/rss" | tail -n 1)"
}

echo "quorum-peerd identity: $peerd"
echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null |
	sed 's/.*: //')"
printf '%-9s %5s %10s %9s %9s %14s %13s\n' kdf runs median_ms min_ms max_ms \
	median_rss_kib peak_rss_kib
bench light "$light_runs"
bench standard "$standard_runs"
