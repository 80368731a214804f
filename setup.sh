#!/usr/bin/env bash
# sigex set-up on a fresh Debian 12 machine (as root): install what is
# missing, build, then either run the demo or the whole test suite.
#   ./setup.sh demo   build, run the main job on the generated demo corpus, show the profile
#   ./setup.sh test   build and run every test (what CI runs, in a clean root: .ci/run)
#   ./setup.sh bench  build and run the benchmarks (bench/run; long, never part of CI)
#   ./setup.sh packages demo|test|bench   print the packages a mode installs, one a line
# One line per phase, so that a long install or build is never silent.
set -euo pipefail
cd "$(dirname "$0")"
mode=${1:-demo}

# The build (both modes); libpsl-dev is for the profile's name generalisation.
demo_pkgs=(build-essential cmake pkg-config libpcap-dev liburcu-dev libxxhash-dev libyaml-dev
           zlib1g-dev libzstd-dev libpsl-dev)
# Essential on Debian, listed so that the tool check sees who provides the
# commands the scripts and tests run.
base_tools=(coreutils findutils diffutils grep sed mawk bash dash util-linux mount)
# What the tests, the sanitizer builds and the test scripts call or link.
# tests/check_tools.sh fails when a command the tests call is missing here.
test_pkgs=("${demo_pkgs[@]}" "${base_tools[@]}"
	libcriterion-dev clang libclang-rt-14-dev clang-format binutils
	# commands the suites run (zstd: the compressed inputs of cli_hostile;
	# tshark and its wireshark-common tools: the field cross-checks)
	zstd gzip tshark wireshark-common
	# netns/veth tests (ip), unshare and setpriv (util-linux, above); the
	# batch test that watches a unit's syscalls (strace)
	iproute2 strace
	# the firewall checker ../shared/firewall/check-profile.sh and its build
	nftables python3-yaml python3-jinja2 libnetfilter-queue-dev libnetfilter-log-dev
	libnftables-dev libnftnl-dev libmnl-dev libjansson-dev libnfnetlink-dev
	# cluster runs of sigex batch
	slurm-wlm munge)
# bench/run and bench/make-corpus.sh: mergecap and editcap, /usr/bin/time,
# callgrind, the commit in the report; bench/testbed.sh's comparison (python3-yaml).
bench_pkgs=("${demo_pkgs[@]}" "${base_tools[@]}" tshark wireshark-common time valgrind git
	python3-yaml)

case "$mode" in
packages)
	case "${2:-}" in
	demo) printf '%s\n' "${demo_pkgs[@]}" ;;
	test) printf '%s\n' "${test_pkgs[@]}" ;;
	bench) printf '%s\n' "${bench_pkgs[@]}" ;;
	*) echo "usage: ./setup.sh packages demo|test|bench" >&2; exit 2 ;;
	esac
	exit 0
	;;
demo) pkgs=("${demo_pkgs[@]}") ;;
test) pkgs=("${test_pkgs[@]}") ;;
bench) pkgs=("${bench_pkgs[@]}") ;;
*)
	echo "usage: ./setup.sh demo|test|bench" >&2
	exit 2
	;;
esac

if [ "$mode" = test ] && [ ! -f ../shared/corpora/MANIFEST.md ]; then
	# The suites read real captures from ../shared/corpora; without them a
	# third of the tests could only skip, and CI must not pass that way.
	echo "setup.sh test: ../shared is missing ($(cd .. && pwd)/shared/corpora/MANIFEST.md):" \
		"the tests read the shared captures there; put the shared folder beside the clone" >&2
	exit 1
fi

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "setup: installing ${#missing[@]} packages (${missing[*]})..."
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
	echo "setup: all ${#pkgs[@]} packages already installed"
fi

case "$mode" in
bench)
	echo "setup: running the benchmarks (bench/run builds build-bench)"
	shift
	bench/run "$@"
	;;
