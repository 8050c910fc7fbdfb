#!/usr/bin/env bash
# Speed of `rootfs-fuse du` on an initramfs: the distribution's own initrd (or FILE) and a
# synthetic archive of 100000 small files in one directory (the per-entry cost). Not a test.
# usage: bench/du.sh [ROOTFS_FUSE] [INITRD]
set -euo pipefail
RF=${1:-$(dirname "$0")/../build/cli/rootfs-fuse}
initrd=${2:-$(ls /boot/initrd.img-* 2>/dev/null | sort -V | tail -n 1)}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
run() { # label, command...
	local best=999999 s e ms
	for _ in 1 2 3; do
		s=$(date +%s%N)
		"$@" >/dev/null
		e=$(date +%s%N)
		ms=$(((e - s) / 1000000))
		[ "$ms" -lt "$best" ] && best=$ms
	done
	printf '%-60s %6d ms (best of 3)\n' "$LABEL" "$best"
}
if [ -n "$initrd" ] && [ -r "$initrd" ]; then
	LABEL="du $(basename "$initrd") ($(stat -c %s "$initrd") bytes)" run "$RF" du "$initrd"
	LABEL="du --json" run "$RF" du --json "$initrd"
	# diff reads both sides with content digests (XXH3-64 of every file): twice a du plus hashing
	LABEL="diff INITRD INITRD (two reads, digests)" run "$RF" diff "$initrd" "$initrd"
	LABEL="zstd/gzip -dc | wc -c (decompression alone)" run sh -c \
		"(zstd -dc '$initrd' 2>/dev/null || gzip -dc '$initrd') | wc -c"
fi
python3 - "$T/many.cpio" <<'PY'
import sys
out = bytearray()
def ent(name, mode, data=b""):
    nb = name.encode() + b"\0"
    out.extend(b"070701" + b"".join(b"%08X" % v for v in
               [1, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(nb), 0]) + nb)
    out.extend(b"\0" * (-len(out) % 4) + data)
    out.extend(b"\0" * (-len(out) % 4))
ent("d", 0o40755)
for i in range(100000):
    ent("d/f%06d" % i, 0o100644, b"x" * (i % 50))
ent("TRAILER!!!", 0)
open(sys.argv[1], "wb").write(out)
PY
gzip -1 -c "$T/many.cpio" >"$T/many.cpio.gz"
LABEL="du of 100000 files in one directory (gzip)" run "$RF" du "$T/many.cpio.gz"
