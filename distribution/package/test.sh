#!/usr/bin/env bash
# Installs the .deb on this (Debian, root) machine, checks it as a host would
# run it, and removes it again. Run by `make package-test`, part of `make test`.
set -euo pipefail
deb=$(ls _build/otelcol-logx_*.deb | head -n1)
fail() { echo "package-test: $*" >&2; exit 1; }
cleanup() {
  [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null || true
  dpkg -P otelcol-logx >/dev/null 2>&1 || true
}
trap cleanup EXIT

echo "package-test: lintian $deb"
lintian --fail-on error --suppress-tags statically-linked-binary "$deb"

echo "package-test: install"
dpkg -i "$deb"
test -x /usr/bin/otelcol-logx || fail "binary not installed"
getent passwd otelcol-logx >/dev/null || fail "system user not created"
# The package's version is the binary's, in Debian's spelling (0.1.0-dev is
# 0.1.0~dev-1): CHANGELOG.md and both changelogs are checked by
# components/version_test.go, this checks what was built from them.
pkg_version=$(dpkg-query -W -f='${Version}' otelcol-logx)
bin_version=$(/usr/bin/otelcol-logx --version | awk '{print $NF}')
[ "$(echo "$bin_version" | tr - '~')-1" = "$pkg_version" ] || fail "package version $pkg_version, binary says $bin_version"
test -d /var/lib/otelcol-logx || fail "state directory not created"

# Offline: no systemd PID 1 is needed, but every ExecStart= binary must be
# installed and every unit named in Sockets= must exist.
echo "package-test: systemd-analyze verify"
units=(otelcol-logx.service otelcol-logx.socket otelcol-logx-fifo.socket
  otelcol-logx-cutover.service otelcol-logx-rollback.service)
for u in "${units[@]}"; do test -f "/lib/systemd/system/$u" || fail "$u not installed"; done
out=$(systemd-analyze verify "${units[@]/#//lib/systemd/system/}" 2>&1) || { echo "$out"; fail "systemd-analyze verify failed"; }
# verify exits 0 on some problems it only prints (e.g. unknown keys).
[ -z "$out" ] || { echo "$out"; fail "systemd-analyze verify printed warnings"; }
test -x /usr/lib/otelcol-logx/cutover || fail "cutover script not installed"
grep -q '^net.unix.max_dgram_qlen = ' /usr/lib/sysctl.d/60-otelcol-logx.conf || fail "sysctl setting not installed"

# Installing must not enable anything: an enabled otelcol-logx would start
# beside syslog-ng at the next boot. Only the cutover enables it.
if ls /etc/systemd/system/*.wants/otelcol-logx* >/dev/null 2>&1; then
  fail "the package enabled a unit: $(ls /etc/systemd/system/*.wants/otelcol-logx*)"
fi

# The socket unit's ExecStartPre: a FIFO left by another daemon (another
# owner, another mode) is given to root with the unit's mode, the only FIFO
# systemd's ListenFIFO= opens; the pipe itself stays.
fifo_dir=$(mktemp -d)
mkfifo -m 0600 "$fifo_dir/apps.fifo"
chown nobody "$fifo_dir/apps.fifo"
ino=$(stat -c %i "$fifo_dir/apps.fifo")
/usr/lib/otelcol-logx/cutover adopt-fifo "$fifo_dir/apps.fifo" 0620
[ "$(stat -c '%u:%g %a %i' "$fifo_dir/apps.fifo")" = "0:0 620 $ino" ] || fail "adopt-fifo: $(stat -c '%u:%g %a %i' "$fifo_dir/apps.fifo"), want 0:0 620 $ino"
rm -rf "$fifo_dir"

# Run the packaged config as the unit would: its user, its environment, its
# runtime directory.
export LOGX_STATE_DIR=/var/lib/otelcol-logx LOGX_RUN_DIR=/run/otelcol-logx LOGX_LOG_DIR=/var/log/otelcol-logx
install -d -o otelcol-logx -g otelcol-logx "$LOGX_RUN_DIR"
echo "package-test: validate the packaged config"
setpriv --reuid=otelcol-logx --regid=otelcol-logx --init-groups /usr/bin/otelcol-logx validate --config=/etc/otelcol-logx/config.yaml

echo "package-test: start as otelcol-logx"
setpriv --reuid=otelcol-logx --regid=otelcol-logx --init-groups /usr/bin/otelcol-logx --config=/etc/otelcol-logx/config.yaml >_build/package-test.log 2>&1 &
pid=$!
ok=
for _ in $(seq 1 100); do
  if curl -fsS -o /dev/null http://127.0.0.1:13133/; then ok=1; break; fi
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
[ -n "$ok" ] || { cat _build/package-test.log; fail "collector did not become healthy"; }
kill -TERM "$pid"
wait "$pid" || fail "collector did not exit cleanly on SIGTERM"
pid=

echo "package-test: remove and purge"
dpkg -r otelcol-logx
test ! -e /usr/bin/otelcol-logx || fail "binary left after remove"
test -e /etc/otelcol-logx/config.yaml || fail "conffile removed before purge"
dpkg -P otelcol-logx
test ! -e /etc/otelcol-logx || fail "/etc/otelcol-logx left after purge"
! getent passwd otelcol-logx >/dev/null || fail "system user left after purge"
rm -rf "$LOGX_RUN_DIR"
echo "package-test: ok"
