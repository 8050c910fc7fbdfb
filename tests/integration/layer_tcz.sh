#!/usr/bin/env bash
# tcz layer: packages built with mksquashfs in TinyCore's layout (tce/optional, .tcz.dep with
# and without the .tcz suffix and blank lines, .md5.txt from md5sum) list like the union of
# their source trees; a dependency chain and a shared dependency load once, dependencies
# first (copy2fs: the first to bring a path keeps it); tce.installed markers and startup
# scripts (queued in /tmp/setup.lst); "-KERNEL" replaced by kernel=; a cycle, a missing
# dependency, a wrong md5 and a truncated or garbage image are one-line errors naming them.
. "$(dirname "$0")/lib.sh"

opt="$T/tce/optional"
mkdir -p "$opt"
mkpkg() { # NAME [mksquashfs options]: pack $T/pkg/NAME into $opt/NAME.tcz with its md5
	local name=$1
	shift
	mksquashfs "$T/pkg/$name" "$opt/$name.tcz" -noappend -quiet "$@" > /dev/null
	(cd "$opt" && md5sum "$name.tcz" > "$name.tcz.md5.txt")
}
for p in base liba libb app; do
	mkdir -p "$T/pkg/$p/usr/local/share/$p" "$T/pkg/$p/usr/local/bin"
	echo "$p" > "$T/pkg/$p/usr/local/share/$p/README"
	echo "from $p" > "$T/pkg/$p/usr/local/share/conflict"
done
head -c 200000 /dev/urandom > "$T/pkg/base/usr/local/lib.bin"
seq 1 30000 > "$T/pkg/liba/usr/local/share/liba/numbers"
ln -s ../share/liba/numbers "$T/pkg/liba/usr/local/bin/numbers-link"
printf '#!/bin/sh\necho tool\n' > "$T/pkg/app/usr/local/bin/tool"
chmod 755 "$T/pkg/app/usr/local/bin/tool"
mkdir -p "$T/pkg/app/usr/local/tce.installed" "$T/pkg/liba/usr/local/tce.installed"
printf '#!/bin/sh\nln -s /usr/local/bin/tool /usr/bin/tool\n' > "$T/pkg/app/usr/local/tce.installed/app"
printf '#!/bin/sh\n: liba setup\n' > "$T/pkg/liba/usr/local/tce.installed/liba"
chmod 755 "$T/pkg/app/usr/local/tce.installed/app" "$T/pkg/liba/usr/local/tce.installed/liba"
for p in base liba libb app; do mkpkg $p -all-root; done
printf 'liba.tcz  libb\n\n' > "$opt/app.tcz.dep"
printf "base.tcz\n" > "$opt/liba.tcz.dep"
printf '\r\nbase\r\n\n' > "$opt/libb.tcz.dep"

"$RF" ls --long --hash --tcz "$opt" app > "$T/got-full.txt"
grep -q "	tcz .*optional app\$" "$T/got-full.txt" || fail "layer label missing"
cut -f1 "$T/got-full.txt" > "$T/got.txt"

# the union of the source trees, as tree layers stacked so that base wins for 'conflict'
"$RF" ls --long --hash --tree "$T/pkg/app" --tree "$T/pkg/libb" --tree "$T/pkg/liba" \
	--tree "$T/pkg/base" | cut -f1 > "$T/want.txt"
grep -v -e ' /usr/local/tce.installed' -e ' /tmp' "$T/got.txt" > "$T/got-pkgs.txt"
grep -v -e ' /usr/local/tce.installed' "$T/want.txt" > "$T/want-pkgs.txt"
diff -u "$T/want-pkgs.txt" "$T/got-pkgs.txt" || fail "tcz view differs from the packages' trees"
grep -q "$(xxhsum -H2 < "$T/pkg/base/usr/local/share/conflict" | cut -d' ' -f1) /usr/local/share/conflict\$" \
	"$T/got.txt" || fail "the first package loaded (base) must keep a shared path"
ok "closure app -> liba, libb -> base lists like the packages' trees; base keeps 'conflict'"

for p in base libb; do
	grep -qx -- "-rw-r--r-- 0 0 0 /usr/local/tce.installed/$p" <(cut -d' ' -f1-4,6- "$T/got.txt") ||
		fail "no tce.installed marker for $p"
done
grep -q -- "^-rwxr-xr-x 0 0 [0-9]* [0-9a-f]* /usr/local/tce.installed/app\$" "$T/got.txt" ||
	fail "app's startup script missing"
printf '/usr/local/tce.installed/liba\n/usr/local/tce.installed/app\n' > "$T/setup.lst"
grep -q "$(xxhsum -H2 < "$T/setup.lst" | cut -d' ' -f1) /tmp/setup.lst\$" "$T/got.txt" ||
	fail "/tmp/setup.lst does not queue liba then app"
ok "tce.installed markers, startup scripts queued in dependency order"

