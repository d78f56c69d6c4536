"""Generate N DNS queries as a Zeek dns.log (TSV, Zeek 6 columns) for throughput benchmarks, or
(``--format``) as a Zeek JSON dns.log, a BIND 9 query log or dnsmasq ``log-queries`` lines.

About 0.5 % of the queries are for domains of restricted vendors (Kaspersky, Huawei, ZTE,
Hikvision, ByteDance/TikTok, DeepSeek; names from the project's signature research), the rest
for ordinary names.  The queries are the same for the same ``--lines`` and ``--seed`` in every
format.  The dnsmasq log also has the ``forwarded`` and ``reply`` lines dnsmasq writes, for every
third query (so it has more lines than queries).

    python bench/gen_dns_log.py --lines 1000000 -o /tmp/dns.log
    python bench/gen_dns_log.py --lines 1000000 --format bind -o /tmp/queries.log
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time

RESTRICTED = [
    "dc1.ksn.kaspersky-labs.com", "ksn-cinfo-geo.kaspersky-labs.com", "products.s.kaspersky-labs.com",
    "ksn-crypto-verdict-geo.kaspersky-labs.com", "activation-v2.kaspersky.com", "crl.kaspersky.com",
    "dnl-07.geo.kaspersky.com", "ksn-cinfo.geoksn.kaspersky.com", "aes.kaspersky-labs.com",
    "api.hik-connect.com", "apiieu.hik-connect.com", "www.hikvision.com", "open.ys7.com", "www.ezviz.com",
    "api16-normal-c-useast1a.tiktokv.com", "mon.tiktokv.com", "log.tiktokv.com", "v16m.tiktokcdn.com",
    "p16-sign-va.tiktokcdn.com", "www.tiktok.com", "sf16-website-login.neutral.ttwstatic.com",
    "consumer.huawei.com", "update.hicloud.com", "query.hicloud.com", "appgallery.cloud.huawei.com",
    "www.zte.com.cn", "support.zte.com.cn", "chat.deepseek.com", "api.deepseek.com",
    "www.dahuasecurity.com", "lf16-tiktok-web.tiktokcdn-us.com", "mcs.bytedance.net",
]
ORDINARY = [
    "www.google.com", "clients4.google.com", "fonts.gstatic.com", "www.googleapis.com",
    "outlook.office365.com", "login.microsoftonline.com", "graph.microsoft.com",
    "settings-win.data.microsoft.com", "ctldl.windowsupdate.com", "dns.msftncsi.com",
    "www.amazon.com", "s3.amazonaws.com", "d1a2b3c4d5e6f7.cloudfront.net", "api.github.com",
    "github.com", "objects.githubusercontent.com", "pypi.org", "files.pythonhosted.org",
    "registry.npmjs.org", "www.wikipedia.org", "en.wikipedia.org", "upload.wikimedia.org",
    "slack.com", "edgeapi.slack.com", "zoom.us", "us04web.zoom.us", "teams.microsoft.com",
    "www.bbc.co.uk", "static.xx.fbcdn.net", "www.linkedin.com", "ocsp.digicert.com",
    "crl3.digicert.com", "ocsp.pki.goog", "time.windows.com", "ntp.ubuntu.com",
    "archive.ubuntu.com", "security.debian.org", "deb.debian.org", "apt.releases.hashicorp.com",
    "dc01.corp.example.net", "_ldap._tcp.dc._msdcs.corp.example.net", "fileserver.corp.example.net",
    "wpad.corp.example.net", "intranet.corp.example.net", "mail.corp.example.net",
]
QTYPES = [(1, "A"), (28, "AAAA"), (5, "CNAME"), (33, "SRV"), (12, "PTR"), (16, "TXT")]

HEADER = (
    "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tdns\n"
    "#open\t2024-05-01-00-00-00\n"
    "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\ttrans_id\trtt\tquery\tqclass"
    "\tqclass_name\tqtype\tqtype_name\trcode\trcode_name\tAA\tTC\tRD\tRA\tZ\tanswers\tTTLs\trejected\n"
    "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tcount\tinterval\tstring\tcount\tstring\tcount"
    "\tstring\tcount\tstring\tbool\tbool\tbool\tbool\tcount\tvector[string]\tvector[interval]\tbool\n"
)
_UID = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
FORMATS = ("zeek", "zeek-json", "bind", "dnsmasq")


def generate(lines: int, seed: int, out, fmt: str = "zeek") -> int:
    rnd = random.Random(seed)
    clients = [f"10.{rnd.randrange(1, 40)}.{rnd.randrange(0, 255)}.{rnd.randrange(2, 254)}" for _ in range(2000)]
    resolvers = ["10.0.0.53", "10.0.0.54"]
    if fmt == "zeek":
        out.write(HEADER)
    ts = 1714521600.0
    n_restricted = 0
    buf = []
    for _ in range(lines):
        ts += rnd.expovariate(400.0)
        if rnd.random() < 0.005:
            q = rnd.choice(RESTRICTED)
            n_restricted += 1
        else:
            q = rnd.choice(ORDINARY)
            if rnd.random() < 0.3:
                q = f"h{rnd.randrange(100000)}.{q}" if q.count(".") < 3 else q
        qt, qn = rnd.choice(QTYPES) if rnd.random() < 0.2 else QTYPES[0]
        uid = "C" + "".join(rnd.choice(_UID) for _ in range(17))
        if rnd.random() < 0.9:
            ans = f"{rnd.randrange(1, 223)}.{rnd.randrange(256)}.{rnd.randrange(256)}.{rnd.randrange(1, 255)}"
            ttl = f"{rnd.randrange(30, 3600)}.000000"
            rc, rcn = 0, "NOERROR"
            rtt = f"{rnd.random() / 20:.6f}"
        else:
            ans, ttl, rc, rcn, rtt = "-", "-", 3, "NXDOMAIN", f"{rnd.random() / 20:.6f}"
        client, port, resolver, trans = rnd.choice(clients), rnd.randrange(1024, 65535), rnd.choice(resolvers), \
            rnd.randrange(65536)
        if fmt == "zeek":
            buf.append(
                f"{ts:.6f}\t{uid}\t{client}\t{port}\t{resolver}\t53\tudp\t{trans}\t{rtt}\t{q}\t1\tC_INTERNET\t{qt}"
                f"\t{qn}\t{rc}\t{rcn}\tF\tF\tT\tT\t0\t{ans}\t{ttl}\tF\n"
            )
        elif fmt == "zeek-json":  # as Zeek's JSON writer: unset fields left out, vectors as arrays
            rec = {"ts": round(ts, 6), "uid": uid, "id.orig_h": client, "id.orig_p": port, "id.resp_h": resolver,
                   "id.resp_p": 53, "proto": "udp", "trans_id": trans, "rtt": float(rtt), "query": q, "qclass": 1,
                   "qclass_name": "C_INTERNET", "qtype": qt, "qtype_name": qn, "rcode": rc, "rcode_name": rcn,
                   "AA": False, "TC": False, "RD": True, "RA": True, "Z": 0}
            if ans != "-":
                rec["answers"], rec["TTLs"] = [ans], [float(ttl)]
            rec["rejected"] = False
            buf.append(json.dumps(rec, separators=(",", ":")) + "\n")
        else:
            clock = time.strftime("%H:%M:%S", time.gmtime(ts))
            if fmt == "bind":
                buf.append(f"01-May-2024 {clock}.{int(ts * 1000) % 1000:03d} queries: info: client @0x7f3a2c0a8b60 "
                           f"{client}#{port} ({q}): query: {q} IN {qn} +E(0)K ({resolver})\n")
            else:
                buf.append(f"May  1 {clock} dnsmasq[1234]: query[{qn}] {q} from {client}\n")
                if trans % 3 == 0:
                    buf.append(f"May  1 {clock} dnsmasq[1234]: forwarded {q} to {resolver}\n")
                    buf.append(f"May  1 {clock} dnsmasq[1234]: reply {q} is "
                               f"{ans if ans != '-' else 'NXDOMAIN'}\n")
        if len(buf) >= 10000:
            out.write("".join(buf))
            buf.clear()
    out.write("".join(buf))
    if fmt == "zeek":
        out.write("#close\t2024-05-01-23-59-59\n")
    return n_restricted


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", "-n", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=20240501)
    ap.add_argument("--output", "-o", default="-")
    ap.add_argument("--format", choices=FORMATS, default="zeek")
    a = ap.parse_args(argv)
    if a.output == "-":
        n = generate(a.lines, a.seed, sys.stdout, a.format)
    else:
        with open(a.output, "w", encoding="utf-8", newline="\n") as fh:
            n = generate(a.lines, a.seed, fh, a.format)
    print(f"{a.lines} queries ({a.format}), {n} restricted-vendor queries", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
