#!/usr/bin/env python3
"""Checks of `rootfs-fuse du --json` output for tests/integration/du.sh.

usage: du_check.py JSON CHECK [ARGS...] [-- CHECK [ARGS...]]...; exits non-zero with a message
on the first failure. The check "file JSON" switches to another report. One process runs several checks: python starts slowly on a loaded CI."""
import json
import re
import sys


def leaves(node):
    kids = node.get("children")
    if not kids:
        yield node
        return
    for k in kids:
        yield from leaves(k)


def walk(node):
    yield node
    for k in node.get("children", []):
        yield from walk(k)


def fail(msg):
    print("du_check: " + msg, file=sys.stderr)
    sys.exit(1)


def main():
    d = json.load(open(sys.argv[1]))
    groups, cur = [], []
    for a in sys.argv[2:]:
        if a == "--":
            groups.append(cur)
            cur = []
        else:
            cur.append(a)
    groups.append(cur)
    for g in groups:
        if g[0] == "file":  # the checks after this one are on another JSON file
            d = json.load(open(g[1]))
            continue
        try:
            run(d, g[0], g[1:])
        except SystemExit:
            print("du_check: (in %s)" % d.get("target"), file=sys.stderr)
            raise


def run(d, check, args):
    t = d["tree"]
    files = [n for n in leaves(t) if n["type"] == "file"]
    meta = [n for n in leaves(t) if n["type"] == "meta"]
    if check == "totals":
        stream, file_sizes, file_bytes = map(int, args)
        if t["size"] != stream or d["stream_bytes"] != stream:
            fail("root %d / stream %d != uncompressed stream %d" % (t["size"], d["stream_bytes"], stream))
        got = sum(n["size"] for n in files)
        if got != file_sizes:
            fail("sum of entry sizes %d != sum of file sizes %d" % (got, file_sizes))
        comp = sum(n["compressed"] for n in files) + sum(n["compressed"] for n in meta)
        if comp != file_bytes or t["compressed"] != file_bytes or d["file_bytes"] != file_bytes:
            fail("compressed %d (root %d) != file size %d" % (comp, t["compressed"], file_bytes))
        if not any(n["name"] == "(cpio headers and padding)" for n in meta):
            fail("no headers and padding line")
        # every directory is the sum of its children
        for n in walk(t):
            if n.get("children"):
                s = sum(k["size"] for k in n["children"])
                c = sum(k["compressed"] for k in n["children"])
                if s > n["size"] or c != n["compressed"]:
                    fail("%s: children do not add up" % n["path"])
    elif check == "image-costs":  # FILE_BYTES: an ISO's entries and metadata line add up to it
        file_bytes = int(args[0])
        if not d["has_compressed"] or d["file_bytes"] != file_bytes or t["compressed"] != file_bytes:
            fail("image bytes %s (root %s) != file size %d" % (d["file_bytes"], t["compressed"], file_bytes))
        names = [n["name"] for n in meta]
        if names != ["(ISO 9660 metadata and padding)"]:
            fail("metadata lines %s" % names)
        got = sum(n["compressed"] for n in files) + sum(n["compressed"] for n in meta)
        if got != file_bytes:
            fail("entries %d + metadata %d != file size %d" % (got - meta[0]["compressed"], meta[0]["compressed"], file_bytes))
        for n in files:  # whole 2048-byte blocks (none for a symlink or a hard link's second name)
            if n["compressed"] % 2048:
                fail("%s costs %d bytes, not whole blocks" % (n["path"], n["compressed"]))
        for n in walk(t):
            if n.get("children") and sum(k["compressed"] for k in n["children"]) != n["compressed"]:
                fail("%s: children do not add up" % n["path"])
    elif check == "cost":  # PATH MIN MAX: compressed bytes of PATH within [MIN, MAX]
        p, lo, hi = args[0], int(args[1]), int(args[2])
        n = [x for x in walk(t) if x["path"] == p]
        if not n:
            fail("%s not in the report" % p)
        if not lo <= n[0]["compressed"] <= hi:
            fail("%s costs %d compressed bytes, expected %d..%d" % (p, n[0]["compressed"], lo, hi))
    elif check == "size":  # PATH SIZE
        n = [x for x in walk(t) if x["path"] == args[0]]
        if not n or n[0]["size"] != int(args[1]):
            fail("%s: size %s, expected %s" % (args[0], n[0]["size"] if n else "absent", args[1]))
    elif check == "partial":  # WORD: partial_error mentions WORD
        if args[0] not in d.get("partial_error", ""):
            fail("partial_error %r lacks %r" % (d.get("partial_error"), args[0]))
    elif check == "absent":
        if any(x["path"] == args[0] for x in walk(t)):
            fail("%s is in the report" % args[0])
    elif check == "segments":  # COMPRESSION...
        got = [s["compression"] for s in d["segments"]]
        if got != args:
            fail("segments %s, expected %s" % (got, args))
    elif check == "sorted":
        key = "compressed" if d["has_compressed"] else "size"
        for n in walk(t):
            v = [k[key] for k in n.get("children", []) if k["type"] != "more"]
            if v != sorted(v, reverse=True):
                fail("%s: children not sorted largest first" % n["path"])
    elif check == "by-layer":  # LS_LONG_FILE: every path of `ls --long` once, sizes add up
        ls = {}
        for line in open(args[0]):
            body, _, layer = line.rstrip("\n").partition("\t")
            f = body.split(" ")
            path = f[4]
            if path == "/":
                continue
            size = int(f[3]) if f[0][0] in "-l" else 0
            ls[path] = (size, layer)
        seen = {}
        for g in t.get("children", []):
            if g["type"] != "group":
                fail("top level %s is not a layer group" % g["path"])
            for n in walk(g):
                if n is g or n["type"] == "group":
                    continue
                # strip the group and any sub-group (a binary or module inside its layer)
                p = re.sub(r"^(\[[^\]]*\]/?)+", "", n["path"])
                p = p if p.startswith("/") else "/" + p
                if n["type"] == "file" or not n.get("children"):
                    if p in seen:
                        fail("%s counted in %s and %s" % (p, seen[p], g["name"]))
                    seen[p] = g["name"]
        files = {p: v for p, v in ls.items()}
        missing = [p for p, (s, _) in files.items() if p not in seen and s]
        if missing:
            fail("not attributed: %s" % missing[:5])
        for p, grp in seen.items():
            if p in files and files[p][1] != grp and files[p][1] != "(implied)":
                fail("%s attributed to %s, ls says %s" % (p, grp, files[p][1]))
        total = sum(s for s, _ in ls.values())
        if t["size"] != total:
            fail("total %d != sum of ls sizes %d" % (t["size"], total))
        if sum(g["size"] for g in t["children"]) != total:
            fail("groups do not add up to the total")
    else:
        fail("unknown check " + check)


main()
