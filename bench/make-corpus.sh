#!/usr/bin/env bash
# Build the benchmark corpora outside the repository, from ../shared/corpora.
#   bench/make-corpus.sh [OUTDIR]     (default: $SX_BENCH_DIR or ~/.cache/sigex-bench)
# Writes:
#   large.pcap     every Ethernet capture merged in time order (mergecap), then
#                  replicated with time shifts (editcap -t) until >= 500 MB
#   large2.pcap    the same, twice as long (for the flat-memory target)
#   one.pcap       the Ethernet captures merged once (about 118 MB, 544k packets):
#                  the corpus ../shared/docs/PEERS.md measured ndpiReader on
#   small/         links to the 390 IoT Sentinel captures (many small files)
#   tplink/        links to the reference tool's three TP-Link toggle captures
#   sentinel/      the IoT Sentinel captures as a lab archive for sigex batch:
#                  sentinel/<device>/<capture>.pcap (links, 23 devices)
#   sentinel2k/    the same six times over: sentinel2k/<device>/run<k>/ (2,340
#                  captures, 138 units)
# Idempotent: existing outputs are kept.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
shared=${SX_SHARED_CORPORA:-$(cd "$here/../.." && pwd)/shared/corpora}
out=${1:-${SX_BENCH_DIR:-$HOME/.cache/sigex-bench}}
mkdir -p "$out/small" "$out/tplink" "$out/sentinel"
command -v mergecap >/dev/null || { echo "mergecap missing: apt-get install wireshark-common" >&2; exit 1; }

if [ ! -s "$out/large.pcap" ]; then
	# Ethernet captures only (the manifest's link column).
	awk -F, 'NR > 1 && $5 == "ether" { print $1 "/" $2 }' "$shared/manifest.csv" |
		sed "s|^|$shared/|" >"$out/ether.list"
	xargs mergecap -F pcap -w "$out/merged.pcap" <"$out/ether.list"
	size=$(stat -c %s "$out/merged.pcap")
	copies=$(( (500 * 1024 * 1024 + size - 1) / size ))
	parts=()
	for ((k = 0; k < copies * 2; k++)); do
		# 10 years between copies: no flow spans two of them.
		editcap -F pcap -t $((k * 315360000)) "$out/merged.pcap" "$out/part$k.pcap"
		parts+=("$out/part$k.pcap")
	done
	mergecap -F pcap -a -w "$out/large.pcap" "${parts[@]:0:copies}"
	mergecap -F pcap -a -w "$out/large2.pcap" "${parts[@]}"
	rm -f "${parts[@]}" "$out/merged.pcap"
fi
if [ ! -s "$out/one.pcap" ]; then
	[ -s "$out/ether.list" ] || awk -F, 'NR > 1 && $5 == "ether" { print $1 "/" $2 }' \
		"$shared/manifest.csv" | sed "s|^|$shared/|" >"$out/ether.list"
	xargs mergecap -F pcap -w "$out/one.pcap" <"$out/ether.list"
fi
if [ -z "$(ls -A "$out/small")" ]; then
	find "$shared/andypitcher+IoT_Sentinel" -name '*.pcap' | while read -r f; do
		ln -sf "$f" "$out/small/$(echo "${f#"$shared"/}" | tr / _)"
	done
fi
if [ -z "$(ls -A "$out/tplink")" ]; then
	for f in "$shared"/smart-home-network-security+signature-extraction/test/traces/*.pcap; do
		ln -sf "$f" "$out/tplink/$(basename "$f")"
	done
fi
if [ -z "$(ls -A "$out/sentinel")" ]; then
	for d in "$shared"/andypitcher+IoT_Sentinel/captures_IoT_Sentinel/captures_IoT-Sentinel/*/; do
		dev=$(basename "$d")
		mkdir -p "$out/sentinel/$dev"
		for f in "$d"*.pcap; do
			ln -sf "$f" "$out/sentinel/$dev/$(basename "$f")"
		done
	done
fi
# The same captures as a larger lab archive: each device's setup captures
# six times over, as six events (sentinel2k/<device>/run<k>/, links),
# 2,340 captures in 138 units; EdnetCam1, whose lease changes from capture
# to capture, identified by the MAC the dataset ships for it.
if [ ! -d "$out/sentinel2k" ]; then
	for d in "$shared"/andypitcher+IoT_Sentinel/captures_IoT_Sentinel/captures_IoT-Sentinel/*/; do
		dev=$(basename "$d")
		for k in 1 2 3 4 5 6; do
			mkdir -p "$out/sentinel2k/$dev/run$k"
			for f in "$d"*.pcap; do
				ln -sf "$f" "$out/sentinel2k/$dev/run$k/$(basename "$f")"
			done
		done
	done
	printf 'mac: %s\n' "$(tr -d '\r\n ' <"$shared/andypitcher+IoT_Sentinel/captures_IoT_Sentinel/captures_IoT-Sentinel/EdnetCam1/_iotdevice-mac.txt")" \
		>"$out/sentinel2k/EdnetCam1/device.yaml"
fi
ls -l "$out"/large*.pcap
echo "small files: $(ls "$out/small" | wc -l)"
