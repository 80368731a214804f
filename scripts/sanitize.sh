#!/usr/bin/env bash
# scripts/sanitize.sh - the sanitizer stage of CI (run after ./setup.sh test,
# which installs what is needed).  Fails on the first sanitizer report.
#
#   1. build-asan: AddressSanitizer + UBSan (-DSX_ASAN=ON -DSX_WERROR=ON); the
#      whole ctest suite, except the two tshark cross-checks, which spend
#      their time in tshark and re-check under ASan nothing the other suites
#      do not: test_cli_tshark (every packet against tshark, ~9 min) and, of
#      test_flows_e2e, ip_packets_are_conserved_as_tshark_counts_them (~5 min;
#      the rest of that suite runs).
#   2. Every capture of the shared corpora (../shared/corpora, or
#      $SX_SHARED_CORPORA; skipped when missing) through build-asan/sigex
#      packets and flows (-q -j2 -o /dev/null), BATCH files per run.  Exit 0
#      or 3 (some inputs unreadable) is fine; anything else, or a sanitizer
#      report on stderr, fails.
#   3. build-tsan: ThreadSanitizer (-DSX_TSAN=ON -DSX_WERROR=ON), only sigex
#      and the threaded test: test_flows_table, which has a main of its own
#      under TSan (Criterion cannot start under it); then the threaded
#      pipeline itself, build-tsan/sigex -j2 packets, flows and the main job,
#      on the reference traces, the demo corpus and a slice of the corpora.
#      TSAN_OPTIONS=suppressions=tests/tsan.supp (liburcu's own frames only).
#
# Leaks: detect_leaks=1; tests/lsan.supp suppresses only Criterion's own
# (libcriterion) allocations in the test runners.
#
# Time on the 2-core CI machine, from clean build directories: 4.5 to 5.5
# minutes (builds ~1.5-2.5, ASan suite ~2, corpus pass ~5 s, TSan ~45 s);
# each stage line prints the seconds elapsed.  The whole CI must stay under
# 30 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
jobs=$(nproc)
corpora=${SX_SHARED_CORPORA:-$root/../shared/corpora}
batch=${BATCH:-40}
t0=$(date +%s)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

export ASAN_OPTIONS=halt_on_error=1:detect_leaks=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export LSAN_OPTIONS=suppressions=$root/tests/lsan.supp:print_suppressions=0
export TSAN_OPTIONS=suppressions=$root/tests/tsan.supp:halt_on_error=1

stage() {
	echo
	echo "== $* (at $(($(date +%s) - t0)) s)"
}

# run_checked WHAT CMD...: the command's stderr must hold no sanitizer report
# and its exit status must be 0 or 3.
run_checked() {
	local what=$1 err rc=0
	shift
	err=$scratch/stderr
	"$@" 2>"$err" || rc=$?
	if grep -qE 'Sanitizer|runtime error:' "$err" || { [ "$rc" -ne 0 ] && [ "$rc" -ne 3 ]; }; then
		echo "sanitize.sh: $what: exit $rc" >&2
		cat "$err" >&2
		return 1
	fi
}

# corpus_pass SIGEX: packets and flows over every capture, BATCH at a time.
corpus_pass() {
	local sigex=$1 cmd n=0
	local -a files
	mapfile -d '' files < <(find "$corpora" -type f \( -name '*.pcap' -o -name '*.pcapng' \) \
		-print0 | sort -z)
	for cmd in packets flows; do
		local i
		for ((i = 0; i < ${#files[@]}; i += batch)); do
			run_checked "$sigex $cmd, files $i.." \
				"$sigex" "$cmd" -q -j2 -o /dev/null "${files[@]:i:batch}"
		done
	done
	n=${#files[@]}
	echo "$n captures through $sigex packets and flows: no sanitizer report"
}

stage "AddressSanitizer + UBSan build (build-asan)"
cmake -S . -B build-asan -DSX_ASAN=ON -DSX_WERROR=ON >/dev/null
cmake --build build-asan -j"$jobs"

stage "test suite under AddressSanitizer + UBSan (without the tshark cross-checks)"
ctest --test-dir build-asan --output-on-failure -j"$jobs" -E '^(test_cli_tshark|test_flows_e2e)$'
build-asan/tests/test_flows_e2e --jobs="$jobs" \
	--filter='flows_e2e/!(ip_packets_are_conserved_as_tshark_counts_them)'

if [ -f "$corpora/MANIFEST.md" ]; then
	stage "the shared corpora through build-asan/sigex"
	corpus_pass build-asan/sigex
else
	echo "sanitize.sh: shared corpora missing ($corpora): corpus pass skipped" >&2
fi

stage "ThreadSanitizer build (build-tsan: sigex, test_flows_table, the demo corpus)"
cmake -S . -B build-tsan -DSX_TSAN=ON -DSX_WERROR=ON >/dev/null
cmake --build build-tsan -j"$jobs" --target sigex test_flows_table demo_corpus

stage "threaded tests under ThreadSanitizer"
build-tsan/tests/test_flows_table
tsan_inputs=()
traces=$corpora/smart-home-network-security+signature-extraction/test/traces
if [ -f "$corpora/MANIFEST.md" ]; then
	mapfile -d '' tsan_inputs < <(find "$corpora/andypitcher+IoT_Sentinel" -type f \
		-name '*.pcap' -print0 | sort -z | head -z -n 60)
	run_checked "tsan: main job on the reference traces" build-tsan/sigex tplink-plug \
		192.168.1.135 "$traces"/*.pcap -q -j2 -o "$scratch/tplink"
fi
tsan_inputs+=(build-tsan/corpora/demo/*.pcap)
for cmd in packets flows; do
	run_checked "tsan: $cmd" build-tsan/sigex "$cmd" -q -j2 -o /dev/null "${tsan_inputs[@]}"
done
# the memory ceiling: batched evictions on both reader threads
run_checked "tsan: flows --max-flows" build-tsan/sigex flows -q -j2 --max-flows 64 -o /dev/null \
	"${tsan_inputs[@]}"
run_checked "tsan: main job on the demo corpus" build-tsan/sigex demo-plug 192.168.1.50 \
	build-tsan/corpora/demo/1*.pcap --background build-tsan/corpora/demo/idle-*.pcap \
	-q -j2 -o "$scratch/demo"

stage "sanitizers: all clean, $(($(date +%s) - t0)) s in all"
