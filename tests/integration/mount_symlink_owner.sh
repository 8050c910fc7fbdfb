#!/usr/bin/env bash
# Symlinks keep their guest owner in the upper layer (docs/mount.md): `chown -h` of a new or a
# lower symlink shows in stat, survives rename and remount, leaves nothing behind on rm, and
# reaches `ls` and the cpio, ext4 and ISO exports; the stored form on disk is a regular file
# holding the target with override_stat 0120777. tar --same-owner -x of an archive whose
# symlink belongs to 1000:1000 into the mount, tar -c back: the same listing, owners included.
. "$(dirname "$0")/lib.sh"

mkdir -p "$T/tree/etc" "$T/tree/usr/lib"
echo lib > "$T/tree/usr/lib/libx.so.1.2"
ln -s libx.so.1.2 "$T/tree/usr/lib/libx.so.1"
cat > "$T/g.spec" <<EOS
tree ./tree
EOS
M=$T/mnt
U=$T/g.state/upper
mount_view "$T/g.spec" "$M"

# a new symlink chowned: owner, target, mtime; stored as a file holding the target
ln -s target "$M/l"
touch -h -d '2001-02-03 04:05:06' "$M/l"
chown -h 1000:1000 "$M/l"
[ "$(stat -c '%u %g %N %s' "$M/l")" = "1000 1000 '$M/l' -> 'target' 6" ] ||
	fail "chown -h: $(stat -c '%u %g %N %s' "$M/l")"
[ "$(readlink "$M/l")" = target ] || fail "readlink"
[ -L "$M/l" ] || fail "not a symlink any more"
[ "$(stat -c %Y "$M/l")" = "$(date -d '2001-02-03 04:05:06' +%s)" ] || fail "mtime not kept"
ls -ln "$M" | has -E '^lrwxrwxrwx 1 1000 1000 6 .* l -> target$' || fail "ls -ln: $(ls -ln "$M")"
[ -f "$U/l" ] && [ ! -L "$U/l" ] || fail "upper l is not a regular file"
[ "$(cat "$U/l")" = target ] || fail "upper l content"
[ "$(getfattr --absolute-names --only-values -n user.rootfs-fuse.override_stat "$U/l")" = \
	1000:1000:0120777 ] || fail "upper l override"
[ -z "$(ls -A "$T/g.state/work")" ] || fail "work/ not empty after the conversion"
chown -h 1001:1002 "$M/l"
[ "$(stat -c '%u %g %N' "$M/l")" = "1001 1002 '$M/l' -> 'target'" ] || fail "second chown -h"
ok "ln -s; chown -h 1001:1002: owner, target and mtime shown; stored as a file with the target"

# a symlink owned by root stays a host symlink
ln -s plain "$M/p"
chown -h 0:0 "$M/p"
[ -L "$U/p" ] || fail "a root-owned symlink is no longer a host symlink"
ok "a root-owned symlink stays a plain host symlink"

# rename keeps owner and target
mkdir "$M/d"
mv "$M/l" "$M/d/l2"
[ "$(stat -c '%u %g %N' "$M/d/l2")" = "1001 1002 '$M/d/l2' -> 'target'" ] ||
	fail "mv: $(stat -c '%u %g %N' "$M/d/l2")"
[ ! -e "$U/l" ] && [ -f "$U/d/l2" ] || fail "mv in the upper layer"
ok "mv keeps owner and target"

# a lower symlink chowned is copied up with its target and new owner
chown -h 7:8 "$M/usr/lib/libx.so.1"
[ "$(stat -c '%u %g %N' "$M/usr/lib/libx.so.1")" = "7 8 '$M/usr/lib/libx.so.1' -> 'libx.so.1.2'" ] ||
	fail "lower chown -h: $(stat -c '%u %g %N' "$M/usr/lib/libx.so.1")"
[ "$(cat "$M/usr/lib/libx.so.1")" = lib ] || fail "following the copied-up symlink"
[ "$(cat "$U/usr/lib/libx.so.1")" = libx.so.1.2 ] || fail "upper copy of the lower symlink"
ok "lower symlink chown -h: copied up with its target and owner"

if [ "$(id -u)" = 0 ]; then
	# only root gets past the kernel here: protected_hardlinks for a link to a symlink it
	# does not own, CAP_SYS_ADMIN for trusted.* and security.*
	ln -s x "$M/h1"
	ln "$M/h1" "$M/h2"
	chown -h 5:5 "$M/h2"
	[ "$(stat -c '%u %g %h %i %N' "$M/h1")" = "5 5 2 $(stat -c %i "$M/h2") '$M/h1' -> 'x'" ] ||
		fail "hard-linked symlink: $(stat -c '%u %g %h %i %N' "$M/h1")"
	ln -s y "$M/xa"
	setfattr -h -n trusted.rf -v t "$M/xa"
	setfattr -h -n security.rf -v s "$M/xa"
	[ "$(getfattr -h --absolute-names --only-values -n trusted.rf "$M/xa")" = t ] ||
		fail "trusted.rf on a symlink"
	[ "$(readlink "$M/xa")" = y ] && [ -f "$U/xa" ] || fail "symlink with xattrs not stored"
	setfattr -h -x security.rf "$M/xa"
	getfattr -h -n security.rf "$M/xa" 2> /dev/null && fail "removexattr on a symlink"
	ok "hard links to a symlink share its owner; trusted./security. xattrs on a symlink"
