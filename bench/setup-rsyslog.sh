#!/usr/bin/env bash
# bench/setup-rsyslog.sh: an rsyslogd for the S4 datagram comparison,
# unpacked, not installed. Debian's rsyslog conflicts with syslog-ng-core
# (both provide system-log-daemon), so the packages are downloaded with
# apt-get and unpacked with dpkg -x into DIR (default bench/out/rsyslog);
# bench/run.sh then runs
#
#   LD_LIBRARY_PATH=DIR/usr/lib/x86_64-linux-gnu \
#     DIR/usr/sbin/rsyslogd -M DIR/usr/lib/x86_64-linux-gnu/rsyslog -n -f CONF -i PIDFILE
#
# Idempotent: does nothing when DIR/usr/sbin/rsyslogd runs. Prints DIR.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DIR=${1:-${LOGX_RSYSLOG_DIR:-$ROOT/bench/out/rsyslog}}
LIB=$DIR/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)
if LD_LIBRARY_PATH=$LIB "$DIR/usr/sbin/rsyslogd" -v >/dev/null 2>&1; then
  echo "$DIR"
  exit 0
fi
mkdir -p "$DIR/debs"
# apt-get download writes into the current directory; as root the files are
# fetched unsandboxed (a warning, not an error).
(cd "$DIR/debs" && apt-get download rsyslog libestr0 libfastjson4 >&2)
for deb in "$DIR"/debs/*.deb; do dpkg -x "$deb" "$DIR"; done
LD_LIBRARY_PATH=$LIB "$DIR/usr/sbin/rsyslogd" -v | head -1 >&2
echo "$DIR"
