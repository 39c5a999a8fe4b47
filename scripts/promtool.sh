#!/usr/bin/env bash
# Puts Debian's promtool into bin/ without installing the prometheus package
# (whose maintainer scripts would start a server): download and unpack only.
set -euo pipefail
out=${1:-bin/promtool}
[ -x "$out" ] && exit 0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && apt-get download -qq prometheus >/dev/null 2>&1 || { apt-get update -qq && apt-get download -qq prometheus; })
dpkg -x "$tmp"/prometheus_*.deb "$tmp/root"
mkdir -p "$(dirname "$out")"
cp "$tmp/root/usr/bin/promtool" "$out"
