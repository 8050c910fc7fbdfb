#!/usr/bin/env python3
"""Compare `rootfs-fuse ls --hash` with a `cpio -t -v --numeric-uid-gid` or `bsdtar -t -v
--numeric-owner` listing of an export, and with the content hashes of an extraction.

usage: listing_compare.py LS_HASH_FILE LISTING_FILE [EXTRACT_DIR]
Exits 1 listing every difference (path, type+mode, uid, gid, size, device numbers, link
target; and with EXTRACT_DIR the XXH3-128 of every regular file, via xxhsum -H2)."""
import os
import re
import subprocess
import sys


def parse_ls(path):
    """Lines: MODE UID GID SIZE HASH /PATH[ -> TARGET]\tLAYER"""
    out = {}
    for line in open(path, encoding="utf-8", errors="surrogateescape"):
        line = line.rstrip("\n").split("\t")[0]
        mode, uid, gid, size, h, rest = line.split(" ", 5)
        target = None
        if mode[0] == "l":
            rest, target = rest.split(" -> ", 1)
        p = rest.lstrip("/")
        if not p:
            continue  # the root is not an archive entry
        out[p] = dict(mode=mode, uid=uid, gid=gid, size=size, hash=h, target=target)
    return out


LIST_RE = re.compile(
    r"^(?P<mode>\S{10})\s+(?P<nlink>\d+)\s+(?P<uid>\d+)\s+(?P<gid>\d+)\s+"
    r"(?:(?P<maj>\d+),\s*(?P<min>\d+)|(?P<size>\d+))\s+"
    r"(?P<date>\S+\s+\S+\s+\S+)\s(?P<name>.*)$")


def parse_listing(path):
    out = {}
    for line in open(path, encoding="utf-8", errors="surrogateescape"):
        line = line.rstrip("\n")
        if not line or line.endswith(" blocks"):
            continue
        m = LIST_RE.match(line)
        if not m:
            raise SystemExit(f"unparsed listing line: {line!r}")
        name, target = m["name"], None
        if m["mode"][0] == "l":
            name, target = name.split(" -> ", 1)
        elif m["mode"][0] == "-" and int(m["nlink"]) > 1 and " link to " in name:
            name = name.split(" link to ", 1)[0]  # bsdtar: a later member of a hard-link group
        name = name.lstrip("./") if name.startswith("./") else name
        size = f"{m['maj']},{m['min']}" if m["maj"] is not None else m["size"]
        out[name] = dict(mode=m["mode"], uid=m["uid"], gid=m["gid"], size=size,
                         target=target, nlink=int(m["nlink"]))
    return out


def xxh(path):
    r = subprocess.run(["xxhsum", "-H2", path], capture_output=True, text=True, check=True)
    return r.stdout.split()[0]


def main():
    ls = parse_ls(sys.argv[1])
    lst = parse_listing(sys.argv[2])
    extract = sys.argv[3] if len(sys.argv) > 3 else None
    bad = []
    for p in sorted(set(ls) | set(lst)):
        a, b = ls.get(p), lst.get(p)
        if a is None or b is None:
            bad.append(f"{p}: only in {'listing' if a is None else 'ls'}")
            continue
        for k in ("mode", "uid", "gid", "size", "target"):
            if a[k] != b[k]:
                # hard links other than the last carry no data in newc: size 0
                if k == "size" and b[k] == "0" and a["mode"][0] == "-" and b["nlink"] > 1:
                    continue
                bad.append(f"{p}: {k} {a[k]!r} in ls, {b[k]!r} in the listing")
        if extract and a["mode"][0] == "-":
            f = os.path.join(extract, p)
            if not os.path.isfile(f):
                bad.append(f"{p}: not extracted")
            elif xxh(f) != a["hash"]:
                bad.append(f"{p}: content hash differs")
    for line in bad:
        print(line)
    print(f"{len(ls)} entries compared, {len(bad)} differences")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
