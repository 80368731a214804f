#!/usr/bin/env python3
"""Helper of bench/testbed.sh: events from activity.txt, anchors in the traffic, and
the comparison of sigex's profile.yaml with the expert's.

Subcommands (all output on standard output):
  info EXPERT                      "IPV4 MAC" from device-info
  expand EXPERT                    the expert profile with !include resolved (the
                                   firewall's own loader) and YAML aliases expanded
  scan IPV4 < PACKETS.csv          "PACKETS-OF-THE-DEVICE FIRST-TIMESTAMP" of one
                                   capture (`sigex packets` CSV)
  events ACTIVITY [--absolute T0 ...]
                                   the events CSV: "+OFFSET,LABEL" rows, or with
                                   --absolute "EPOCH,LABEL" rows for every T0
  shift DEVICE IPV4 MAC FLOWS.csv T0 ACTIVITY
                                   the run's anchor shift (seconds; 0 when no anchor)
  report WORKDIR DEVICE...         the markdown report (see bench/README.md)
"""

import csv
import ipaddress
import json
import os
import re
import statistics
import sys

import yaml

RUNS = ["no-firewall", "base-firewall", "my-firewall"]

# The firewall's well-known addresses (src/translator/protocols/ip.py and arp.py).
IP_ALIASES = {
    "gateway": "192.168.1.1",
    "phone": "192.168.1.222",
    "broadcast": "255.255.255.255",
    "udp-broadcast": "192.168.1.255",
    "igmpv3": "224.0.0.22",
}
PHONE = IP_ALIASES["phone"]

csv.field_size_limit(1 << 24)


# ---------------------------------------------------------------- profiles

def load_expert(path):
    here = os.path.dirname(os.path.abspath(__file__))
    loaders = os.environ.get("SX_PYYAML_LOADERS") or os.path.join(
        here, "..", "..", "shared", "firewall", "pyyaml-loaders")
    sys.path.insert(0, loaders)
    from pyyaml_loaders import IncludeLoader  # the firewall's !include loader
    with open(path) as f:
        return yaml.load(f, IncludeLoader)


class _NoAliases(yaml.SafeDumper):
    def ignore_aliases(self, data):
        return True


def leaves(profile):
    """(name, policy) for every policy of single-policies and interactions, named as
    `sigex verify` names them: single#NAME, INTERACTION#NAME (nested groups flattened)."""
    out = []

    def walk(prefix, d):
        for k, v in (d or {}).items():
            if not isinstance(v, dict):
                continue
            if "protocols" in v:
                out.append((f"{prefix}#{k}", v))
            else:
                walk(prefix, v)

    for k, v in (profile.get("single-policies") or {}).items():
        if isinstance(v, dict) and "protocols" in v:
            out.append((f"single#{k}", v))
    for k, v in (profile.get("interactions") or {}).items():
        walk(k, v)
    return out


def as_list(v):
    if v is None:
        return []
    if isinstance(v, list):
        return [str(x) for x in v]
    return [x.strip() for x in str(v).split(",")] if "," in str(v) else [str(v)]


def norm_addr(a, self_addrs):
    a = str(a).strip().lower()
    if a in self_addrs or a == "self":
        return "self"
    return IP_ALIASES.get(a, a)


def is_ip(a):
    return re.fullmatch(r"[0-9.]+(/\d+)?|[0-9a-f:]+:[0-9a-f:]*(/\d+)?", a) is not None


def name_covers(pattern, name):
    """A name with $. or *. covers its subdomains (and itself)."""
    for w in ("$.", "*."):
        if pattern.startswith(w):
            base = pattern[len(w):]
            return name == base or name.endswith("." + base) or name == pattern
    return pattern == name


def prefix_covers(prefix, addr):
    """A prefix covers the addresses inside it (and the prefixes inside it), as a
    name with $. covers its subdomains."""
    try:
        return ipaddress.ip_network(addr, strict=False).subnet_of(
            ipaddress.ip_network(prefix, strict=False))
    except (ValueError, TypeError):
        return False


def addr_match(e, s):
    if e == s:
        return True
    if is_ip(e) and is_ip(s):
        return prefix_covers(e, s) or prefix_covers(s, e)
    if e == "external":
        return s == "external" or not s.startswith("192.168.") and s != "self"
    if e == "local":
        return s.startswith("192.168.") or s == "local"
    if s == "external":
        return not e.startswith("192.168.") and e != "self"
    if not is_ip(e) and not is_ip(s):
        return name_covers(e, s) or name_covers(s, e)
    return False


