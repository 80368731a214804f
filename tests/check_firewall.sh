#!/usr/bin/env bash
# check_firewall.sh SIGEX SRC [SHARED] - the firewall gate: every profile.yaml
# sigex writes in its default mode must be taken by the smart-home firewall
# itself.  Each profile goes through SHARED/firewall/check-profile.sh (the
# firewall's translator, `nft -c` on its rules, and its NFQueue program built
# with -Werror), as sigex wrote it (no MAC given to sigex: device-info.mac is
# its inference):
#   - every profile.yaml under SRC/tests/golden, except that those of
#     `--mode upstream` (tests/golden/upstream, tests/golden/extract/
#     *upstream*) must be REJECTED, for the reason the reference tool's own
#     profiles are: that mode reproduces the reference byte for byte, and its
#     device-info has no mac (nft: "ether saddr  jump filter"; with a MAC
#     added, its policy ids, "dns_A_use1-api.tplinkra.com", are no C
#     identifiers and the NFQueue program does not compile).  An upstream
#     profile the firewall takes, or rejects for another reason, fails;
#   - the device profile (OUT/<device>/profile.yaml) of every IoT Sentinel
#     device, from `sigex batch` over links to its captures in a temporary
#     archive (SHARED/corpora is only read); every device must get one;
#   - the profiles of the UCLouvain testbed's devices, one interaction per
#     scripted event merged into one profile, where the events' documents
#     meet most: each device's of its three runs as bench/testbed.sh makes
#     it (its events anchored, the device's MAC given), and, no MAC given,
#     of its three runs again and of each two of them (the folds of
#     bench/testbed-heldout.sh): every device must get all five.
# Nothing is skipped: a missing corpus, firewall folder or tool fails the
# check, naming it.  Prints one line per profile (ok, or FAIL with the
# profile and check-profile's reason) and a SUMMARY line; exits 1 on any
# failure, 0 when every profile passes.  About 30 s per profile (the
# firewall is built for each).
set -u
sigex=$1
src=$2
shared=${3:-$src/../shared}
checker=$shared/firewall/check-profile.sh
sentinel=$shared/corpora/andypitcher+IoT_Sentinel/captures_IoT_Sentinel/captures_IoT-Sentinel

die() {
	echo "check_firewall: $*" >&2
	exit 1
}

[ -x "$sigex" ] || die "no sigex binary at $sigex"
[ -f "$checker" ] || die "the firewall's check-profile.sh is missing: $checker"
[ -d "$sentinel" ] || die "the IoT Sentinel captures are missing: $sentinel"
# check-profile.sh's own needs (it exits 2 naming the first one missing;
# checked here first so that the failure says what to install)
for tool in python3 nft cmake cc; do
	command -v "$tool" >/dev/null || die "$tool not installed (see setup.sh test)"
done
python3 -c 'import yaml, jinja2' 2>/dev/null ||
	die "python3-yaml and python3-jinja2 are needed (see setup.sh test)"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# name<TAB>profile, goldens first
list=$tmp/profiles
: >"$list"
for p in $(cd "$src/tests/golden" && find . -name profile.yaml | sort); do
	d=$(dirname "${p#./}")
	printf '%s\t%s\n' "golden-${d//\//-}" "$src/tests/golden/${p#./}" >>"$list"
done

sentinel=$(cd "$sentinel" && pwd)
devices=0
for d in "$sentinel"/*/; do
	n=$(basename "$d")
	mkdir -p "$tmp/archive/$n"
	ln -s "$d"*.pcap "$tmp/archive/$n/"
	devices=$((devices + 1))
done
status=0
SOURCE_DATE_EPOCH=1700000000 "$sigex" batch "$tmp/archive" -o "$tmp/out" -q \
	</dev/null 2>"$tmp/batch.err" || status=$?
failed=0
if [ "$status" -ne 0 ]; then
	echo "FAIL sigex batch over the IoT Sentinel captures exited $status:"
	sed 's/^/  /' "$tmp/batch.err"
	failed=$((failed + 1))
fi
for d in "$tmp/archive"/*/; do
	n=$(basename "$d")
	if [ -f "$tmp/out/$n/profile.yaml" ]; then
		printf '%s\t%s\n' "$n" "$tmp/out/$n/profile.yaml" >>"$list"
	else
		echo "FAIL iot-sentinel/$n: sigex batch wrote no profile.yaml"
		failed=$((failed + 1))
	fi
done

