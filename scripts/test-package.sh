#!/usr/bin/env bash
# The .deb of a district's server (docs/install.md): made by cargo-deb from the binary the tests
# just built (no second build), then its files, its conffile, its maintainer scripts and its
# systemd unit are checked. Called by scripts/test-all.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

target="${CARGO_TARGET_DIR:-target}"
if ! cargo deb --version 2>/dev/null | grep -q "3.8.0"; then
    cargo install --locked --quiet cargo-deb --version 3.8.0
fi
# The binary `cargo test` and the bindings' test built (building here with other features would
# build the server again).
[ -x "$target/debug/verivali-server" ] || cargo build --locked -q -p verivali-server
out="$(realpath -m "$target/package-test")"
rm -rf "$out" && mkdir -p "$out"
deb="$out/verivali-server.deb"
# --fast: the test's debug binary is large, and the test needs no small package.
cargo deb -q -p verivali-server --no-build --profile dev --no-strip --fast --output "$deb" >/dev/null

fail() { echo "package: $*" >&2; exit 1; }
files="$(dpkg-deb --contents "$deb")"
for path in ./usr/bin/verivali-server ./etc/default/verivali-server \
    ./usr/share/doc/verivali-server/install.md; do
    grep -q " $path\$" <<<"$files" || fail "$path is missing"
done
grep -qE " \./(usr/)?lib/systemd/system/verivali-server\.service$" <<<"$files" || fail "no systemd unit"
grep -q "^-rwxr-xr-x .* ./usr/bin/verivali-server$" <<<"$files" || fail "the binary is not executable"

control="$out/control"
dpkg-deb --control "$deb" "$control"
grep -qx "/etc/default/verivali-server" "$control/conffiles" || fail "the settings are no conffile"
grep -q "adduser --system" "$control/postinst" || fail "postinst makes no user"
grep -q "deb-systemd-helper" "$control/postinst" || fail "postinst does not enable the unit"
grep -q "^Depends:.*adduser" "$control/control" || fail "no dependency on adduser"
sh -n "$control/postinst" && sh -n "$control/postrm" || fail "a maintainer script does not parse"

# The package's binary is the tested one, and it answers.
tree="$out/tree"
dpkg-deb --extract "$deb" "$tree"
"$tree/usr/bin/verivali-server" --version | grep -q "verivali-server" || fail "the binary does not run"

# The unit, as systemd reads it (where systemd is installed; its sandbox needs no running systemd).
unit="$(find "$tree" -name verivali-server.service)"
if command -v systemd-analyze >/dev/null; then
    # verify checks the ExecStart binary exists: point it at the extracted one.
    sed "s|/usr/bin/verivali-server|$tree/usr/bin/verivali-server|" "$unit" >"$out/verivali-server.service"
    systemd-analyze verify "$out/verivali-server.service" 2>&1 | grep -v "^$" | tee "$out/verify.log" || true
    if grep -qiE "error|bad|invalid|unknown|ignoring|failed|neither" "$out/verify.log"; then
        fail "systemd does not accept the unit"
    fi
else
    echo "package: systemd-analyze is not installed; the unit's syntax was not checked by systemd"
fi
echo "package: $(du -h "$deb" | cut -f1) $(basename "$deb") holds the binary, the unit, the settings and the docs"