def any_match(es, ss):
    return any(addr_match(e, s) for e in es for s in ss)


def key_of(policy, self_addrs):
    p = policy.get("protocols") or {}
    if "arp" in p:
        a = p["arp"] or {}
        return {
            "kind": "arp",
            "type": str(a.get("type", "")).lower(),
            "spa": {norm_addr(x, self_addrs) for x in as_list(a.get("spa"))},
            "tpa": {norm_addr(x, self_addrs) for x in as_list(a.get("tpa"))},
        }
    transport = next((t for t in ("tcp", "udp", "icmp", "icmpv6", "igmp") if t in p),
                     None)
    if transport is None:
        transport = next((t for t in p if t not in ("ipv4", "ipv6", "ip4", "ip6")), "ip")
    tp = p.get(transport) if isinstance(p.get(transport), dict) else {}
    ports = set(as_list(tp.get("src-port"))) | set(as_list(tp.get("dst-port")))
    ip = p.get("ipv4") or p.get("ipv6") or p.get("ip4") or p.get("ip6") or {}
    ends = set()
    for k in ("src", "dst"):
        ends |= {norm_addr(x, self_addrs) for x in as_list(ip.get(k))}
    peers = (ends - {"self"}) or {"self"}
    names = set()
    for app in ("dns", "mdns"):
        if isinstance(p.get(app), dict):
            names |= {x.lower().rstrip(".") for x in as_list(p[app].get("domain-name"))}
    return {"kind": "ip", "transport": "icmp" if transport == "icmpv6" else transport,
            "ports": ports, "peers": peers, "names": names}


def recovers(e, s):
    """Whether sigex's policy s recovers the expert policy e."""
    if e["kind"] != s["kind"]:
        return False
    if e["kind"] == "arp":
        return (e["type"] == s["type"] and any_match(e["spa"], s["spa"])
                and any_match(e["tpa"], s["tpa"]))
    if e["transport"] != s["transport"]:
        return False
    if e["ports"] and not (e["ports"] & s["ports"]):
        return False
    if not any_match(e["peers"], s["peers"]):
        return False
    if e["names"] and not any(name_covers(a, b) or name_covers(b, a)
                              for a in e["names"] for b in s["names"]):
        return False
    return True


# ---------------------------------------------------------------- events

APPS = [("kasa", "kasa"), ("tp-link", "kasa"), ("smartthings", "st"), ("alexa", "alexa"),
        ("hue", "hue"), ("xiaomi", "xiaomi"), ("tuya", "tuya"), ("d-link", "dlink")]
ACTIONS = [
    (r"power on", "power-on"), (r"^(open|start) app", "open"),
    (r"turn on|^on$|enable", "on"), (r"turn off|^off$|disable", "off"),
    (r"intensity|brightness", "intensity"), (r"color|green", "color"),
    (r"stream camera with sound", "stream-sound"), (r"stream camera", "stream"),
    (r"microphone", "mic"), (r"screenshot", "screenshot"), (r"record video", "record"),
    (r"move camera", "move"), (r"motion", "motion"), (r"show status", "status"),
    (r"battery", "battery"),
]


def slug(text):
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def parse_activity(path):
    """[(offset, label)] in file order; events without a timestamp and events whose
    offset repeats an earlier one are left out (reported on standard error)."""
    net = app = ""
    out, seen = [], {}
    with open(path) as f:
        for line in f:
            s = line.strip()
            low = s.lower()
            m = re.match(r"^(?:\d+\.\s*)?(\d+)\s+(.*?)\s*-\s*timestamp\s*(\d*)\s*$", s, re.I)
            if not m:
                if re.match(r"^\d+\.\s", s):                 # section: network
                    net = ("lan" if "openwrt" in low else
                           "ext" if "outside" in low or "external" in low else
                           "voice" if "voice" in low else "")
                    app = "alexa" if net == "voice" else ""
                if re.match(r"^\d+\.\d+\.?\s", s) and "from" in low:   # app
                    app = next((v for k, v in APPS if k in low), slug(s.split("From")[-1]))
                continue
            what, offset = m.group(2).strip().strip('"'), m.group(3)
            act = next((v for k, v in ACTIONS if re.search(k, what.lower())), None)
            act = act or slug(" ".join(what.split()[:3]))
            if act == "power-on":
                label = "power-on"
            elif net == "voice":
                label = f"voice-{act}"
            else:
                label = "-".join(x for x in (app, net, act) if x)
            if not offset:
                print(f"{path}: '{what}' has no timestamp: left out", file=sys.stderr)
                continue
            offset = int(offset)
            if offset in seen:
                print(f"{path}: {label} at {offset} s repeats {seen[offset]}'s time: left out",
                      file=sys.stderr)
                continue
            base, n = label, 2
            while label in seen.values():
                label, n = f"{base}-{n}", n + 1
            seen[offset] = label
            out.append((offset, label))
    return out


