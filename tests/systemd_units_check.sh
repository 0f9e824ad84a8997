#!/usr/bin/env bash
# The systemd units in deploy/systemd/ as systemd itself reads them:
# `systemd-analyze verify` on an instance of each, with ExecStart pointing at
# the built binary (verify checks that it exists), and no warning allowed.
# Then what ferry relies on: the proxy reloads on SIGHUP, the follow takes its
# connection strings from an environment file and never from its command line.
#
# usage: tests/systemd_units_check.sh FERRY_BINARY
set -euo pipefail
cd "$(dirname "$0")/.."
ferry=${1:?usage: $0 FERRY_BINARY}
command -v systemd-analyze >/dev/null || { echo "systemd_units_check: no systemd-analyze" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "systemd_units_check: $*" >&2; exit 1; }

for unit in deploy/systemd/*@.service; do
  name=$(basename "$unit")
  sed "s|/usr/bin/ferry|$ferry|g" "$unit" >"$work/$name"
  ln -s "$name" "$work/${name/@./@check.}"
  out=$(systemd-analyze verify --man=no "$work/${name/@./@check.}" 2>&1) || fail "$name: $out"
  [[ -z $out ]] || fail "$name: systemd warns: $out"
done

proxy=deploy/systemd/ferry-proxy@.service
grep -q '^ExecReload=/bin/kill -HUP \$MAINPID$' "$proxy" || fail "$proxy: reload is not SIGHUP"
grep -q '^ExecStart=.* --config /etc/ferry/proxy/%i.yaml' "$proxy" || fail "$proxy: config path"
follow=deploy/systemd/ferry-follow@.service
grep -q '^EnvironmentFile=/etc/ferry/follow/%i.env$' "$follow" || fail "$follow: no environment file"
grep '^ExecStart=' "$follow" | grep -q -e '--source\|--target' && fail "$follow: connection strings on the command line"
grep -q '^ExecStart=.* --dir /var/lib/ferry/%i$' "$follow" || fail "$follow: work directory"
reverse=deploy/systemd/ferry-follow-reverse@.service
grep -q '^ExecStart=/usr/bin/ferry db follow --reverse --dir /var/lib/ferry/%i$' "$reverse" ||
  fail "$reverse: not the reverse follow of the same work directory"
grep -q '^EnvironmentFile=/etc/ferry/follow/%i.env$' "$reverse" || fail "$reverse: environment file"
grep -q '^Conflicts=ferry-follow@%i.service$' "$reverse" || fail "$reverse: may run with the forward follow"
echo "systemd_units_check: $(ls deploy/systemd/*@.service | wc -l) units verified"
