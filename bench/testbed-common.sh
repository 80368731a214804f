# shellcheck shell=bash disable=SC2034
# bench/testbed-common.sh - sourced by the benchmarks that replay profiles
# over the UCLouvain testbed (testbed-heldout.sh, testbed-crossdevice.sh):
# with BUILD in $1 (default build), sets here (bench/), sigex (the binary),
# lat (the testbed's eval/latency captures), experts (its hand-written
# profiles) and tmp (a temporary directory removed on exit), and defines
# meta FILE KEY, a value of testbed.sh's per-device meta.json.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build=${1:-$here/../build}
sigex=$(cd "$build" && pwd)/sigex
lat=$here/../../shared/corpora/smart-home-network-security+smart-home-firewall/eval/latency
experts=$lat/../../devices
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

meta() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$@"; }