# ---------------------------------------------------------------- anchors

def flows_of(path):
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            r["t"] = float(r["Timestamp"])
            yield r


def _is(ip, port=None, transport=None, init=None, resp=None, resp_port=None,
        min_packets=0, app=None, mac=None):
    def pred(r):
        ends = (r["DeviceIP"], r["OtherIP"])
        if transport and r["TransportProtocol"] != transport:
            return False
        if init == "dhcp":
            return (r["Protocol"] == "DHCP" and r["DeviceIP"] == "0.0.0.0"
                    and r["DeviceMac"].lower() == (mac or "").lower())
        if ip not in ends:
            return False
        if init and r["DeviceIP"] != init:
            return False
        if resp and r["OtherIP"] != resp:
            return False
        if resp_port and r["OtherPort"] != resp_port:
            return False
        if port and not ((r["DeviceIP"] == ip and r["DevicePort"] == port)
                         or (r["OtherIP"] == ip and r["OtherPort"] == port)):
            return False
        if int(r["nbPacket"] or 0) < min_packets:
            return False
        if app and not r["ApplicationSpecific"].startswith(app):
            return False
        return True
    return pred


def anchor_rules(device, ip, mac):
    """(label, predicate, burst): the event is at the first flow of the burst-th burst
    (flows 30 s apart or more start a new burst) of the flows the predicate accepts."""
    rules = [("power-on", _is(ip, init="dhcp", mac=mac), 0)]
    by_device = {
        "tplink-plug": [
            ("kasa-lan-open", _is(ip, transport="UDP", port="9999", init=ip, resp=PHONE), 0),
            ("kasa-lan-on", _is(ip, transport="TCP", init=PHONE, resp_port="9999"), 0),
            ("kasa-lan-off", _is(ip, transport="TCP", init=PHONE, resp_port="9999"), 1),
        ],
        "philips-hue": [
            ("hue-lan-open", _is(ip, transport="TCP", init=PHONE, resp_port="443"), 0),
            ("st-lan-open", _is(ip, transport="TCP", init=PHONE, resp_port="80"), 0),
        ],
        "xiaomi-cam": [
            ("xiaomi-lan-open", lambda r: {r["DeviceIP"], r["OtherIP"]} == {ip, PHONE}, 0),
        ],
        "tuya-motion": [
            ("tuya-lan-open", _is(ip, transport="TCP", init=PHONE, resp_port="6668"), 0),
        ],
        "smartthings-hub": [
            ("st-lan-open", _is(ip, transport="UDP", init=ip, resp=PHONE, resp_port="9"), 0),
        ],
        "dlink-cam": [
            ("dlink-lan-open", _is(ip, transport="TCP", init=PHONE, resp_port="8080"), 0),
            ("dlink-lan-stream", _is(ip, transport="UDP", init=ip, resp=PHONE,
                                     min_packets=100), 0),
            ("dlink-ext-stream", _is(ip, transport="UDP", init=ip, resp_port="53",
                                     app="A mp-eu-sas"), 1),
        ],
    }
    return rules + by_device.get(device, [])


def find_anchors(flows, t0, rules):
    found = {}
    for label, pred, burst in rules:
        times = sorted(r["t"] for r in flows if pred(r))
        starts = [t for i, t in enumerate(times) if i == 0 or t - times[i - 1] >= 30]
        if len(starts) > burst:
            found[label] = starts[burst] - t0
    return found


# ---------------------------------------------------------------- report

def fmt_shift(x):
    return "-" if x is None else f"{x:+.1f}"


