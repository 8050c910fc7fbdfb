#!/usr/bin/env bash
# Speed of `rootfs-fuse du` on an initramfs: the distribution's own initrd (or FILE) and a
# synthetic archive of 100000 small files in one directory (the per-entry cost); on an ISO:
# our export of every module of the installed kernel (lib/modules/V/kernel/... is deeper than
# ISO 9660's 8 levels: Rock Ridge relocates it), read through libisofs. Not a test.
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

# every module of the installed kernel (with the modules.* indexes) exported to an ISO
kver=$(ls /lib/modules 2>/dev/null | sort -V | tail -n 1)
if [ -n "$kver" ] && [ -n "$(find "/lib/modules/$kver" -name '*.ko*' -print -quit)" ]; then
	# a SPEC line holds at most 256 fields: 100 module names a line
	find "/lib/modules/$kver" -name '*.ko*' -printf '%f\n' | sed 's/\.ko.*//' | sort -u |
		xargs -n 100 echo "modules /lib/modules/$kver" >"$T/mods.spec"
	"$RF" export "$T/mods.spec" -o "$T/mods.iso" --quiet
	n=$("$RF" du --json "$T/mods.iso" | python3 -c 'import json,sys;print(json.load(sys.stdin)["tree"]["entries"])')
	LABEL="du of an ISO of all $kver modules ($(stat -c %s "$T/mods.iso") bytes, $n entries)" \
		run "$RF" du "$T/mods.iso"
	LABEL="diff ISO ISO (two reads, digests)" run "$RF" diff "$T/mods.iso" "$T/mods.iso"
	LABEL="diff SPEC ISO (the view and the image, digests)" run "$RF" diff "$T/mods.spec" "$T/mods.iso"
	LABEL="xorriso -find / (listing alone, for scale)" run \
		sh -c "xorriso -indev '$T/mods.iso' -find / 2>/dev/null | wc -l"
fi
