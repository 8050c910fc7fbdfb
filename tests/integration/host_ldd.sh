#!/usr/bin/env bash
# The host resolver against the real loader: for every dynamically linked ELF file in /usr/bin
# and /usr/sbin, `rootfs-fuse ldd` must find the same libraries as ldd (canonical paths,
# linux-vdso aside); the same for $ORIGIN DT_RUNPATH / DT_RPATH programs built here. Then the
# host layer's view (merged-/usr links, library symlink chains) and its errors.
. "$(dirname "$0")/lib.sh"
cmp_py="$RF_SRC/tests/integration/ldd_compare.py"

# 1. every dynamically linked program of the test machine
python3 "$cmp_py" "$RF" /usr/bin /usr/sbin > "$T/cmp.txt" ||
	fail "rootfs-fuse ldd differs from ldd: $(cat "$T/cmp.txt")"
ok "$(tail -n 1 "$T/cmp.txt")"

# 2. programs with $ORIGIN paths, built here: app needs libbar (which needs libfoo)
mkdir -p "$T/p/bin" "$T/p/lib" "$T/p/src"
cd "$T/p"
echo 'int foo(void) { return 42; }' > src/foo.c
printf 'int foo(void);\nint bar(void) { return foo() + 1; }\n' > src/bar.c
printf 'int bar(void);\nint main(void) { return bar() == 43 ? 0 : 1; }\n' > src/app.c
gcc -shared -fPIC -Wl,-soname,libfoo.so.1 -o lib/libfoo.so.1.2.3 src/foo.c
ln -s libfoo.so.1.2.3 lib/libfoo.so.1
gcc -shared -fPIC -Wl,-soname,libbar.so.1 -o lib/libbar.so.1 src/bar.c lib/libfoo.so.1
gcc -o bin/app_rpath src/app.c lib/libbar.so.1 -Wl,-rpath-link,lib \
	-Wl,--disable-new-dtags -Wl,-rpath,'$ORIGIN/../lib'
# DT_RUNPATH only serves the program's own DT_NEEDED: libbar's libfoo comes from libbar's own
gcc -shared -fPIC -Wl,-soname,libbar.so.1 -o lib/libbar2.so src/bar.c lib/libfoo.so.1 \
	-Wl,--enable-new-dtags -Wl,-rpath,'${ORIGIN}'
mkdir -p lib2 && cp lib/libbar2.so lib2/libbar.so.1 && ln -s ../lib/libfoo.so.1 lib2/libfoo.so.1
gcc -o bin/app_runpath src/app.c lib2/libbar.so.1 -Wl,-rpath-link,lib \
	-Wl,--enable-new-dtags -Wl,-rpath,'$ORIGIN/../lib2'
# glibc-hwcaps and legacy hwcaps subdirectories of a DT_RUNPATH directory come first
printf 'int foo(void);\nint bar(void);\nint main(void) { return foo() + bar() == 85 ? 0 : 1; }\n' > src/app2.c
mkdir -p lib3/glibc-hwcaps/x86-64-v2 lib3/x86_64
cp lib/libfoo.so.1.2.3 lib3/libfoo.so.1
cp lib/libfoo.so.1.2.3 lib3/glibc-hwcaps/x86-64-v2/libfoo.so.1
cp lib/libbar.so.1 lib3/libbar.so.1
cp lib/libbar.so.1 lib3/x86_64/libbar.so.1
gcc -o bin/app_hwcaps src/app2.c lib/libbar.so.1 lib/libfoo.so.1 \
	-Wl,--enable-new-dtags -Wl,-rpath,'$ORIGIN/../lib3'
bin/app_hwcaps || fail "app_hwcaps does not run"
# $LIB and $PLATFORM (an unknown token drops its entry). $PLATFORM is not always uname -m:
# glibc 2.36 makes it "haswell" (or "xeon_phi") on Intel CPUs with those features; the real
# loader says which.
plat=$(/lib64/ld-linux-x86-64.so.2 --list-diagnostics | sed -n 's/^dl_platform="\(.*\)"$/\1/p')
[ -n "$plat" ] || fail "ld.so --list-diagnostics gives no dl_platform"
mkdir -p lib/x86_64-linux-gnu "plat/$plat"
cp lib/libbar.so.1 lib/x86_64-linux-gnu/libbar.so.1
cp lib/libfoo.so.1.2.3 "plat/$plat/libfoo.so.1"
gcc -o bin/app_dst src/app2.c lib/libbar.so.1 lib/libfoo.so.1 -Wl,--enable-new-dtags \
	-Wl,-rpath,'$ORIGINAL/lib:$ORIGIN/../$LIB:${ORIGIN}/../plat/${PLATFORM}'
