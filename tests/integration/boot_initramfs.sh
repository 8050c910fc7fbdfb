#!/usr/bin/env bash
# Real boots under qemu-system-x86_64 (TCG) with Debian's kernel, as an ordinary user:
# the embedded example (busybox + the host's dynamically linked xz run by /init), and the
# exit status protocol of `rootfs-fuse boot` (power-off 0, panic 1, isa-debug-exit N).
. "$(dirname "$0")/lib.sh"
K=$(kernel)
[ -n "$K" ] || fail "no /boot/vmlinuz-* (linux-image-amd64 is in .ci/packages.txt)"

rc=0
"$RF" boot "$RF_SRC/examples/minimal.spec" --kernel "$K" --timeout 180 --append quiet \
	> "$T/console.txt" 2>&1 < /dev/null || rc=$?
[ "$rc" -eq 0 ] || { tail -n 30 "$T/console.txt"; fail "example boot exit status $rc"; }
grep -q "rootfs-fuse: hello from the guest, kernel $(basename "$K" | sed 's/^vmlinuz-//')" "$T/console.txt" ||
	fail "the guest's /init line is missing"
# the host program's own output, produced inside the guest with the host's libraries
grep -q "^xz (XZ Utils) $(xz --version | head -n 1 | awk '{print $4}')" <(tr -d '\r' < "$T/console.txt") ||
	fail "the host program did not run in the guest"
ok "examples/minimal.spec boots and runs the host's xz"

mk_spec() { # NAME INIT-BODY
	printf '#!/bin/sh\n%s\n' "$2" > "$T/$1.init"
	cat > "$T/$1.spec" <<EOS
busybox /bin/busybox
dir  /dev 0755 0 0
nod  /dev/console 0600 0 0 c 5 1
nod  /dev/port 0640 0 0 c 1 4
file /init ./$1.init 0755 0 0
EOS
}
mk_spec panic 'echo "init exits now"'
rc=0
"$RF" boot "$T/panic.spec" --kernel "$K" --timeout 180 --append quiet > "$T/panic.txt" 2>&1 < /dev/null || rc=$?
[ "$rc" -eq 1 ] || fail "a panicking guest gave $rc, not 1"
grep -q "the guest kernel panicked" "$T/panic.txt" || fail "panic not reported"
ok "kernel panic gives exit status 1"

mk_spec status "printf '\\005' | dd of=/dev/port bs=1 seek=244 count=1 2>/dev/null; sleep 5"
rc=0
"$RF" boot "$T/status.spec" --kernel "$K" --timeout 180 --append quiet > "$T/status.txt" 2>&1 < /dev/null || rc=$?
[ "$rc" -eq 5 ] || { tail -n 20 "$T/status.txt"; fail "isa-debug-exit 5 gave $rc"; }
ok "isa-debug-exit value becomes the exit status"

finish
