#!/bin/sh
# Proves the interop tests can fail: each mutant wraps the real quorum-peerd
# and breaks one promise of the identity contract (a file's format or mode,
# the printed object, reuse, refusal); the named tests must then fail.
# Called by run.sh after the tests pass (INTEROP_MUTANTS=0 skips it).
set -u
here=$(cd "$(dirname "$0")" && pwd)
real=${PEERD:?PEERD must name the real quorum-peerd}
work=$(mktemp -d "${TMPDIR:-/tmp}/peerd-mutants.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

# name | test name pattern | file | pre or post | shell run before or after
# the real binary, with $d = DATA_DIR and (post) $rc = its exit code, $out =
# a file holding its stdout, $err = a file holding its stderr.
mutants='tmpub-newline|umask 0|identity.test.mjs|post|[ $rc = 0 ] && printf "\n" >>"$d/keys/tm.pub"
tmkey-0644|umask 0|identity.test.mjs|post|[ $rc = 0 ] && chmod 644 "$d/keys/tm.key"
keys-dir-0755|ACCOUNT_PASSWORD_FILE|identity.test.mjs|post|[ $rc = 0 ] && chmod 755 "$d/keys"
account-lowercase|ACCOUNT_PASSWORD_FILE|identity.test.mjs|post|sed -i "s/\"account\":\"0x[0-9a-fA-F]*\"/\L&/" "$out"
nodekey-replaced|ACCOUNT_PASSWORD_FILE|identity.test.mjs|post|[ $rc = 0 ] && printf "1be3b50b31734be48452c29d714941ba165ef0cbf3ccea8ca16c45e3d8d45fb0\n" >"$d/dd/geth/nodekey"
keystore-address-zero|standard scrypt parameters|identity.test.mjs|post|[ $rc = 0 ] && sed -i "s/\"address\":\"[0-9a-f]*\"/\"address\":\"0000000000000000000000000000000000000000\"/" "$d"/dd/keystore/UTC--*
tmkey-newline|ACCOUNT_PASSWORD_FILE|identity.test.mjs|post|[ $rc = 0 ] && printf "\n" >>"$d/keys/tm.key"
touch-every-run|second run|lifecycle.test.mjs|post|touch "$d/dd/geth/nodekey"
touch-on-refusal|flipped mac|lifecycle.test.mjs|post|[ $rc != 0 ] && find "$d" -type f -exec touch {} +
rewrite-on-refusal|63 hex|lifecycle.test.mjs|post|[ $rc != 0 ] && cp "$d/dd/geth/nodekey" "$work/k" && mv "$work/k" "$d/dd/geth/nodekey"
two-stderr-lines|scalar n:|lifecycle.test.mjs|post|[ $rc != 0 ] && echo "second line" >>"$err"
exit-2-on-refusal|all-zero|lifecycle.test.mjs|post|[ $rc = 1 ] && rc=2
accept-corrupt|non-hex|lifecycle.test.mjs|post|[ $rc != 0 ] && rc=0 && echo "{}" >"$out" && : >"$err"
regenerate-partial|without tm.key|lifecycle.test.mjs|pre|[ -f "$d/dd/geth/nodekey" ] && [ ! -f "$d/keys/tm.key" ] && rm -f "$d/dd/geth/nodekey" "$d"/dd/keystore/*
sig-v-flipped|NODE_IP: the signed|lifecycle.test.mjs|post|sed -i -E "s/(\"sig\":\"[0-9a-f]{128}0)0\"/\11\"/; t; s/(\"sig\":\"[0-9a-f]{128}0)1\"/\10\"/" "$out"
mac-flipped|CLUSTER_SECRET|lifecycle.test.mjs|post|sed -i -E "s/\"mac\":\"0/\"mac\":\"X/; s/\"mac\":\"[1-9a-f]/\"mac\":\"0/; s/\"mac\":\"X/\"mac\":\"1/" "$out"'

n=0
bad=0
IFS_NL='
'
old_ifs=$IFS
IFS=$IFS_NL
for line in $mutants; do
	IFS=$old_ifs
	n=$((n + 1))
	name=${line%%|*}; rest=${line#*|}
	pattern=${rest%%|*}; rest=${rest#*|}
	file=${rest%%|*}; rest=${rest#*|}
	when=${rest%%|*}; hook=${rest#*|}
	pre=:; post=:
	if [ "$when" = pre ]; then pre=$hook; else post=$hook; fi
	w=$work/$name
	cat >"$w" <<WRAP
#!/bin/sh
# Mutant $name of quorum-peerd (args: identity --data-dir D).
d=\$3
work=$work
out=\$(mktemp "\$work/out.XXXXXX")
err=\$(mktemp "\$work/err.XXXXXX")
$pre
"$real" "\$@" >"\$out" 2>"\$err"
rc=\$?
$post
cat "\$out"
cat "\$err" >&2
rm -f "\$out" "\$err"
exit \$rc
WRAP
	chmod +x "$w"
	if (cd "$here" && PEERD=$w node --test --test-reporter=spec \
		--test-name-pattern="$pattern" "$file") >"$w.log" 2>&1; then
		if grep -q '^ℹ pass 0$' "$w.log"; then
			echo "mutant $name: no test matches '$pattern'"
		else
			echo "mutant $name: NOT caught (tests matching" \
				"'$pattern' pass)"
		fi
		bad=$((bad + 1))
	elif ! grep -q '^ℹ fail [1-9]' "$w.log"; then
		echo "mutant $name: the test run broke:" \
			"$(tail -n 3 "$w.log" | tr '\n' ' ')"
		bad=$((bad + 1))
	else
		echo "mutant $name: caught by" \
			"$(grep -m1 '^✖' "$w.log" | sed 's/ ([0-9.]*ms)$//'):" \
			"$(grep -m1 -o 'Error[^:]*: .*' "$w.log" | cut -c1-150)"
	fi
	IFS=$IFS_NL
done
IFS=$old_ifs
echo "mutants: $((n - bad)) of $n caught"
[ "$bad" -eq 0 ]
