# bench/sentinel-archive.sh - sourced by the benchmarks that run sigex batch
# over the IoT Sentinel captures (validate.sh, crossdevice.sh): with BUILD in
# $1 (default build), sets sigex (the binary), sentinel (the captures) and
# tmp (a temporary directory removed on exit), and lays the captures out as
# a batch archive in $tmp/archive/<device>/ (symbolic links, nothing copied).
build=${1:-build}
here=$(cd "$(dirname "$0")/.." && pwd)
sentinel=$here/../shared/corpora/andypitcher+IoT_Sentinel/captures_IoT_Sentinel/captures_IoT-Sentinel
sigex=$(cd "$build" && pwd)/sigex
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for d in "$sentinel"/*/; do
	n=$(basename "$d")
	mkdir -p "$tmp/archive/$n"
	ln -s "$d"*.pcap "$tmp/archive/$n/"
done
# eui64_ll MAC: the link-local IPv6 address made from MAC (fe80::/64 and the
# modified EUI-64), as a device's profile has it for self (device-info.ipv6)
eui64_ll() {
	local IFS=:
	# shellcheck disable=SC2086
	set -- $1
	printf 'fe80::%x:%x:%x:%x\n' $(((0x$1 ^ 2) << 8 | 0x$2)) $((0x$3 << 8 | 0xff)) \
		$((0xfe << 8 | 0x$4)) $((0x$5 << 8 | 0x$6))
}