bin/app_dst || fail "app_dst does not run"
# the legacy hwcaps subdirectories of a directory (tls, $PLATFORM, avx512_1, x86_64 and their
# combinations) come after glibc-hwcaps/ and before the directory itself
mkdir -p "lib4/$plat"
cp lib/libfoo.so.1.2.3 lib4/libfoo.so.1
cp lib/libfoo.so.1.2.3 "lib4/$plat/libfoo.so.1"
cp lib/libbar.so.1 lib4/libbar.so.1
gcc -o bin/app_legacy src/app2.c lib/libbar.so.1 lib/libfoo.so.1 \
	-Wl,--enable-new-dtags -Wl,-rpath,'$ORIGIN/../lib4'
LD_DEBUG=libs bin/app_legacy 2>&1 | has -F "trying file=$T/p/bin/../lib4/$plat/libfoo.so.1" ||
	fail "app_legacy: the loader did not try lib4/$plat"
bin/app_rpath || fail "app_rpath does not run"
bin/app_runpath || fail "app_runpath does not run"
readelf -d bin/app_runpath | has RUNPATH || fail "app_runpath has no DT_RUNPATH"
readelf -d bin/app_rpath | has '(RPATH)' || fail "app_rpath has no DT_RPATH"
python3 "$cmp_py" "$RF" "$T/p/bin" > "$T/cmp2.txt" ||
	fail "\$ORIGIN programs: $(cat "$T/cmp2.txt")"
"$RF" ldd bin/app_rpath > "$T/ldd.txt"
grep -qxF "	libfoo.so.1 => $T/p/bin/../lib/libfoo.so.1" "$T/ldd.txt" ||
	fail "app_rpath: $(cat "$T/ldd.txt")"
grep -qx '	/lib64/ld-linux-x86-64.so.2' "$T/ldd.txt" || fail "no interpreter: $(cat "$T/ldd.txt")"
ok "\$ORIGIN in DT_RPATH and DT_RUNPATH resolved as the loader does"

# 3. the host layer's view: merged-/usr links and library chains as on the host
"$RF" ls --long --host /usr/bin/xz > "$T/xz.txt"
for l in /lib /lib64; do
	if [ -L "$l" ]; then
		grep -qP "^l\S+ 0 0 \d+ \Q$l -> $(readlink "$l")\E\t" "$T/xz.txt" ||
			fail "$l link missing: $(cat "$T/xz.txt")"
	fi
done
lzma=$(readlink -f /lib/x86_64-linux-gnu/liblzma.so.5)
lzma_link=$(readlink /usr/lib/x86_64-linux-gnu/liblzma.so.5)
grep -qF "/usr/lib/x86_64-linux-gnu/liblzma.so.5 -> $lzma_link	host /usr/bin/xz" "$T/xz.txt" ||
	fail "liblzma.so.5 chain: $(cat "$T/xz.txt")"
grep -qP "^-rw\S+ 0 0 $(stat -c %s "$lzma") \Q$lzma\E\t" "$T/xz.txt" ||
	fail "liblzma file: $(cat "$T/xz.txt")"
"$RF" ls --long --host /usr/bin/file > "$T/file.txt"
libz=/usr/lib/x86_64-linux-gnu/libz.so.1
grep -qF "$libz -> $(readlink $libz)	" "$T/file.txt" || fail "libz chain: $(cat "$T/file.txt")"
grep -qF " $(readlink -f $libz)	" "$T/file.txt" || fail "libz file: $(cat "$T/file.txt")"
ok "host layer keeps /lib -> usr/lib and the libz/liblzma symlink chains"

# the guest program runs from the view's own files: export nothing, check through ls that
# every path the loader opens resolves to a regular file in the view
"$RF" ls --host "$T/p/bin/app_rpath" > "$T/app.txt"
for f in "$T/p/bin/app_rpath" "$T/p/lib/libbar.so.1" "$T/p/lib/libfoo.so.1" \
	"$T/p/lib/libfoo.so.1.2.3"; do
	grep -qxF "$f" "$T/app.txt" || fail "$f missing from the view: $(cat "$T/app.txt")"
