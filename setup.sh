#!/usr/bin/env bash
# sigex set-up on a fresh Debian 12 machine (as root): install what is
# missing, build, then either run the demo or the whole test suite.
#   ./setup.sh demo   build, run the main job on the generated demo corpus, show the profile
#   ./setup.sh test   build and run every test (what CI runs)
set -euo pipefail
cd "$(dirname "$0")"
mode=${1:-demo}

pkgs=(build-essential cmake pkg-config libpcap-dev liburcu-dev libxxhash-dev libyaml-dev
      zlib1g-dev libzstd-dev libcriterion-dev)
[ "$mode" = test ] && pkgs+=(tshark clang libclang-rt-14-dev clang-format)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

case "$mode" in
demo)
	cmake -S . -B build >/dev/null
	cmake --build build -j"$(nproc)" >/dev/null
	# The main job: ten captures of the plug switched on (1*.pcap), three idle
	# captures as background; flows, report, signature and profile in build/demo-out.
	./build/sigex demo-plug 192.168.1.50 build/corpora/demo/1*.pcap \
		--background build/corpora/demo/idle-*.pcap \
		--gateway 192.168.1.1 --phone 192.168.1.20 --event switch-on -o build/demo-out
	echo
	echo "== build/demo-out/profile.yaml =="
	cat build/demo-out/profile.yaml
	;;
test)
	# Sanitizers first, the main -Werror suite last, so that its Criterion
	# synthesis line closes the log.
	# 0. Every C file is as the committed .clang-format writes it.
	find src include tests bench fuzz corpora -name '*.[ch]' -print0 |
		xargs -0 clang-format --dry-run --Werror
	# 1. AddressSanitizer + UBSan: the whole suite (it runs sigex over every
	#    capture of ../shared/corpora: test_cli_corpus, test_flows_e2e), less
	#    the tshark field cross-check, which only compares text.
	cmake -S . -B build-asan -DSX_WERROR=ON -DSX_ASAN=ON >/dev/null
	cmake --build build-asan -j"$(nproc)" >/dev/null
	ASAN_OPTIONS=halt_on_error=1:detect_leaks=1 \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp:print_suppressions=0" \
		ctest --test-dir build-asan -j2 -E 'test_cli_tshark' --output-on-failure
	# 2. ThreadSanitizer: the threaded flow-table tests and the multi-table
	#    reader pool (Criterion cannot start under TSan; these tests have
	#    their own runner there), then sigex
	#    itself with a spare thread on one real capture, so that the
	#    capture is read on one thread and decoded into the table on the
	#    other (ingest's pipe), on many captures with two readers, and
	#    `sigex batch` over an archive.
	cmake -S . -B build-tsan -DSX_TSAN=ON >/dev/null
	cmake --build build-tsan -j"$(nproc)" --target test_flows_table test_flows_multi sigex \
		>/dev/null
	export TSAN_OPTIONS="suppressions=$PWD/tests/tsan.supp:halt_on_error=1"
	./build-tsan/tests/test_flows_table
	./build-tsan/tests/test_flows_multi
	cam=../shared/corpora/smart-home-network-security+smart-home-firewall/eval/latency/xiaomi-cam/no-firewall/wlan2.4.pcap
	tp=(../shared/corpora/smart-home-network-security+signature-extraction/test/traces/*.pcap)
	./build-tsan/sigex flows -q -j2 -o /dev/null "$cam"
	./build-tsan/sigex packets -q -j3 -o /dev/null "$cam"
	./build-tsan/sigex flows -q -j2 -o /dev/null "$cam" "${tp[@]}"
	# sigex batch: one reader pool over the 23 IoT Sentinel devices, units
	# mined on the readers while the others read on
	iot=../shared/corpora/andypitcher+IoT_Sentinel/captures_IoT_Sentinel/captures_IoT-Sentinel
	rm -rf build-tsan/batch-out
	./build-tsan/sigex batch -q -j2 -o build-tsan/batch-out "$iot"
	unset TSAN_OPTIONS
	# 3. The -Werror build and the whole suite.
	cmake -S . -B build -DSX_WERROR=ON >/dev/null
	cmake --build build -j"$(nproc)"
	ctest --test-dir build -j2 --output-on-failure
	;;
*)
	echo "usage: ./setup.sh demo|test" >&2
	exit 2
	;;
esac
