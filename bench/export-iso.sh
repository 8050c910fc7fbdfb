#!/usr/bin/env bash
# ISO export speed: rootfs-fuse export -o X.iso against `xorriso -as mkisofs -R -J` on the same
# ~200 MB tree of host files (copied once from /usr into a work directory), both writing to
# the same filesystem. Prints the best of N runs of each and the ratio.
# usage: bench/export-iso.sh [ROOTFS_FUSE] [RUNS]   (default build/cli/rootfs-fuse, 3 runs)
set -euo pipefail
RF=${1:-$(dirname "$0")/../build/cli/rootfs-fuse}
RUNS=${2:-3}
W=$(mktemp -d "${TMPDIR:-/tmp}/rf-bench-iso.XXXXXX")
trap 'rm -rf "$W"' EXIT
command -v xorriso > /dev/null || { echo "xorriso is needed (Debian package xorriso)" >&2; exit 1; }

# ~200 MB of files up to 4 MB each: /usr/share (many small files), then shared libraries
python3 - "$W/tree" <<'PY'
import os, shutil, sys
dst, budget, total = sys.argv[1], 200 * 1024 * 1024, 0
for top in ("/usr/share", "/usr/lib/x86_64-linux-gnu"):
    for root, dirs, files in os.walk(top):
        dirs.sort()
        for f in sorted(files):
            src = os.path.join(root, f)
            if total >= budget or os.path.islink(src) or not os.path.isfile(src) \
                    or os.path.getsize(src) > 4 * 1024 * 1024:
                continue
            out = os.path.join(dst, os.path.relpath(src, "/"))
            os.makedirs(os.path.dirname(out), exist_ok=True)
            try:
                shutil.copy2(src, out)
            except OSError:
                continue
            total += os.path.getsize(out)
print(f"tree: {total / 1e6:.0f} MB", file=sys.stderr)
PY
find "$W/tree" | wc -l | xargs echo "entries:"
find "$W/tree" -type f -exec cat {} + > /dev/null # warm the page cache for both tools

best() { # CMD...: best wall time of RUNS runs, in seconds
	python3 - "$RUNS" "$@" <<'PY'
import subprocess, sys, time
runs, cmd, best = int(sys.argv[1]), sys.argv[2:], None
for _ in range(runs):
    s = time.monotonic()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t = time.monotonic() - s
    best = t if best is None or t < best else best
print(f"{best:.2f}")
PY
}
x=$(best xorriso -as mkisofs -R -J -quiet -o "$W/xorriso.iso" "$W/tree")
r=$(best "$RF" export --tree "$W/tree" -o "$W/rootfs-fuse.iso")
echo "xorriso -as mkisofs -R -J: ${x} s, $(stat -c %s "$W/xorriso.iso") bytes"
echo "rootfs-fuse export .iso:   ${r} s, $(stat -c %s "$W/rootfs-fuse.iso") bytes"
python3 -c "print(f'rootfs-fuse / xorriso: {$r / $x:.2f}')"
