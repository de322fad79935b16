#!/usr/bin/env bash
# Runs every libFuzzer target for a bounded time. A crash, leak or
# sanitizer report fails the run. FUZZ_DIR holds the built targets.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=${FUZZ_DIR:?FUZZ_DIR must point at the fuzz build directory}
secs=${FUZZ_SECONDS:-20}
pass=0
fail=0
for t in peerdoc settings keystore tmkey gethrpc; do
	bin="$dir/fuzz_$t"
	corpus="$dir/corpus-$t"
	mkdir -p "$corpus"
	# Seed inputs are committed in tests/fuzz/corpus/<target>.
	seeds=()
	[ -d "$here/corpus/$t" ] && seeds=("$here/corpus/$t")
	if [ ! -x "$bin" ]; then
		echo "FAIL fuzz_$t: not built"
		fail=$((fail + 1))
		continue
	fi
	if "$bin" -max_total_time="$secs" -max_len=20000 -timeout=10 \
		-rss_limit_mb=1024 -print_final_stats=1 "$corpus" "${seeds[@]}" \
		>"$dir/fuzz_$t.log" 2>&1; then
		echo "PASS fuzz_$t ($(grep -o 'stat::number_of_executed_units: [0-9]*' "$dir/fuzz_$t.log" | tail -1 || true))"
		pass=$((pass + 1))
	else
		echo "FAIL fuzz_$t: see $dir/fuzz_$t.log"
		tail -30 "$dir/fuzz_$t.log"
		fail=$((fail + 1))
	fi
done
echo "fuzz: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