fi

# unmount, remount: kept; ls and the exports show the owner
umount_view "$M"
"$RF" ls "$T/g.spec" --long > "$T/ls.txt"
has -F 'lrwxrwxrwx 1001 1002 6 /d/l2 -> target' < "$T/ls.txt" || fail "ls: $(grep l2 "$T/ls.txt")"
has -F 'lrwxrwxrwx 7 8 11 /usr/lib/libx.so.1 -> libx.so.1.2' < "$T/ls.txt" || fail "ls of the lower link"
mount_view "$T/g.spec" "$M"
[ "$(stat -c '%u %g %N %s' "$M/d/l2")" = "1001 1002 '$M/d/l2' -> 'target' 6" ] ||
	fail "after remount: $(stat -c '%u %g %N' "$M/d/l2")"
[ "$(readlink "$M/d/l2")" = target ] || fail "readlink after remount"
ok "owner and target survive unmount and remount"

# tar --same-owner -x of an archive whose symlink and file belong to 1000:1000, tar -c back
mkdir -p "$T/src/a"
echo data > "$T/src/a/file"
ln -s file "$T/src/a/link"
ln -s ../a/file "$T/src/rel"
touch -h -d '2002-03-04 05:06:07' "$T/src/a/link" "$T/src/rel"
tar -C "$T/src" --numeric-owner --owner=1000 --group=1000 -cf "$T/in.tar" .
mkdir "$M/unpacked"
tar -C "$M/unpacked" --same-owner -xpf "$T/in.tar"
tar -C "$M/unpacked" --numeric-owner -cf "$T/out.tar" .
tar --numeric-owner -tvf "$T/in.tar" | sort > "$T/in.lst"
tar --numeric-owner -tvf "$T/out.tar" | sort > "$T/out.lst"
has -E '^lrwxrwxrwx 1000/1000 +0 .* \./a/link -> file$' < "$T/out.lst" ||
	fail "tar -c of the mount: $(cat "$T/out.lst")"
diff "$T/in.lst" "$T/out.lst" || fail "tar listings differ"
ok "tar --same-owner -x, tar -c back: the same listing (symlink owners included)"

# rm leaves nothing behind in the upper layer
rm "$M/d/l2"
[ ! -e "$M/d/l2" ] && [ -z "$(ls -A "$U/d")" ] || fail "rm left: $(ls -A "$U/d")"
umount_view "$M"
ok "rm of a stored symlink leaves nothing in STATE/upper"

# exports go through the view: cpio (GNU cpio), ext4 (debugfs), ISO (libarchive)
"$RF" export "$T/g.spec" -o "$T/out.cpio" --quiet
cpio -itv --numeric-uid-gid < "$T/out.cpio" 2> /dev/null > "$T/cpio.lst"
has -E '^lrwxrwxrwx +1 1000 +1000 .* unpacked/a/link -> file$' < "$T/cpio.lst" ||
	fail "cpio: $(grep link "$T/cpio.lst")"
has -E '^lrwxrwxrwx +1 7 +8 .* usr/lib/libx.so.1 -> libx.so.1.2$' < "$T/cpio.lst" ||
	fail "cpio: $(grep libx "$T/cpio.lst")"
"$RF" export "$T/g.spec" -o "$T/out.ext4" --quiet
debugfs -R "stat /unpacked/a/link" "$T/out.ext4" 2> /dev/null > "$T/debugfs.txt"
has -E 'User: +1000 +Group: +1000' < "$T/debugfs.txt" || fail "ext4: $(cat "$T/debugfs.txt")"
has -F 'Fast link dest: "file"' < "$T/debugfs.txt" || fail "ext4 target: $(cat "$T/debugfs.txt")"
"$RF" export "$T/g.spec" -o "$T/out.iso" --quiet
bsdtar -tvf "$T/out.iso" --numeric-owner > "$T/iso.lst"
has -E '^lrwxrwxrwx +[0-9]+ 1000 +1000 .*[ /]unpacked/a/link -> file$' < "$T/iso.lst" ||
	fail "iso: $(grep link "$T/iso.lst")"
ok "cpio, ext4 and ISO exports carry the symlink's owner and target"

finish
