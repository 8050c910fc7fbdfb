#!/usr/bin/env bash
# archive layer: a tree packed by GNU cpio (newc and odc, gzip) and GNU tar (xz, zstd) must
# list exactly like the tree itself (`ls --long --hash`: mode, owner, size, content, symlink
# targets; hard links and xattrs are checked in tests/unit/test_archive.c); device nodes and
# owners as stored; entries with
# "../x" or "/etc/x" are refused naming the entry; truncated or garbage archives give a
# one-line error naming the file.
. "$(dirname "$0")/lib.sh"

src="$T/src"
mkdir -p "$src/etc" "$src/usr/bin" "$src/usr/share/doc" "$src/var/empty"
echo "guest" > "$src/etc/hostname"
head -c 700000 /dev/urandom > "$src/usr/share/doc/random.bin"
seq 1 40000 > "$src/usr/share/doc/numbers.txt"
ln "$src/usr/share/doc/numbers.txt" "$src/usr/share/doc/numbers-link.txt"
printf '#!/bin/sh\necho tool\n' > "$src/usr/bin/tool"
chmod 4755 "$src/usr/bin/tool"
ln -s tool "$src/usr/bin/tool-link"
ln -s ../../etc/hostname "$src/usr/share/hostname"
: > "$src/etc/empty"
echo spaced > "$src/etc/with space"
mkfifo "$src/var/fifo"
chmod 0700 "$src/var/empty"

"$RF" ls --long --hash --tree "$src" owner=host | cut -f1 > "$T/want.txt"
[ "$(wc -l < "$T/want.txt")" -ge 15 ] || fail "reference listing too short"

check_same() { # ARCHIVE: the archive layer lists like the source tree
	"$RF" ls --long --hash --archive "$1" > "$T/got-full.txt"
	grep -q "	archive $1\$" "$T/got-full.txt" || fail "$1: layer label missing"
	cut -f1 "$T/got-full.txt" > "$T/got.txt"
	diff -u "$T/want.txt" "$T/got.txt" || fail "$1 does not list like the tree"
	ok "$(basename "$1") lists like the tree"
}

(cd "$src" && find . | LC_ALL=C sort | cpio -o -H newc 2>/dev/null) | gzip > "$T/t.cpio.gz"
check_same "$T/t.cpio.gz"
(cd "$src" && find . | cpio -o -H odc 2>/dev/null) > "$T/t.odc.cpio"
check_same "$T/t.odc.cpio"
tar -C "$src" -cJf "$T/t.tar.xz" .
check_same "$T/t.tar.xz"
tar -C "$src" --zstd -cf "$T/t.tar.zst" .
check_same "$T/t.tar.zst"

# the same archive through a SPEC (relative path) and stacked under a tree
mkdir -p "$T/spec/over/etc"
echo "over" > "$T/spec/over/etc/hostname"
cp "$T/t.cpio.gz" "$T/spec/base.cpio.gz"
printf 'archive ./base.cpio.gz\ntree ./over\n' > "$T/spec/s.spec"
"$RF" ls --long --hash "$T/spec/s.spec" > "$T/stack.txt"
grep -q "/etc/hostname	tree .*/over\$" "$T/stack.txt" || fail "tree does not override the archive"
grep -q "/usr/share/doc/numbers.txt	archive .*/base.cpio.gz\$" "$T/stack.txt" ||
	fail "archive entries missing under the tree"
ok "archive in a SPEC, under a tree"

# device nodes, owners and xattrs as stored (python's tarfile writes what a user cannot mknod)
python3 - "$T/dev.tar" <<'EOF'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w", format=tarfile.PAX_FORMAT) as t:
    d = tarfile.TarInfo("dev"); d.type = tarfile.DIRTYPE; d.mode = 0o755; t.addfile(d)
    c = tarfile.TarInfo("dev/console"); c.type = tarfile.CHRTYPE; c.mode = 0o600
    c.devmajor, c.devminor, c.uid, c.gid = 5, 1, 0, 5; t.addfile(c)
    b = tarfile.TarInfo("dev/vda"); b.type = tarfile.BLKTYPE; b.mode = 0o660
    b.devmajor, b.devminor, b.gid = 254, 16, 6; t.addfile(b)
    data = b"capable\n"
    f = tarfile.TarInfo("bin/ping"); f.size = len(data); f.mode = 0o755
    f.uid, f.gid = 1000, 1001
    f.pax_headers = {"SCHILY.xattr.security.capability": "\x01\x00\x00\x02"}
    t.addfile(f, io.BytesIO(data))
