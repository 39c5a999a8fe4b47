#!/usr/bin/env bash
# Debian packages that tests, benchmarks and packaging need. Idempotent:
# installs only what is missing. Run as root (CI and developer machines are).
set -euo pipefail
pkgs=(
  syslog-ng-core          # interoperability tests and side-by-side benchmarks (loggen)
  systemd-journal-remote  # builds real journal files for the journal receiver's tests
  systemd                 # journalctl, systemd-analyze
  zstd                    # zstdcat reads the logfile exporter's rotated files
  gzip
  util-linux              # setpriv (package-test)
  socat
  iproute2                # network namespaces and tc netem for resilience tests
  nftables                # packet loss in resilience tests (this kernel has no sch_netem)
  procps
  lintian                 # checks the .deb (make package-test)
  adduser
  curl
)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps.sh: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
