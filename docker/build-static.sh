#!/usr/bin/env bash
# Builds statically linked release binaries of every program under bin/ and
# stages the context of the FROM-scratch image (docker/Dockerfile.scratch):
#
#   target/static/bin/<name>        the static binaries
#   target/static/context/          Dockerfile + rootfs/ (the image's files)
#   target/static/cargo/            cargo's build directory for this build
#
# Then, on a machine with a Docker engine:
#
#   docker build -t nsq-rs:scratch target/static/context
#
# Linking: x86_64-unknown-linux-musl when that Rust target is installed;
# otherwise glibc, statically (`-C target-feature=+crt-static` for the host's
# *-linux-gnu target), which needs the static C library (libc.a, from Debian's
# libc6-dev). glibc 2.34 and later have the `files` and `dns` name service
# built in, so the static binaries resolve host names (/etc/hosts and DNS,
# e.g. compose service names) without any shared library.
#
# Options are passed to cargo (e.g. --offline). Environment:
#   STATIC_TARGET     force a Rust target triple
#   CARGO_TARGET_DIR  cargo's build directory (default target/static/cargo, kept
#                     apart from target/ so other builds are neither blocked nor
#                     rebuilt by this one)
set -euo pipefail
cd "$(dirname "$0")/.."

die() { echo "build-static: error: $*" >&2; exit 1; }
say() { echo "build-static: $*"; }

host="$(rustc -vV | sed -n 's/^host: //p')"
[ -n "$host" ] || die "cannot find the host triple (is rustc installed?)"

target="${STATIC_TARGET:-}"
if [ -z "$target" ]; then
    arch="${host%%-*}"
    if rustup target list --installed 2>/dev/null | grep -qx "$arch-unknown-linux-musl"; then
        target="$arch-unknown-linux-musl"
    else
        target="$host"
    fi
fi

case "$target" in
    *-linux-musl)
        say "target $target (musl, static by default)"
        ;;
    *-linux-gnu)
        cc="${CC:-cc}"
        command -v "$cc" >/dev/null || die "no C compiler ($cc) to link with"
        libc_a="$("$cc" -print-file-name=libc.a)"
        if [ "$libc_a" = "libc.a" ] || [ ! -f "$libc_a" ]; then
            die "static glibc (libc.a) not found for $cc: install the C library development files (Debian/Ubuntu: apt-get install libc6-dev; Fedora: glibc-static), or install the musl target"
        fi
        say "target $target, glibc linked statically ($libc_a)"
        ;;
    *)
        die "unsupported target $target: use *-linux-musl or *-linux-gnu"
        ;;
esac

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target/static/cargo}"
# +crt-static applies to the target only: with an explicit --target, build
# scripts and proc macros are still built normally for the host.
export RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static"
# Same shipping profile as docker/Dockerfile: no debug info, symbols kept.
export CARGO_PROFILE_RELEASE_DEBUG=0
export CARGO_PROFILE_RELEASE_STRIP=debuginfo

say "cargo build --release --locked --bins --target $target $*  (CARGO_TARGET_DIR=$CARGO_TARGET_DIR)"
cargo build --release --locked --bins --target "$target" "$@"

out=target/static/bin
rm -rf "$out"
mkdir -p "$out"
names=()
for dir in bin/*/; do
    name="$(basename "$dir")"
    src="$CARGO_TARGET_DIR/$target/release/$name"
    [ -x "$src" ] || die "$src was not built"
    install -m 0755 "$src" "$out/$name"
    names+=("$name")
done

# Every binary must be static: no program interpreter, no shared libraries.
for name in "${names[@]}"; do
    bin="$out/$name"
    if readelf -lW "$bin" 2>/dev/null | grep -q 'Requesting program interpreter' \
        || readelf -dW "$bin" 2>/dev/null | grep -q '(NEEDED)'; then
        die "$bin is dynamically linked: $(ldd "$bin" 2>&1 | tr '\n' ' ')"
    fi
    if command -v ldd >/dev/null; then
        case "$(ldd "$bin" 2>&1)" in
            *"statically linked"*|*"not a dynamic executable"*) ;;
            *) die "$bin: ldd lists shared libraries: $(ldd "$bin" 2>&1 | tr '\n' ' ')" ;;
        esac
    fi
    if command -v file >/dev/null; then
        info="$(file -b "$bin")"
        case "$info" in
            *"statically linked"*|*"static-pie linked"*) ;;
            *) die "$bin: file says: $info" ;;
        esac
    else
        info="static (readelf, ldd)"
    fi
    say "$(printf '%-12s %6s KiB  %s' "$name" "$(( $(stat -c %s "$bin") / 1024 ))" \
        "$(grep -o 'stati[a-z-]* linked' <<<"$info" || echo "$info")")"
done

# The scratch image's files, laid out as in the official image.
ctx=target/static/context
rm -rf "$ctx"
root="$ctx/rootfs"
mkdir -p "$root/usr/local/bin" "$root/bin" "$root/data" "$root/tmp" "$root/etc"
chmod 1777 "$root/tmp"
chmod 0755 "$root/data"
for name in "${names[@]}"; do
    install -m 0755 "$out/$name" "$root/usr/local/bin/$name"
    ln -s "/usr/local/bin/$name" "$root/$name"
    ln -s "/usr/local/bin/$name" "$root/bin/$name"
done
printf 'hosts: files dns\n' > "$root/etc/nsswitch.conf"
cp docker/Dockerfile.scratch "$ctx/Dockerfile"

# The binaries must run with nothing else on the filesystem, as in FROM scratch:
# chroot into the staged rootfs (needs root; skipped otherwise).
if [ "$(id -u)" = 0 ] && command -v chroot >/dev/null; then
    for name in nsqd nsqlookupd nsqadmin; do
        [ -e "$root/usr/local/bin/$name" ] || continue
        v="$(chroot "$root" "/$name" --version 2>&1)" || die "/$name --version failed inside the staged rootfs: $v"
        say "chroot rootfs: /$name --version -> $v"
    done
else
    say "not root: skipped running the binaries inside the staged rootfs (chroot)"
fi

say "static binaries in $out; image context in $ctx"
say "build the image with:  docker build -t nsq-rs:scratch $ctx"
