#!/bin/sh
# bench/verify.sh [BUILD] - the verify report of the TP-Link toggle profile
# (made by the main job from the reference tool's three traces) on those
# traces and on the PingPong TP-Link traces.  Prints one SUMMARY line per
# replay; the numbers go into bench/README.md.
set -eu
build=${1:-build}
here=$(cd "$(dirname "$0")/.." && pwd)
shared=$here/../shared/corpora
traces=$shared/smart-home-network-security+signature-extraction/test/traces
pp=$shared/uci-plrg+pingpong/Code/Projects/PacketLevelSignatureExtractor/pcap
sigex=$build/sigex
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$sigex" tplink-plug 192.168.1.135 "$traces"/*.pcap -q -o "$out/x"
summary() {	# name, verify arguments...
	name=$1
	shift
	r=$("$sigex" verify "$out/x/profile.yaml" "$@" -q | head -n 2 | tr '\n' ' ')
	echo "SUMMARY verify $name $r"
}
summary reference-traces "$traces"/*.pcap
summary reference-traces-stateless "$traces"/*.pcap --stateless
for f in TP_LINK_LOCAL_ON TP_LINK_LOCAL_OFF TP_LINK_REMOTE_ON TP_LINK_REMOTE_CHARGING_ON; do
	summary "pingpong-$f" --mac 50:c7:bf:ed:0a:54 "$pp/$f.pcap"
done