# the testbed: bench/testbed.sh picks each device's capture point per run
# and writes its events file; the folds are mined here
meta_of() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$@"; }
testbed=$shared/corpora/smart-home-network-security+smart-home-firewall
lat=$testbed/eval/latency
if ! bash "$src/bench/testbed.sh" --sigex "$sigex" --testbed "$testbed" --events anchored \
	--keep "$tmp/tb" -o "$tmp/tb.md" </dev/null >"$tmp/tb.log" 2>&1; then
	echo "FAIL bench/testbed.sh over the testbed:"
	sed 's/^/  /' "$tmp/tb.log"
	failed=$((failed + 1))
fi
for d in "$testbed"/devices/*/; do
	dev=$(basename "$d")
	[ -f "$lat/$dev/activity.txt" ] || continue
	devices=$((devices + 1))
	meta=$tmp/tb/$dev/meta.json
	if [ ! -f "$tmp/tb/$dev/sigex/profile.yaml" ] || [ ! -f "$meta" ]; then
		echo "FAIL testbed/$dev: the main job wrote no profile.yaml"
		failed=$((failed + 1))
		continue
	fi
	printf '%s\t%s\n' "$dev" "$tmp/tb/$dev/sigex/profile.yaml" >>"$list"
	ip=$(meta_of "$meta" ipv4)
	mapfile -t runs < <(python3 -c 'import json, sys
for r in json.load(open(sys.argv[1]))["runs"]: print(r["run"] + "/" + r["capture"])' "$meta")
	for k in 0 1 2 3; do # the run left out; 3: none
		train=()
		for j in 0 1 2; do
			[ "$j" -ne "$k" ] && [ -n "${runs[$j]:-}" ] && train+=("$lat/$dev/${runs[$j]}.pcap")
		done
		out=$tmp/fold/$dev-$k
		rc=0
		[ ${#train[@]} -eq $((k == 3 ? 3 : 2)) ] || rc=2
		# 3: an event of the script outside the runs' captures
		[ $rc -ne 0 ] || "$sigex" "$dev" "$ip" "${train[@]}" \
			--events "$tmp/tb/$dev/events.csv" -o "$out" -q \
			</dev/null >/dev/null 2>"$tmp/fold.err" || rc=$?
		if { [ $rc -ne 0 ] && [ $rc -ne 3 ]; } || [ ! -f "$out/profile.yaml" ]; then
			echo "FAIL testbed/$dev, fold $k (exit $rc): no profile.yaml:" \
				"$(tail -n 1 "$tmp/fold.err" 2>/dev/null)"
			failed=$((failed + 1))
			continue
		fi
		printf '%s\t%s\n' "$dev" "$out/profile.yaml" >>"$list"
	done
done

checked=0
while IFS=$'\t' read -r name profile; do
	checked=$((checked + 1))
	case $profile in
	"$tmp/out/"*) shown="iot-sentinel/${profile#"$tmp/out/"}" ;;
	"$tmp/tb/"*) shown="testbed/${profile#"$tmp/tb/"}" ;;
	"$tmp/fold/"*) shown="testbed-fold/${profile#"$tmp/fold/"}" ;;
	*) shown=${profile#"$src/"} ;;
	esac
	upstream=false
	case $shown in
	tests/golden/upstream/* | tests/golden/extract/*upstream*/*) upstream=true ;;
	esac
	if bash "$checker" "$profile" "$name" </dev/null >"$tmp/check.out" 2>"$tmp/check.err"; then
		rc=0
	else
		rc=$?
	fi
	why=$(grep -v '^$' "$tmp/check.err" | tail -n 1)
	if $upstream; then
		if [ "$rc" -eq 1 ] && grep -q 'ether saddr  jump' "$tmp/check.err"; then
			echo "ok   $shown (upstream mode: rejected as the reference's profiles are," \
				"for want of a MAC: ${why#check-profile: })"
		else
			failed=$((failed + 1))
			echo "FAIL $shown (upstream mode: expected the firewall to reject it for" \
				"want of a MAC; check-profile exit $rc): ${why:-no message}"
		fi
	elif [ "$rc" -eq 0 ]; then
		echo "ok   $shown"
	else
		failed=$((failed + 1))
		echo "FAIL $shown (check-profile exit $rc): ${why:-no message}"
	fi
done <"$list"

echo "SUMMARY check_firewall profiles=$checked devices=$devices failed=$failed"
[ "$failed" -eq 0 ]