done
grep -qxF "$T/p/src/app.c" "$T/app.txt" && fail "the layer read outside the resolution"
# a library from glibc-hwcaps/ brings its baseline copy for a guest on a lesser CPU
"$RF" ls --host "$T/p/bin/app_hwcaps" > "$T/hw.txt"
if "$RF" ldd "$T/p/bin/app_hwcaps" | has "glibc-hwcaps/x86-64-v2/libfoo.so.1"; then
	grep -qxF "$T/p/lib3/glibc-hwcaps/x86-64-v2/libfoo.so.1" "$T/hw.txt" || fail "hwcaps lib"
	grep -qxF "$T/p/lib3/libfoo.so.1" "$T/hw.txt" || fail "no baseline libfoo: $(cat "$T/hw.txt")"
fi
# ... and so does one from a legacy hwcaps subdirectory ($PLATFORM here)
"$RF" ls --host "$T/p/bin/app_legacy" > "$T/legacy.txt"
grep -qxF "$T/p/lib4/$plat/libfoo.so.1" "$T/legacy.txt" || fail "legacy lib: $(cat "$T/legacy.txt")"
grep -qxF "$T/p/lib4/libfoo.so.1" "$T/legacy.txt" || fail "no baseline: $(cat "$T/legacy.txt")"
ok "host layer of a built program has its libraries and nothing else of the directory"

# 4. errors: a missing library names the program and the library's requester
rm lib/libfoo.so.1.2.3
expect_fail "^rootfs-fuse: .*/bin/app_rpath: libfoo\.so\.1 \(needed by .*/lib/libbar\.so\.1\) not found$" \
	"$RF" ls --host "$T/p/bin/app_rpath"
"$RF" ldd bin/app_rpath > "$T/ldd2.txt" && fail "ldd of a broken program exits 0"
grep -qxF "	libfoo.so.1 => not found" "$T/ldd2.txt" || fail "no 'not found' line: $(cat "$T/ldd2.txt")"
# a PT_INTERP naming a loader that does not exist (same length, patched in place)
python3 - bin/app_rpath bin/app_badinterp <<'EOP'
import sys
b = open(sys.argv[1], 'rb').read()
old = b'/lib64/ld-linux-x86-64.so.2'
assert old in b
open(sys.argv[2], 'wb').write(b.replace(old, (b'/nonexistent/ld' + b'x' * 40)[:len(old)]))
EOP
expect_fail "^rootfs-fuse: --host: .*/bin/app_badinterp: interpreter /nonexistent/ldx+ not found$" \
	"$RF" ls --host "$T/p/bin/app_badinterp"
ln -s loop1 loop2 && ln -s loop2 loop1
expect_fail "loop1: Too many levels of symbolic links$" "$RF" ls --host "$T/p/loop1"
printf 'host /usr/bin/xz\nhost /usr/bin/does-not-exist\n' > "$T/bad.spec"
expect_fail "^rootfs-fuse: $T/bad.spec:2: /usr/bin/does-not-exist: No such file or directory$" \
	"$RF" ls "$T/bad.spec"
expect_fail "^rootfs-fuse: .*/nope: No such file or directory$" "$RF" ldd "$T/nope"
expect_fail "Is a directory" "$RF" ls --host /usr/bin
gcc -static -o bin/static -x c - <<<'int main(void) { return 0; }'
[ "$("$RF" ldd bin/static)" = "	statically linked" ] || fail "static: $("$RF" ldd bin/static)"
[ "$("$RF" ldd src/foo.c)" = "	not a dynamic executable" ] || fail "non-ELF: $("$RF" ldd src/foo.c)"
# klibc's programs have a PT_INTERP and no PT_DYNAMIC: the kernel still maps the interpreter
if [ -f /usr/lib/klibc/bin/sh ]; then
	kinterp=$(readelf -l /usr/lib/klibc/bin/sh | sed -n 's/.*Requesting program interpreter: \(.*\)]/\1/p')
	[ -n "$kinterp" ] || fail "no PT_INTERP in klibc's sh"
	[ "$("$RF" ldd /usr/lib/klibc/bin/sh)" = "	$kinterp" ] ||
		fail "klibc sh: $("$RF" ldd /usr/lib/klibc/bin/sh)"
	"$RF" ls --host /usr/lib/klibc/bin/sh | has -xF "$(readlink -f "$kinterp")" ||
		fail "klibc interpreter not in the view"
fi
"$RF" ldd --help | has "usage: rootfs-fuse ldd FILE" || fail "ldd --help"
ok "missing library, interpreter and file, symlink loop, directory argument, --help"

finish
