#!/usr/bin/env bash
# rootfs-fuse du --html: the page is self-contained (no network), opens in headless Chromium
# (Debian's chromium), its screenshot shows a treemap of several colours, and the data the page
# holds after its script ran equals `du --json`.
. "$(dirname "$0")/lib.sh"
command -v chromium >/dev/null || fail "chromium is not installed (.ci/packages.txt lists it)"

R=$T/root
mkdir -p "$R/bin" "$R/lib/modules" "$R/usr/share/doc" "$R/etc"
head -c 400000 /dev/urandom >"$R/bin/big"
head -c 150000 /dev/urandom >"$R/lib/modules/a.ko"
head -c 90000 /dev/urandom >"$R/lib/modules/b.ko"
seq 1 40000 >"$R/usr/share/doc/seq"
head -c 120000 /dev/urandom >"$R/usr/share/doc/blob"
for i in 1 2 3 4 5 6; do head -c $((i * 9000)) /dev/urandom >"$R/etc/f$i"; done
(cd "$R" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet) | gzip -c >"$T/a.cpio.gz"

"$RF" du --html "$T/page.html" --json "$T/a.cpio.gz" >"$T/du.json"
[ -s "$T/page.html" ] || fail "no page written"
if grep -Eiq '(src|href)=["'"'"']?(https?:)?//|https?://|@import|url\(' "$T/page.html"; then
	fail "the page refers to the network: $(grep -Eio '(https?:)?//[^"'"'"' ]*' "$T/page.html" | head -3)"
fi
ok "self-contained page (no URL, no external script or style)"

chrome() {
	local udd
	udd=$(mktemp -d "$T/chromium.XXXXXX")
	timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--disable-dev-shm-usage --user-data-dir="$udd" --window-size=1024,768 "$@" \
		2>"$T/chromium.err"
}
HOME=$T chrome --screenshot="$T/shot.png" "file://$T/page.html" >/dev/null ||
	fail "chromium --screenshot failed: $(tail -n 3 "$T/chromium.err")"
[ -s "$T/shot.png" ] || fail "no screenshot"
# Debian's python3 with Debian's python3-pil (a python3 earlier in PATH may lack PIL)
/usr/bin/python3 - "$T/shot.png" <<'PY' || fail "the screenshot does not show a treemap"
import sys
from PIL import Image
im = Image.open(sys.argv[1]).convert("RGB")
w, h = im.size
px = list(im.getdata())
counts = {}
for p in px:
    counts[p] = counts.get(p, 0) + 1
# treemap rectangles: saturated colours (not the page's greys) in large areas
big = [c for c, n in counts.items() if n > w * h / 200 and max(c) - min(c) > 40]
covered = sum(counts[c] for c in big)
print("distinct colours: %d, saturated large areas: %d covering %.0f%%" %
      (len(counts), len(big), 100.0 * covered / (w * h)))
if len(big) < 4 or covered < 0.5 * w * h:
    sys.exit(1)
PY
ok "headless Chromium screenshot shows the treemap (several coloured areas, most of the page)"

HOME=$T chrome --dump-dom "file://$T/page.html" >"$T/dom.html" ||
	fail "chromium --dump-dom failed: $(tail -n 3 "$T/chromium.err")"
python3 - "$T/dom.html" "$T/du.json" <<'PY' || fail "page data differs from --json"
import json, re, sys
dom = open(sys.argv[1]).read()
m = re.search(r'<script type="application/json" id="du-data">(.*?)</script>', dom, re.S)
assert m, "no data block in the DOM"
page = json.loads(m.group(1))
ref = json.load(open(sys.argv[2]))
assert page == ref, "data block != du --json"
# the script ran: one rectangle per shown node below the root, labels with the sizes
def count(n):
    return 1 + sum(count(c) for c in n.get("children", []))
rects = len(re.findall(r'class="r"', dom))
assert rects >= 10, "only %d rectangles drawn" % rects
assert "big" in dom and "a.ko" in dom
print("page data == --json; %d rectangles drawn" % rects)
PY
ok "the page's data equals du --json and its script drew the rectangles"
finish