def device_report(work, device):
    d = os.path.join(work, device)
    meta = json.load(open(os.path.join(d, "meta.json")))
    self_addrs = {meta["ipv4"].lower(), meta["mac"].lower()}
    expert = yaml.safe_load(open(os.path.join(d, "expert.yaml")))
    hits = {}
    with open(os.path.join(d, "verify.csv"), newline="") as f:
        for r in csv.DictReader(f):
            if r["record"] == "policy":
                name = r["name"][:-len("-backward")] if r["name"].endswith("-backward") \
                    else r["name"]
                hits[name] = hits.get(name, 0) + int(r["packets"] or 0)
    sig_path = os.path.join(d, "sigex", "profile.yaml")
    sig = yaml.safe_load(open(sig_path)) if os.path.exists(sig_path) else {}
    sig_keys = [(n, key_of(p, self_addrs)) for n, p in leaves(sig or {})]

    rows = []
    for name, pol in leaves(expert):
        k = key_of(pol, self_addrs)
        present = hits.get(name, 0) > 0
        by = [n for n, s in sig_keys if recovers(k, s)] if present else []
        rows.append({"name": name, "kind": k["kind"], "present": present,
                     "hits": hits.get(name, 0), "by": by})

    offsets = dict((lab, off) for off, lab in meta["events"])
    anchors = {}
    for run in meta["runs"]:
        fl = os.path.join(d, f"flows-{run['run']}.csv")
        if not os.path.exists(fl):
            continue
        found = find_anchors(list(flows_of(fl)), run["t0"],
                             anchor_rules(device, meta["ipv4"], meta["mac"]))
        anchors[run["run"]] = {lab: (t, t - offsets[lab]) for lab, t in found.items()
                               if lab in offsets}
    return meta, rows, sig_keys, anchors


def report(work, devices):
    out = []
    total = [0, 0, 0, 0]  # present, recovered, present ARP, recovered ARP
    summary, details, modes = [], [], set()
    for device in devices:
        meta, rows, sig_keys, anchors = device_report(work, device)
        modes.add(meta["events_mode"])
        present = [r for r in rows if r["present"]]
        rec = [r for r in present if r["by"]]
        parp = [r for r in present if r["kind"] == "arp"]
        rarp = [r for r in rec if r["kind"] == "arp"]
        total = [a + b for a, b in zip(total, map(len, (present, rec, parp, rarp)))]
        shifts = []
        for run in RUNS:
            a = anchors.get(run, {})
            inter = [s for lab, (_, s) in a.items() if lab != "power-on"]
            if inter:
                shifts.append(fmt_shift(statistics.median(inter)))
            elif "power-on" in a:
                shifts.append(fmt_shift(a["power-on"][1]) + " (p)")
            else:
                shifts.append("-")
        found = []  # the shift sigex's alignment found per run, from its standard output
        try:
            with open(os.path.join(work, device, "sigex.out")) as f:
                lines = [l for l in f if l.startswith("Events aligned: ")]
        except OSError:
            lines = []
        for run in RUNS:
            m = [re.search(r": ([-+][0-9.]+) s, ([0-9]+) of ([0-9]+) near", l)
                 for l in lines if f"/{run}/" in l]
            m = [x for x in m if x]
            found.append(f"{float(m[0].group(1)):+.1f} ({m[0].group(2)}/{m[0].group(3)})"
                         if m else "-")
        caps = ", ".join(f"{r['run']}/{r['capture']}" for r in meta["runs"])
        pct = f"{100 * len(rec) / len(present):.0f} %" if present else "-"
        summary.append(f"| {device} | {caps} | {len(rows)} | {len(present)} | {len(rec)} "
                       f"| {pct} | {len(rarp)}/{len(parp)} | {len(sig_keys)} "
                       f"| {meta['sigex_status']} | {' / '.join(shifts)} "
                       f"| {' / '.join(found)} |")
        details.append(f"\n### {device}\n")
        details.append(f"Device {meta['ipv4']} ({meta['mac']}); events: "
                       f"{len(meta['events'])} labels ({meta['events_mode']}); sigex: "
                       f"`{meta['sigex_cmd']}`\n")
        details.append("| expert policy | kind | packets (verify) | recovered by |")
        details.append("|---|---|---|---|")
        for r in present:
            details.append(f"| {r['name']} | {r['kind']} | {r['hits']} "
                           f"| {', '.join(r['by']) if r['by'] else '**missed**'} |")
        absent = [r["name"] for r in rows if not r["present"]]
        if absent:
            details.append(f"\nNot present in the captures: {', '.join(absent)}\n")
        details.append("\nAnchors (seconds after the capture's first packet; shift = "
                       "anchor - scripted offset):\n")
        details.append("| run | capture | event | scripted | anchor | shift |")
        details.append("|---|---|---|---|---|---|")
        offsets = dict((lab, off) for off, lab in meta["events"])
        for run in meta["runs"]:
            a = anchors.get(run["run"], {})
            if not a:
                details.append(f"| {run['run']} | {run['capture']} | (none found) | | | |")
            for lab, (t, s) in sorted(a.items(), key=lambda x: x[1][0]):
                details.append(f"| {run['run']} | {run['capture']} | {lab} | {offsets[lab]} "
                               f"| {t:.1f} | {s:+.1f} |")
    out.append("## sigex against the expert profiles (testbed, eval/latency)\n")
    out.append(f"Events: {', '.join(sorted(modes))} (bench/testbed.sh --events); a policy is "
               "present when `sigex verify --stateless` counts hits for it over the same "
               "captures.\n")
    out.append("| device | capture per run | expert policies | present | recovered | recall "
               "| ARP recovered/present | sigex policies | sigex | anchor shift no / base / my "
               "(s) | sigex's shift (matched/events) no / base / my |")
    out.append("|---|---|---|---|---|---|---|---|---|---|---|")
    out += summary
    pct = f"{100 * total[1] / total[0]:.1f} %" if total[0] else "-"
    nonarp = total[0] - total[2]
    pct2 = f"{100 * (total[1] - total[3]) / nonarp:.1f} %" if nonarp else "-"
    overall = (f"\n**Overall: {total[1]} of {total[0]} present expert policies recovered "
               f"({pct}); without ARP {total[1] - total[3]} of {nonarp} ({pct2}); ARP "
               f"{total[3]} of {total[2]}.**")
    out.append(overall)
    out.append("\nAnchor shift: the median over the run's anchored interactions of (anchor "
               "time - scripted offset), in seconds after the capture's first packet; "
               "(p): only the power-on anchor (the first DHCP request of the device's MAC), "
               "which often disagrees with the interactions.")
    out.append("\n## Per device\n")
    out += details
    print("\n".join(out))
    print(overall.strip().strip("*"), file=sys.stderr)