# owners as stored; a SPEC line with a relative DIR; names with .tcz
mkdir -p "$T/pkg/own/home/tc"
echo hi > "$T/pkg/own/home/tc/file"
mkpkg own -force-uid 1001 -force-gid 50
printf 'tcz ./tce/optional own.tcz libb.tcz\n' > "$T/s.spec"
"$RF" ls --long "$T/s.spec" | cut -f1 > "$T/own.txt"
grep -qx -- "-rw-r--r-- 1001 50 3 /home/tc/file" "$T/own.txt" || fail "owner not kept: $(cat "$T/own.txt")"
grep -qx -- "-rw-r--r-- 0 0 5 /usr/local/share/base/README" "$T/own.txt" || fail "libb's dependency missing"
ok "SPEC line, owners as stored"

# -KERNEL: from kernel=, or an error naming the dependency
mkdir -p "$T/pkg/mod-6.1.0-test/lib/modules/6.1.0-test/kernel" "$T/pkg/usesmod/usr/local"
echo ko > "$T/pkg/mod-6.1.0-test/lib/modules/6.1.0-test/kernel/x.ko"
echo u > "$T/pkg/usesmod/usr/local/u"
mkpkg mod-6.1.0-test -all-root
mkpkg usesmod -all-root
printf 'mod-KERNEL.tcz\n' > "$opt/usesmod.tcz.dep"
"$RF" ls --tcz "$opt" usesmod kernel=6.1.0-test > "$T/k.txt"
grep -qx /lib/modules/6.1.0-test/kernel/x.ko "$T/k.txt" || fail "KERNEL not replaced"
grep -qx /usr/local/tce.installed/mod-6.1.0-test "$T/k.txt" || fail "marker of mod-6.1.0-test"
expect_fail "usesmod.tcz.dep: dependency 'mod-KERNEL.tcz' needs the kernel version" \
	"$RF" ls --tcz "$opt" usesmod
ok "-KERNEL replaced by kernel=, refused without it"

# errors
for p in c1 c2 c3 m1 bad; do
	mkdir -p "$T/pkg/$p/usr/local/$p"
	mkpkg $p -all-root
done
printf 'c2.tcz\n' > "$opt/c1.tcz.dep"
printf 'c3\n' > "$opt/c2.tcz.dep"
printf 'base\nc1.tcz\n' > "$opt/c3.tcz.dep"
expect_fail "c3.tcz.dep: dependency cycle: c1.tcz -> c2.tcz -> c3.tcz -> c1.tcz" \
	"$RF" ls --tcz "$opt" c1
printf 'base\nnothere.tcz\n' > "$opt/m1.tcz.dep"
expect_fail "m1.tcz.dep: dependency 'nothere.tcz' not found in .*optional" "$RF" ls --tcz "$opt" m1
expect_fail "package 'absent.tcz' not found in .*optional" "$RF" ls --tcz "$opt" absent
echo "0123456789abcdef0123456789abcdef  bad.tcz" > "$opt/bad.tcz.md5.txt"
expect_fail "bad.tcz: md5 mismatch" "$RF" ls --tcz "$opt" bad
expect_fail "unknown tcz option 'colour=blue'" "$RF" ls --tcz "$opt" app colour=blue
ok "cycle, missing dependency, missing package, md5 mismatch: one-line errors naming them"

# bad images: one line naming the file, no crash (the ASan build runs this too)
size=$(stat -c %s "$opt/base.tcz")
head -c $((size / 2)) "$opt/base.tcz" > "$opt/trunc.tcz"
expect_fail "trunc.tcz: truncated squashfs image" "$RF" ls --tcz "$opt" trunc
head -c 100 "$opt/base.tcz" > "$opt/tiny.tcz"
expect_fail "tiny.tcz: " "$RF" ls --tcz "$opt" tiny
head -c 8192 /dev/urandom > "$opt/garbage.tcz"
expect_fail "garbage.tcz: not a squashfs image" "$RF" ls --tcz "$opt" garbage
# damage the image (its tables and compressed blocks sit just before bytes_used) at several
# places: either the damage misses what is read, or a one-line error names the image; never a
# crash; most places must be noticed
seq 1 20000 > "$T/pkg/base/usr/local/share/base/numbers"
mkpkg base -all-root
used=$(od -An -tu8 -j40 -N8 "$opt/base.tcz" | tr -d ' ')
noticed=0
for back in 40 100 200 400 800 2000 100000; do
	cp "$opt/base.tcz" "$opt/dmg.tcz"
	printf '\xff\xff\xff\xff\x00\x00\x00\x00\xff\xff\xff\xff' |
		dd of="$opt/dmg.tcz" bs=1 seek=$((used - back)) conv=notrunc status=none
	rc=0
	err=$("$RF" ls --long --hash --tcz "$opt" dmg 2>&1 >/dev/null) || rc=$?
	[ $rc -lt 128 ] || fail "crash on damage at -$back (rc $rc): $err"
	if [ $rc -ne 0 ]; then
		[ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] || fail "damage at -$back: $err"
		printf '%s\n' "$err" | has "dmg.tcz: " || fail "damage at -$back: $err"
		noticed=$((noticed + 1))
	fi
done
[ $noticed -ge 3 ] || fail "only $noticed of 7 damaged images noticed"
ok "truncated, garbage and damaged images: one-line errors, no crash"

finish
