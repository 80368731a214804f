#!/bin/sh
# check_breadth.sh SIGEX SRC [CORPORA] - the policy-breadth check: no
# profile.yaml that sigex writes may admit more than the flows it was mined
# from.  Run over the golden outputs (tests/golden/extract/*) and, when the
# shared corpora are there, over the profiles of every IoT Sentinel device
# (sigex batch over links to its captures, as bench/validate.sh does).
#
# A violation is, per policy:
#   port      a tcp/udp policy with no port, unless its directory's pattern.txt
#             says of a pattern of that protocol "No fixed port" (ports vary on
#             both ends);
#   dns       a policy to port 53 without a dns section, or a dns section
#             without a domain-name;
#   pair      an address list that pairs ends never seen together: with the
#             flow CSVs beside the profile, every (src, dst) of the policy whose
#             ends are addresses or self must be a pair of a flow, and must
#             involve the device.  Aliases and names are not addresses and are
#             not checked, nor profiles without flow CSVs of sigex's format.
# Prints one line per violation and a SUMMARY line; exits 1 on any, 0 when
# none.
set -eu
sigex=$1
src=$2
corpora=${3:-$src/../shared/corpora}
python3 -c 'import yaml' 2>/dev/null || { echo "check_breadth: python3-yaml missing" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dirs=""
for d in "$src"/tests/golden/extract/*/; do
	[ -f "$d/profile.yaml" ] && dirs="$dirs $d"
done
sentinel=$corpora/andypitcher+IoT_Sentinel/captures_IoT_Sentinel/captures_IoT-Sentinel
if [ -d "$sentinel" ]; then
	sentinel=$(cd "$sentinel" && pwd)
	for d in "$sentinel"/*/; do
		n=$(basename "$d")
		mkdir -p "$tmp/archive/$n"
		ln -s "$d"*.pcap "$tmp/archive/$n/"
	done
	# a device whose address cannot be inferred fails alone; the others count
	"$sigex" batch "$tmp/archive" -o "$tmp/out" -q 2>/dev/null || true
	for p in $(find "$tmp/out" -name profile.yaml | sort); do
		dirs="$dirs $(dirname "$p")"
	done
else
	echo "check_breadth: shared corpora not found at $corpora: goldens only" >&2
fi
python3 - $dirs <<'EOF'
import csv, glob, ipaddress, os, re, sys, yaml

def addr(s):
    try:
        return ipaddress.ip_address(str(s))
    except ValueError:
        return None

def seen_pairs(d):
    pairs = set()
    files = glob.glob(os.path.join(d, "*.csv")) + glob.glob(os.path.join(d, "*", "*.csv"))
    nflows = 0
    for f in files:
        with open(f, newline="") as fh:
            rows = csv.DictReader(fh)
            if "DeviceIP" not in (rows.fieldnames or []):
                continue  # another format (upstream mode): no addresses to pair
            nflows += 1
            for row in rows:
                a, b = addr(row.get("DeviceIP")), addr(row.get("OtherIP"))
                if a and b:
                    pairs.add((a, b))
                    pairs.add((b, a))
    return pairs if nflows else None

def portless_protocols(d):
    out = set()
    proto = None
    path = os.path.join(d, "pattern.txt")
    if not os.path.exists(path):
        for path in glob.glob(os.path.join(d, "*", "pattern.txt")):
            out |= portless_protocols(os.path.dirname(path))
        return out
    for line in open(path):
        m = re.match(r"Protocol: (\w+)", line)
        if m:
            proto = m.group(1).lower()
        elif line.startswith("No fixed port:") and proto:
            out.add(proto)
    return out

def policies(doc):
    for pid, pol in (doc.get("single-policies") or {}).items():
        yield pid, pol
    for inter in (doc.get("interactions") or {}).values():
        for pid, pol in (inter or {}).items():
            yield pid, pol

def end_addrs(v, dev):
    vals = v if isinstance(v, list) else [v]
    out = []
    for x in vals:
        if x == "self":
            if not dev:
                return None
            out.append(dev)
            continue
        a = addr(x)
        if a is None:
            return None
        out.append(a)
    return out

total = {"port": 0, "dns": 0, "pair": 0}
npol = 0
for d in sys.argv[1:]:
    doc = yaml.safe_load(open(os.path.join(d, "profile.yaml")))
    info = doc.get("device-info") or {}
    devs = {k: addr(info.get(k)) for k in ("ipv4", "ipv6")}
    pairs = seen_pairs(d)
    portless = portless_protocols(d)
    for pid, pol in policies(doc):
        npol += 1
        prot = pol.get("protocols") or {}
        bad = []
        for t in ("tcp", "udp"):
            if t in prot:
                ports = prot[t] or {}
                if not ports.get("src-port") and not ports.get("dst-port") and t not in portless:
                    bad.append(("port", "%s without a port" % t))
                if 53 in (ports.get("src-port"), ports.get("dst-port")) and "dns" not in prot:
                    bad.append(("dns", "port 53 without a dns section"))
        if "dns" in prot and not (prot["dns"] or {}).get("domain-name"):
            bad.append(("dns", "dns without a domain-name"))
        for net in ("ipv4", "ipv6"):
            ends = prot.get(net) or {}
            dev = devs.get(net)
            if "src" not in ends or "dst" not in ends:
                continue
            s, t = end_addrs(ends["src"], dev), end_addrs(ends["dst"], dev)
            if s is None or t is None:
                continue
            for a in s:
                for b in t:
                    if a == b:
                        continue
                    if pairs is not None and (a, b) not in pairs:
                        bad.append(("pair", "%s -> %s never seen" % (a, b)))
                    elif dev and dev not in (a, b) and not (a.is_unspecified or b.is_unspecified):
                        bad.append(("pair", "%s -> %s without the device" % (a, b)))
        for kind, why in bad:
            total[kind] += 1
            print("check_breadth: %s: %s: %s: %s" % (os.path.relpath(d), pid, kind, why))
n = sum(total.values())
print("SUMMARY breadth profiles=%d policies=%d violations=%d port=%d dns=%d pair=%d"
      % (len(sys.argv) - 1, npol, n, total["port"], total["dns"], total["pair"]))
sys.exit(1 if n else 0)
EOF
