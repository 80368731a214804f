#!/usr/bin/env python3
"""bench/crossparts.py DIR - the parts of bench/crossdevice.sh's mean.

DIR holds what bench/crossparts.sh leaves: out/<device>/default/profile.yaml
(sigex batch) and cross/<profile>/<other>.csv (sigex verify --format csv of
that profile over the other device's captures, its address and MAC as
self).  Every admitted packet is attributed to the policy that admitted it
(verify's hits per policy: the first rule that matches decides) and that
policy's kind, read from the profile.  The mean over the profiles of the
mean over the other devices of the share admitted is split, in points of
that mean, into
  (a) siblings: the other device is of the profile's vendor (one firmware);
  (b) what every device on a LAN sends: DHCP policies (the other device's
      own MAC as client-mac) and ARP (with the gateway, the phone, the DHCP
      server's probes from 0.0.0.0), between devices of other vendors;
  (c) the rest, between devices of other vendors,
and (b) and (c) by kind of policy; then the pairs and the policies that
admit most of (c).  Prints markdown for bench/README.md.
"""
import csv
import os
import re
import sys
from collections import defaultdict

import yaml

VENDOR = re.compile(r"^(D-Link|Edimax|Ednet|WeMo|HomeMatic|Hue|MAX|TP-Link|iKettle|Aria)")


def vendor(dev):
    m = VENDOR.match(dev)
    return m.group(1) if m else dev


def is_gateway(v):
    """The firewall's alias, or the IoT Sentinel LAN's 10.10.10.1."""
    vals = v if isinstance(v, list) else [v]
    return any(str(x) == "gateway" or str(x).endswith(".1") for x in vals)


def kind_of(pol):
    p = pol.get("protocols", {}) or {}
    if "arp" in p:
        a = p["arp"] or {}
        if is_gateway(a.get("spa", "")) or is_gateway(a.get("tpa", "")):
            return "arp-gateway"
        return "arp-other"
    if "dhcp" in p:
        return "dhcp"
    if "mdns" in p:
        return "mdns-answer" if (p["mdns"] or {}).get("response") else "mdns-query"
    for k in ("dns", "ssdp", "igmp", "coap", "icmp", "http"):
        if k in p:
            return k
    for t in ("tcp", "udp"):
        if t in p:
            ports = p[t] or {}
            vals = {str(ports.get("dst-port", "")), str(ports.get("src-port", ""))}
            if t == "tcp" and "443" in vals:
                return "tls"
            if t == "udp" and "123" in vals:
                return "ntp"
            if t == "udp" and "1900" in vals:
                return "ssdp"
            port = ports.get("dst-port", ports.get("src-port", "any"))
            return "%s/%s" % (t, port)
    return "other"


def policy_kinds(path):
    with open(path) as f:
        prof = yaml.safe_load(f)
    kinds = {}
    for name, pol in (prof.get("single-policies") or {}).items():
        kinds["single#" + name] = kind_of(pol)
    for inter, pols in (prof.get("interactions") or {}).items():
        for name, pol in (pols or {}).items():
            if name in ("timeout", "loop"):
                continue
            if isinstance(pol, dict):
                kinds[inter + "#" + name] = kind_of(pol)
    return kinds


def kind_of_hit(kinds, name):
    if name in kinds:
        return kinds[name]
    if name.endswith("-backward") and name[: -len("-backward")] in kinds:
        return kinds[name[: -len("-backward")]]
    return "other"


def main(root):
    cross = os.path.join(root, "cross")
    profiles = sorted(os.listdir(cross))
    parts = defaultdict(float)  # (part, kind) -> points
    per_profile = {}
    pairs = []  # (points, profile, other) of part (c)
    top_pol = defaultdict(float)  # (profile, policy, kind) -> points of (c)
    for a in profiles:
        kinds = policy_kinds(os.path.join(root, "out", a, "default", "profile.yaml"))
        others = sorted(f[:-4] for f in os.listdir(os.path.join(cross, a)))
        n = len(others)
        total = 0.0
        for b in others:
            pk, pct, hits = 0, 0.0, []
            with open(os.path.join(cross, a, b + ".csv")) as f:
                for row in csv.reader(f):
                    if row[0] == "packets":
                        pk, pct = int(row[6]), float(row[8])
                    elif row[0] == "policy" and row[6] and int(row[6]) > 0:
                        hits.append((row[1], int(row[6])))
            if pk == 0:
                continue
            sib = vendor(a) == vendor(b)
            total += pct / n
            attributed = 0.0
            cpts = 0.0
            for name, h in hits:
                k = kind_of_hit(kinds, name)
                pts = 100.0 * h / pk / n / len(profiles)
                attributed += 100.0 * h / pk
                if sib:
                    part = "a"
                elif k in ("dhcp", "arp-gateway", "arp-other"):
                    part = "b"
                else:
                    part = "c"
                    cpts += pts
                    top_pol[(a, name.replace("-backward", ""), k)] += pts
                parts[(part, k)] += pts
            parts[("a" if sib else "c", "rounding")] += (pct - attributed) / n / len(profiles)
            pairs.append((cpts, a, b))
        per_profile[a] = total
    mean = sum(per_profile.values()) / len(per_profile)
    psum = defaultdict(float)
    for (p, _), v in parts.items():
        psum[p] += v
    print("mean over %d profiles: %.2f%% of another device's packets admitted" % (len(per_profile), mean))
    print()
    print("| part | points of the mean |")
    print("|---|---|")
    names = {"a": "(a) same-vendor siblings", "b": "(b) every device on a LAN (DHCP, ARP)",
             "c": "(c) the rest"}
    for p in "abc":
        print("| %s | %.2f |" % (names[p], psum[p]))
    print()
    print("| kind of policy | (a) | (b) | (c) | all |")
    print("|---|---|---|---|---|")
    allk = sorted({k for (_, k) in parts}, key=lambda k: -sum(parts[(p, k)] for p in "abc"))
    for k in allk:
        v = [parts[(p, k)] for p in "abc"]
        if sum(v) < 0.005 and k != "rounding":
            continue
        print("| %s | %.2f | %.2f | %.2f | %.2f |" % (k, v[0], v[1], v[2], sum(v)))
    print()
    print("Policies admitting most of (c) (points of the mean):")
    print()
    print("| profile | policy | kind | points |")
    print("|---|---|---|---|")
    for (a, name, k), v in sorted(top_pol.items(), key=lambda x: -x[1])[:25]:
        print("| %s | %s | %s | %.3f |" % (a, name, k, v))


if __name__ == "__main__":
    main(sys.argv[1])
