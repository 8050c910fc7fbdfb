#!/usr/bin/env bash
# Bad input to `rootfs-fuse mount` / `umount`: a missing or non-empty mount point, a SPEC
# error, unknown FUSE options, allow_other without permission, a state directory that cannot
# hold the upper layer, a dead mount; each a one-line error, nothing mounted, nothing left.
. "$(dirname "$0")/lib.sh"

mkdir -p "$T/tree/etc" "$T/mnt" "$T/full"
echo x > "$T/tree/etc/x"
echo y > "$T/full/occupied"
printf 'tree ./tree\n' > "$T/g.spec"

expect_fail "mount point .*/missing: No such file or directory" "$RF" mount "$T/g.spec" "$T/missing"
expect_fail "mount point .*/full: not empty" "$RF" mount "$T/g.spec" "$T/full"
expect_fail "mount point .*/g.spec: not a directory" "$RF" mount "$T/g.spec" "$T/g.spec"
mountpoint -q "$T/full" && fail "mounted over a non-empty directory"
ok "missing, non-empty or non-directory mount point"

printf 'tree ./tree\nfrobnicate /x\n' > "$T/bad.spec"
expect_fail "bad.spec:2: " "$RF" mount "$T/bad.spec" "$T/mnt"
printf 'file /x ./nonexistent 0644 0 0\n' > "$T/bad2.spec"
expect_fail "bad2.spec:1: .*nonexistent" "$RF" mount "$T/bad2.spec" "$T/mnt"
expect_fail "give SPEC and MNT" "$RF" mount "$T/g.spec"
mountpoint -q "$T/mnt" && fail "mounted despite a SPEC error"
[ ! -e "$T/bad.state" ] || fail "a SPEC error left a state directory"
ok "SPEC errors"

expect_fail "-o nonsense: .*unknown option" "$RF" mount "$T/g.spec" "$T/mnt" -o nonsense
if [ "$(id -u)" != 0 ] && ! grep -q '^user_allow_other' /etc/fuse.conf 2>/dev/null; then
	expect_fail "allow_other: an ordinary user needs 'user_allow_other'" \
		"$RF" mount "$T/g.spec" "$T/mnt" -o allow_other
fi
mountpoint -q "$T/mnt" && fail "mounted despite bad options"
ok "bad FUSE options"

# a state directory where the upper layer cannot live
expect_fail "g.spec/upper: Not a directory" "$RF" mount "$T/g.spec" "$T/mnt" --state "$T/g.spec"
if [ "$(id -u)" != 0 ]; then
	mkdir "$T/ro"
	chmod 0555 "$T/ro"
	expect_fail "ro/state: Permission denied" "$RF" mount "$T/g.spec" "$T/mnt" --state "$T/ro/state"
fi
# a filesystem without user xattrs (tmpfs before Linux 6.6, vfat...): whichever this host has
noxattr=""
for d in /dev/shm "${XDG_RUNTIME_DIR:-}" /run/user/"$(id -u)"; do
	[ -n "$d" ] && [ -d "$d" ] && [ -w "$d" ] || continue
	probe=$(mktemp -d "$d/rf-probe.XXXXXX") || continue
	if ! setfattr -n user.probe -v 1 "$probe" 2>/dev/null; then
		noxattr=$probe
		cleanup_hooks+=("rm -rf '$probe'")
		break
	fi
	rm -rf "$probe"
done
if [ -z "$noxattr" ] && command -v fuse-overlayfs > /dev/null; then
	# none here: fuse-overlayfs with noxattrs=1 is such a filesystem
	mkdir -p "$T/nx.lower" "$T/nx.upper" "$T/nx.work" "$T/nx"
	fuse-overlayfs -o "noxattrs=1,lowerdir=$T/nx.lower,upperdir=$T/nx.upper,workdir=$T/nx.work" "$T/nx"
	cleanup_hooks+=("fusermount3 -u -z '$T/nx' 2>/dev/null")
	wait_mounted "$T/nx"
	noxattr=$T/nx
fi
if [ -n "$noxattr" ]; then
	expect_fail "does not keep user xattrs" "$RF" mount "$T/g.spec" "$T/mnt" --state "$noxattr/state"
	ok "a state directory without user xattrs is refused"
else
	echo "skip - no filesystem without user xattrs on this host (tmpfs here has them)"
fi
mountpoint -q "$T/mnt" && fail "mounted despite a bad state directory"
ok "unusable state directories"

# one mount per state directory
mkdir "$T/mnt2"
mount_view "$T/g.spec" "$T/mnt"
expect_fail "g.state: in use by another mount" "$RF" mount "$T/g.spec" "$T/mnt2"
mountpoint -q "$T/mnt2" && fail "a second mount of one state directory"
umount_view "$T/mnt"
ok "a state directory in use by another mount is refused"

expect_fail "not a (FUSE )?mount" "$RF" umount "$T/mnt"
expect_fail "give the mount point" "$RF" umount
# a dead mount (daemon killed) is named as such
"$RF" mount "$T/g.spec" "$T/mnt" --foreground &
pid=$!
cleanup_hooks+=("kill -9 $pid 2>/dev/null; fusermount3 -u -z '$T/mnt' 2>/dev/null")
wait_mounted "$T/mnt"
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
expect_fail "a dead mount is still there; run 'rootfs-fuse umount" "$RF" mount "$T/g.spec" "$T/mnt"
"$RF" umount "$T/mnt"
ok "umount errors, a dead mount"
finish
