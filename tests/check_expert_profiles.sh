#!/usr/bin/env bash
# check_expert_profiles.sh SIGEX [SHARED] - sigex verify reads the firewall's
# own profiles as the firewall does: every hand-written profile of the
# testbed (SHARED/corpora/smart-home-network-security+smart-home-firewall/
# devices/*/profile.yaml, which use YAML anchors and `!include`) is expanded
# by the firewall's own loader (pyyaml-loaders' IncludeLoader, with
# python3-yaml) into a plain document, and `sigex verify` of the profile as
# written and of the expanded one must report the same, byte for byte, over
# the device's testbed captures (eval/latency/<device>/*/*.pcap; another
# device's run for a profile without captures: the rules and policies are
# still listed).  Nothing is skipped.  Prints one line per profile and a
# SUMMARY line; exits 1 on any difference or failure.
set -u
sigex=$1
shared=${2:-$(dirname "$0")/../../shared}
testbed=$shared/corpora/smart-home-network-security+smart-home-firewall
loaders=$shared/firewall/pyyaml-loaders

die() {
	echo "check_expert_profiles: $*" >&2
	exit 1
}

[ -x "$sigex" ] || die "no sigex binary at $sigex"
[ -d "$testbed/devices" ] || die "the testbed's profiles are missing: $testbed/devices"
[ -d "$loaders/pyyaml_loaders" ] || die "the firewall's YAML loaders are missing: $loaders"
python3 -c 'import yaml' 2>/dev/null || die "python3-yaml missing"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

n=0 bad=0
fallback=$(ls "$testbed"/eval/latency/tplink-plug/no-firewall/*.pcap | head -1)
for prof in "$testbed"/devices/*/profile.yaml; do
	dev=$(basename "$(dirname "$prof")")
	n=$((n + 1))
	if ! python3 - "$loaders" "$prof" "$tmp/$dev.yaml" 2>"$tmp/err" <<'EOF'; then
import sys, yaml
sys.path.insert(0, sys.argv[1])
from pyyaml_loaders import IncludeLoader

with open(sys.argv[2]) as f:
    profile = yaml.load(f, IncludeLoader)


class Plain(yaml.SafeDumper):
    def ignore_aliases(self, data):
        return True


with open(sys.argv[3], "w") as f:
    yaml.dump(profile, f, Dumper=Plain, sort_keys=False, default_flow_style=False)
EOF
		echo "FAIL $dev: the firewall's loader: $(tail -1 "$tmp/err")"
		bad=$((bad + 1))
		continue
	fi
	caps=("$testbed"/eval/latency/"$dev"/*/*.pcap)
	[ -f "${caps[0]}" ] || caps=("$fallback")
	"$sigex" verify "$prof" "${caps[@]}" >"$tmp/a" 2>&1
	ra=$?
	"$sigex" verify "$tmp/$dev.yaml" "${caps[@]}" >"$tmp/b" 2>&1
	rb=$?
	if [ $ra -ne 0 ] || [ $rb -ne 0 ] || ! cmp -s "$tmp/a" "$tmp/b"; then
		echo "FAIL $dev: sigex verify differs (exit $ra, $rb): $(diff "$tmp/a" "$tmp/b" | head -3 | tr '\n' ' ')"
		bad=$((bad + 1))
	else
		echo "ok $dev: $(head -1 "$tmp/a"), $(sed -n 2p "$tmp/a") over ${#caps[@]} capture(s)"
	fi
done
echo "SUMMARY check_expert_profiles profiles=$n failed=$bad"
[ $n -gt 0 ] && [ $bad -eq 0 ]
