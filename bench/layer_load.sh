#!/usr/bin/env bash
# Time and peak memory of loading an archive layer (cpio.gz, tar.xz) and a tcz layer (one
# squashfs image) of the same directory: `ls` (metadata only) and `ls --long --hash` (every
# byte read through the layer). Never run by the tests.
# usage: bench/layer_load.sh [SRC_DIR] [ROOTFS_FUSE]   (default: /usr/share, build/cli/rootfs-fuse)
set -euo pipefail
src=${1:-/usr/share}
rf=${2:-$(dirname "$0")/../build/cli/rootfs-fuse}
T=$(mktemp -d "${TMPDIR:-/tmp}/rf-bench.XXXXXX")
trap 'rm -rf "$T"' EXIT
mkdir -p "$T/opt"
(cd "$src" && find . -xdev 2>/dev/null | cpio -o -H newc 2>/dev/null) > "$T/base.cpio"
echo "source: $src, newc stream $(( $(stat -c %s "$T/base.cpio") / 1048576 )) MiB," \
	"$(cpio -it < "$T/base.cpio" 2>/dev/null | wc -l) entries"
gzip -6 < "$T/base.cpio" > "$T/base.cpio.gz"
mksquashfs "$src" "$T/opt/base.tcz" -noappend -quiet -all-root -no-progress > /dev/null 2>&1
run() { # LABEL ARGS...
	local label=$1
	shift
	/usr/bin/time -f "%e s, %M KiB max RSS" -o "$T/time" "$rf" "$@" > /dev/null
	printf '%-32s %s\n' "$label" "$(cat "$T/time")"
}
run "archive cpio.gz: ls" ls --archive "$T/base.cpio.gz"
run "archive cpio.gz: ls --long --hash" ls --long --hash --archive "$T/base.cpio.gz"
run "archive cpio (plain): ls" ls --archive "$T/base.cpio"
run "archive cpio (plain): ls --long --hash" ls --long --hash --archive "$T/base.cpio"
run "tcz: ls" ls --tcz "$T/opt" base
run "tcz: ls --long --hash" ls --long --hash --tcz "$T/opt" base
run "tree (reference): ls --long --hash" ls --long --hash --tree "$src"