# ---------------------------------------------------------------- main

def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    cmd, args = argv[1], argv[2:]
    if cmd == "info":
        di = load_expert(args[0])["device-info"]
        print(di.get("ipv4", ""), di.get("mac", ""))
    elif cmd == "expand":
        yaml.dump(load_expert(args[0]), sys.stdout, Dumper=_NoAliases, sort_keys=False)
    elif cmd == "scan":
        ip, n, first = args[0], 0, ""
        for r in csv.DictReader(sys.stdin):
            first = first or r["Timestamp"]
            n += ip in (r["Src"], r["Dst"])
        print(n, first or "-")
    elif cmd == "events":
        ev = parse_activity(args[0])
        if len(args) > 1 and args[1] == "--absolute":
            for t0 in args[2:]:
                for off, lab in ev:
                    print(f"{float(t0) + off:.6f},{lab}")
        else:
            for off, lab in ev:
                print(f"+{off},{lab}")
    elif cmd == "shift":   # DEVICE IPV4 MAC FLOWS.csv T0 ACTIVITY: the run's anchor shift
        device, ip, mac, flows, t0, activity = args
        offsets = dict((lab, off) for off, lab in parse_activity(activity))
        found = find_anchors(list(flows_of(flows)), float(t0), anchor_rules(device, ip, mac))
        inter = [t - offsets[lab] for lab, t in found.items()
                 if lab in offsets and lab != "power-on"]
        if not inter and "power-on" in found and "power-on" in offsets:
            inter = [found["power-on"] - offsets["power-on"]]
        print(f"{statistics.median(inter):.3f}" if inter else "0")
    elif cmd == "labels":
        print(json.dumps(parse_activity(args[0])))
    elif cmd == "report":
        report(args[0], args[1:])
    else:
        sys.exit(f"unknown subcommand {cmd}\n{__doc__}")


if __name__ == "__main__":
    main(sys.argv)
