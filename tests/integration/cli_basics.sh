#!/usr/bin/env bash
# The CLI on small real inputs: --help of every command, `ls` of a SPEC and of flags, and
# the bad inputs of the core issue, each a one-line error naming FILE:LINE and the reason.
. "$(dirname "$0")/lib.sh"

for c in export ls boot shell; do
	"$RF" "$c" --help | has "usage: rootfs-fuse $c" || fail "$c --help"
done
"$RF" --help | has '^commands:' || fail "--help"
expect_fail "unknown command 'frob'" "$RF" frob
ok "help texts"

mkdir -p "$T/overlay/etc"
echo guest > "$T/overlay/etc/hostname"
printf '#!/bin/sh\necho hi\n' > "$T/init"
cat > "$T/a.spec" <<EOS
# comment
tree    ./overlay
dir     /dev 0755 0 0
nod     /dev/console 0600 0 0 c 5 1
file    /init ./init 0755 0 0
slink   /bin/sh busybox 0777 0 0
pipe    /run/fifo 0644 0 0
sock    /run/sock 0600 0 0
EOS
"$RF" ls "$T/a.spec" > "$T/ls.txt"
cat > "$T/expect.txt" <<EOS
/
/bin
/bin/sh
/dev
/dev/console
/etc
/etc/hostname
/init
/run
/run/fifo
/run/sock
EOS
diff -u "$T/expect.txt" "$T/ls.txt" || fail "ls of a SPEC"
ok "ls lists the merged view in sorted order"

"$RF" ls "$T/a.spec" --long > "$T/long.txt"
grep -qxF -e "crw------- 0 0 5,1 /dev/console	entries $T/a.spec:3..." "$T/long.txt" ||
	fail "device line: $(grep console "$T/long.txt")"
grep -qxF -e "lrwxrwxrwx 0 0 7 /bin/sh -> busybox	entries $T/a.spec:3..." "$T/long.txt" ||
	fail "symlink line"
grep -qxF -e "-rw-r--r-- 0 0 6 /etc/hostname	tree $T/overlay" "$T/long.txt" ||
	fail "tree line: $(grep hostname "$T/long.txt")"
grep -q -e "^prw-r--r-- 0 0 0 /run/fifo" "$T/long.txt" || fail "fifo line"
grep -q -e "^srw------- 0 0 0 /run/sock" "$T/long.txt" || fail "socket line"
"$RF" ls "$T/a.spec" --hash | has -F -e "-rw-r--r-- 0 0 6 $(xxhsum -H2 "$T/overlay/etc/hostname" | cut -d' ' -f1) /etc/hostname" ||
	fail "--hash of a tree file"
ok "ls --long and --hash"

# flags only, stacked in order: the later flag wins
echo one > "$T/one"
echo two2 > "$T/two"
"$RF" ls --file /x "$T/one" 0644 0 0 --file /x "$T/two" 0600 5 6 --long | has -e "^-rw------- 5 6 5 /x	" ||
	fail "flags stack in order"
"$RF" ls "$T/a.spec" --dir /extra 0700 0 0 | has -x /extra || fail "SPEC plus flags"
ok "layer flags"

# bad input: one line, FILE:LINE and the reason
printf 'dir /a 0755 0 0\nfile /init /nonexistent/init 0755 0 0\n' > "$T/missing.spec"
expect_fail "^rootfs-fuse: $T/missing.spec:2: /nonexistent/init: No such file or directory$" \
	"$RF" ls "$T/missing.spec"
printf 'dir /a 0755 0 0\n\nfrobnicate /x\n' > "$T/kw.spec"
expect_fail "^rootfs-fuse: $T/kw.spec:3: unknown keyword 'frobnicate'$" "$RF" ls "$T/kw.spec"
printf 'dir /a 0758 0 0\n' > "$T/mode.spec"
expect_fail "^rootfs-fuse: $T/mode.spec:1: bad mode '0758' \\(octal, at most 07777\\)$" \
	"$RF" ls "$T/mode.spec"
printf 'dir /a/../../etc 0755 0 0\n' > "$T/dotdot.spec"
expect_fail "^rootfs-fuse: $T/dotdot.spec:1: '/a/../../etc': '..' would leave the guest root$" \
	"$RF" ls "$T/dotdot.spec"
expect_fail "No such file or directory" "$RF" ls "$T/no-such.spec"
expect_fail "^rootfs-fuse: --dir: bad mode '99' \\(octal, at most 07777\\)|needs" "$RF" ls --dir /x 99 0 0
ok "bad SPEC lines give one-line FILE:LINE errors"

# nothing escapes a tree layer: a symlink pointing out is kept as a symlink, and a later
# entry placed through it lands inside the guest root
mkdir -p "$T/esc"
ln -s ../../../../../tmp/x "$T/esc/etc"
ln -s /etc/passwd "$T/esc/passwd"
printf 'tree ./esc\nfile /etc/owned ./init 0644 0 0\n' > "$T/esc.spec"
"$RF" ls "$T/esc.spec" --long > "$T/esc.txt"
grep -qF -e "lrwxrwxrwx 0 0 11 /passwd -> /etc/passwd" "$T/esc.txt" || fail "symlink kept"
grep -qF -e "lrwxrwxrwx 0 0 20 /etc -> ../../../../../tmp/x" "$T/esc.txt" || fail "etc link kept"
grep -qF -e " /tmp/x/owned	" "$T/esc.txt" || fail "entry placed through the escaping link not inside root"
[ ! -e /tmp/x/owned ] || fail "host touched"
ok "nothing escapes the root"

finish
