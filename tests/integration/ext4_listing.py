#!/usr/bin/env python3
"""List an ext4 image through debugfs (e2fsprogs) in the format of `rootfs-fuse ls --long
--hash` (without the layer column): MODE UID GID SIZE HASH /PATH[ -> TARGET], sorted.

usage: ext4_listing.py IMAGE WORKDIR > listing
Directories are walked with `ls -p`, device numbers and fast symlink targets come from `stat`,
slow symlink targets from `cat` (inodes named <INO>, so no path lookup rescans a large linear
directory), and regular file contents are dumped (one copy per inode) and
hashed with `xxhsum -H2` (XXH3-128, as ls --hash); files over 64 MiB are hashed through a pipe
from `debugfs cat`, so a sparse file is never written out. /lost+found is left out (mkfs adds
it)."""
import os
import re
import stat
import subprocess
import sys

BIG = 64 << 20


def debugfs(image, cmds, workdir):
    """Run commands in one debugfs; return {command: output lines}."""
    path = os.path.join(workdir, "cmds")
    with open(path, "w", encoding="utf-8", errors="surrogateescape") as f:
        for c in cmds:
            f.write(c + "\n")
    r = subprocess.run(["debugfs", "-f", path, image], capture_output=True, check=True)
    text = r.stdout.decode("utf-8", "surrogateescape")
    # debugfs echoes each command; `cat` output has no newline of its own, so outputs are cut
    # at the next echo rather than by lines
    marks, pos = [], 0
    for c in cmds:
        m = "debugfs: " + c + "\n"
        i = text.index(m, pos)
        marks.append((c, i, i + len(m)))
        pos = i + len(m)
    out = {}
    for k, (c, _, start) in enumerate(marks):
        end = marks[k + 1][1] if k + 1 < len(marks) else len(text)
        out[c] = text[start:end]
    return out


def q(p):
    return '"' + p + '"'


def main():
    image, workdir = sys.argv[1], sys.argv[2]
    entries = {}  # path -> (ino, mode, uid, gid, size)
    level = ["/"]
    while level:
        res = debugfs(image, [f"ls -p {q(d)}" for d in level], workdir)
        nxt = []
        for d in level:
            for line in res[f"ls -p {q(d)}"].split("\n"):
                f = line.split("/")
                if len(f) < 7 or f[5] in (".", ".."):
                    continue
                ino, mode, uid, gid, name, size = int(f[1]), int(f[2], 8), f[3], f[4], f[5], f[6]
                p = (d.rstrip("/") + "/" + name)
                if p == "/lost+found":
                    continue
                entries[p] = (ino, mode, uid, gid, size)
                if stat.S_ISDIR(mode):
                    nxt.append(p)
        level = nxt
    cmds, dumped = [], {}
    for p, (ino, mode, uid, gid, size) in entries.items():
        if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) or stat.S_ISLNK(mode):
            cmds.append(f"stat <{ino}>")
            if stat.S_ISLNK(mode):
                cmds.append(f"cat <{ino}>")
        elif stat.S_ISREG(mode) and int(size) <= BIG and ino not in dumped:
            dumped[ino] = os.path.join(workdir, f"i{ino}")
            cmds.append(f"dump <{ino}> {dumped[ino]}")
    res = debugfs(image, cmds, workdir) if cmds else {}
    hashes = {}
    files = list(dumped.values())
    for i in range(0, len(files), 2000):
        r = subprocess.run(["xxhsum", "-H2"] + files[i:i + 2000], capture_output=True,
                           text=True, check=True)
        for line in r.stdout.splitlines():
            h, fn = line.split(None, 1)
            hashes[fn.strip()] = h
    lines = []
    for p, (ino, mode, uid, gid, size) in entries.items():
        h, target, sz = "-", None, size
        if stat.S_ISDIR(mode):
            sz = "0"
        elif stat.S_ISREG(mode):
            if ino in dumped:
                h = hashes[dumped[ino]]
            else:
                cat = subprocess.Popen(["debugfs", "-R", f"cat <{ino}>", image],
                                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
                r = subprocess.run(["xxhsum", "-H2", "-"], stdin=cat.stdout,
                                   capture_output=True, text=True, check=True)
                cat.wait()
                h = r.stdout.split()[0]
        elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
            for line in res[f"stat <{ino}>"].split("\n"):
                m = re.search(r"Device major/minor number: (\d+):(\d+)", line)
                if m:
                    sz = f"{int(m[1])},{int(m[2])}"
        elif stat.S_ISLNK(mode):
            for line in res[f"stat <{ino}>"].split("\n"):
                m = re.match(r'Fast link dest: "(.*)"$', line)
                if m:
                    target = m[1]
            if target is None:
                target = res[f"cat <{ino}>"]
            sz = str(len(target.encode("utf-8", "surrogateescape")))
        s = f"{stat.filemode(mode)} {uid} {gid} {sz} {h} {p}"
        if target is not None:
            s += " -> " + target
        lines.append(s)
    for s in sorted(lines):
        print(s)


if __name__ == "__main__":
    main()