demo)
	echo "setup: configuring (build)"
	cmake -S . -B build -DBUILD_TESTING=OFF >/dev/null
	echo "setup: building"
	cmake --build build -j"$(nproc)" >/dev/null
	echo "setup: running the demo"
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
	# synthesis line closes the log.  SX_REQUIRE_CORPORA: a test that would
	# skip for want of ../shared or a tool fails instead.
	# 0. Every C file is as the committed .clang-format writes it.
	echo "setup: checking formatting (clang-format)"
	find src include tests bench fuzz corpora -name '*.[ch]' -print0 |
		xargs -0 clang-format --dry-run --Werror
	# 1. AddressSanitizer + UBSan: the whole suite (it runs sigex over every
	#    capture of ../shared/corpora: test_cli_corpus, test_flows_e2e), less
	#    the tshark field cross-check, which only compares text, and the
	#    firewall gate, which checks the profiles' text with the firewall's
	#    own tools, and the Slurm check, which drives the job scripts and
	#    compares trees (step 3 runs both).
	echo "setup: configuring (build-asan)"
	cmake -S . -B build-asan -DBUILD_TESTING=ON -DSX_WERROR=ON -DSX_ASAN=ON \
		-DSX_REQUIRE_CORPORA=ON >/dev/null
	echo "setup: building (build-asan)"
	cmake --build build-asan -j"$(nproc)" >/dev/null
	echo "setup: running the suite under AddressSanitizer + UBSan"
	ASAN_OPTIONS=halt_on_error=1:detect_leaks=1 \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp:print_suppressions=0" \
		ctest --test-dir build-asan -j2 -E 'test_cli_tshark|check_firewall|check_slurm' --output-on-failure
	# 2. ThreadSanitizer: the threaded flow-table tests and the multi-table
	#    reader pool (Criterion cannot start under TSan; these tests have
	#    their own runner there), then sigex
	#    itself with a spare thread on one real capture, so that the
	#    capture is read on one thread and decoded into the table on the
	#    other (ingest's pipe), on many captures with two readers, and
	#    `sigex batch` over an archive.
	echo "setup: configuring (build-tsan)"
	cmake -S . -B build-tsan -DBUILD_TESTING=ON -DSX_TSAN=ON >/dev/null
	echo "setup: building (build-tsan)"
	cmake --build build-tsan -j"$(nproc)" --target test_flows_table test_flows_multi sigex \
		>/dev/null
	echo "setup: running the threaded tests and sigex under ThreadSanitizer"
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
	# every device succeeds (EdnetCam1, whose lease changes from capture to
	# capture, is identified by its MAC without a device.yaml): anything
	# but exit 0 fails, a race report (exit 66) included
	status=0
	./build-tsan/sigex batch -q -j2 -o build-tsan/batch-out "$iot" || status=$?
	if [ "$status" -ne 0 ]; then
		echo "setup: sigex batch under ThreadSanitizer exited $status" >&2
		exit 1
	fi
	# the same captures as two events per device (links): a device's first
	# unit waits, table and all, for its address until the second is read
	rm -rf build-tsan/batch-arch build-tsan/batch-out
	for d in "$iot"/*/; do
		n=$(basename "$d")
		mkdir -p "build-tsan/batch-arch/$n/a" "build-tsan/batch-arch/$n/b"
		k=0
		for f in "$d"*.pcap; do
			k=$((k + 1))
			ln -s "$(cd "$(dirname "$f")" && pwd)/$(basename "$f")" \
				"build-tsan/batch-arch/$n/$([ $((k % 2)) = 0 ] && echo a || echo b)/"
		done
	done
	./build-tsan/sigex batch -q -j2 -o build-tsan/batch-out build-tsan/batch-arch || status=$?
	if [ "$status" -ne 0 ]; then
		echo "setup: sigex batch (two events a device) under ThreadSanitizer exited $status" >&2
		exit 1
	fi
	unset TSAN_OPTIONS
	# 3. The -Werror build and the whole suite.
	echo "setup: configuring (build)"
	cmake -S . -B build -DBUILD_TESTING=ON -DSX_WERROR=ON -DSX_REQUIRE_CORPORA=ON >/dev/null
	echo "setup: building (build)"
	cmake --build build -j"$(nproc)" >/dev/null
	echo "setup: running the suite"
	ctest --test-dir build -j2 --output-on-failure
	;;
esac
