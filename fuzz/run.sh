#!/usr/bin/env bash
# Build the libFuzzer targets and run each for a given time.
#   fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]
# Corpora and logs go to $SX_FUZZ_DIR (default ~/.cache/sigex-fuzz), never
# into the repository; seeds come from ../shared/corpora, from the goldens'
# signatures.yaml and profile.yaml files under tests/golden/ (copied to
# $SX_FUZZ_DIR) and from fuzz/seeds/.
# Crashes (and leak-*, timeout-* files) are left in $SX_FUZZ_DIR/artifacts-<target>/,
# listed after the target's run; reproduce one with
# build-fuzz/fuzz/fuzz_<target> FILE, and keep it as a test case of the
# module at fault once fixed.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-600}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] ||
	targets=(packet capture csv flows_csv events names device_yaml manifest sigs profile check
		yaml_writer)
work=${SX_FUZZ_DIR:-$HOME/.cache/sigex-fuzz}
shared=${SX_SHARED_CORPORA:-$(cd .. && pwd)/shared/corpora}
mkdir -p "$work"

CC=clang cmake -S . -B build-fuzz -DSX_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-fuzz -j"$(nproc)" --target fuzz_packet fuzz_capture fuzz_names fuzz_csv \
	fuzz_flows_csv fuzz_events fuzz_device_yaml fuzz_manifest fuzz_sigs fuzz_profile fuzz_check \
	fuzz_yaml_writer fuzz_seeds >/dev/null
cmake -S . -B build >/dev/null && cmake --build build -j"$(nproc)" --target sigex >/dev/null

seed_dir() {	# target -> directory of seeds (built once)
	local t=$1 d="$work/seeds-$1"
	[ -d "$d" ] && { echo "$d"; return; }
	mkdir -p "$d"
	case $t in
	packet)	# the first frames of small captures, then each dissector's frames from all
		find "$shared" -name '*.pcap*' -size -200k | head -200 |
			xargs ./build-fuzz/fuzz/fuzz_seeds "$d" 20 0
		find "$shared" -name '*.pcap*' -print0 | sort -z |
			xargs -0 ./build-fuzz/fuzz/fuzz_seeds "$d" 0 40 ;;
	capture)
		find "$shared" -name '*.pcap*' -size -20k | head -60 | while read -r f; do
			cp "$f" "$d/$(basename "$f")"
		done
		for f in $(ls "$d" | head -5); do gzip -c "$d/$f" >"$d/$f.gz"; done ;;
	flows_csv)
		for f in $(find "$shared/smart-home-network-security+signature-extraction" \
			"$shared/smart-home-network-security+pcap-fuzzer" -name '*.pcap'); do
			./build/sigex flows -q -o "$d/$(basename "$f").csv" "$f" || true
		done ;;
	sigs)	# the signatures of the goldens
		for f in tests/golden/*/*/signatures.yaml; do
			cp "$f" "$d/$(basename "$(dirname "$f")").yaml"
		done ;;
	profile)	# the goldens' profiles and the firewall's expert ones
		for f in tests/golden/*/profile.yaml tests/golden/*/*/profile.yaml \
			"$shared"/smart-home-network-security+smart-home-firewall/devices/*/profile.yaml; do
			cp "$f" "$d/$(basename "$(dirname "$f")").yaml"
		done ;;
	check)	# each signature against itself, and each against each other one
		for a in tests/golden/*/*/signatures.yaml; do
			for b in tests/golden/*/*/signatures.yaml; do
				n=$(basename "$(dirname "$a")")-$(basename "$(dirname "$b")")
				{ cat "$a"; printf '\0'; cat "$b"; } >"$d/$n"
			done
		done ;;
	esac
	[ -d "fuzz/seeds/$t" ] && cp fuzz/seeds/"$t"/* "$d"/ 2>/dev/null || true
	echo "$d"
}

for t in "${targets[@]}"; do
	corpus="$work/corpus-$t"
	mkdir -p "$corpus" "$work/artifacts-$t"
	seeds=$(seed_dir "$t")
	echo "== fuzz_$t for ${secs}s"
	./build-fuzz/fuzz/fuzz_"$t" -max_total_time="$secs" -print_final_stats=1 \
		-artifact_prefix="$work/artifacts-$t/" -rss_limit_mb=2048 -timeout=10 \
		"$corpus" "$seeds" >"$work/$t.log" 2>&1 || true
	grep -E '^#[0-9]+.*(DONE|pulse|NEW)' "$work/$t.log" | tail -1
	grep -E 'stat::number_of_executed_units|stat::peak_rss_mb' "$work/$t.log" || true
	ls "$work/artifacts-$t" | sed 's/^/  finding: /' || true
done