EOF
"$RF" ls --long --archive "$T/dev.tar" | cut -f1 > "$T/dev.txt"
grep -qx 'crw------- 0 5 5,1 /dev/console' "$T/dev.txt" || fail "char device: $(cat "$T/dev.txt")"
grep -qx 'brw-rw---- 0 6 254,16 /dev/vda' "$T/dev.txt" || fail "block device: $(cat "$T/dev.txt")"
grep -qx -- '-rwxr-xr-x 1000 1001 8 /bin/ping' "$T/dev.txt" || fail "owner: $(cat "$T/dev.txt")"
# a TinyCore-like base: newc with device nodes (bsdtar writes them from an mtree spec)
printf '#mtree\n./dev type=dir mode=0755 uid=0 gid=0\n%s\n%s\n' \
	'./dev/console type=char mode=0600 uid=0 gid=5 device=native,5,1' \
	'./dev/sda type=block mode=0660 uid=0 gid=6 device=native,8,0' > "$T/core.mtree"
(cd "$T" && bsdtar -cf - --format newc @core.mtree) | gzip > "$T/core.gz"
"$RF" ls --long --archive "$T/core.gz" | cut -f1 > "$T/core.txt"
grep -qx 'crw------- 0 5 5,1 /dev/console' "$T/core.txt" || fail "newc char device: $(cat "$T/core.txt")"
grep -qx 'brw-rw---- 0 6 8,0 /dev/sda' "$T/core.txt" || fail "newc block device: $(cat "$T/core.txt")"
ok "device nodes and owners as stored (tar, newc)"

# malicious archives: nothing outside the root
mkdir -p "$T/evil/sub"
echo x > "$T/evil/x"
(cd "$T/evil/sub" && echo ../x | cpio -o -H newc 2>/dev/null) | gzip > "$T/dotdot.cpio.gz"
expect_fail "dotdot.cpio.gz: entry '../x': '\.\.' in the path" "$RF" ls --archive "$T/dotdot.cpio.gz"
python3 - "$T/abs.tar" <<'EOF'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w", format=tarfile.GNU_FORMAT) as t:
    for name in ("etc", "/etc/x"):
        i = tarfile.TarInfo(name); i.size = 2; t.addfile(i, io.BytesIO(b"x\n"))
EOF
expect_fail "abs.tar: entry '/etc/x': absolute path" "$RF" ls --archive "$T/abs.tar"
python3 - "$T/link.tar" <<'EOF'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w") as t:
    i = tarfile.TarInfo("a"); i.size = 2; t.addfile(i, io.BytesIO(b"x\n"))
    h = tarfile.TarInfo("b"); h.type = tarfile.LNKTYPE; h.linkname = "../../etc/shadow"
    t.addfile(h)
EOF
expect_fail "link.tar: entry '\.\./\.\./etc/shadow': '\.\.' in the path" "$RF" ls --archive "$T/link.tar"
ok "'../x', '/etc/x' and a hard link out of the root are refused"

# bad input: one line naming the file, no crash
head -c 20000 "$T/t.tar.xz" > "$T/trunc.tar.xz"
expect_fail "trunc.tar.xz: " "$RF" ls --archive "$T/trunc.tar.xz"
head -c 300000 "$T/t.odc.cpio" > "$T/trunc.cpio"
expect_fail "trunc.cpio: " "$RF" ls --archive "$T/trunc.cpio"
head -c 50000 "$T/t.cpio.gz" > "$T/trunc.cpio.gz"
expect_fail "trunc.cpio.gz: " "$RF" ls --archive "$T/trunc.cpio.gz"
head -c 4096 /dev/urandom > "$T/garbage.tar"
expect_fail "garbage.tar: " "$RF" ls --archive "$T/garbage.tar"
expect_fail "nope.tar: No such file" "$RF" ls --archive "$T/nope.tar"
ok "truncated and garbage archives: one-line errors"

finish
