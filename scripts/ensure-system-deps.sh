#!/usr/bin/env bash
# The system packages the tests drive besides Node: git, dulwich and libgit2 (pygit2) under
# /usr/bin/python3, and Debian's chromium for the browser test. Installs what is missing when run
# as root (CI and fresh machines); otherwise names the packages to install and fails.
set -euo pipefail
missing=()
command -v git >/dev/null || missing+=(git)
/usr/bin/python3 -c 'import dulwich' 2>/dev/null || missing+=(python3-dulwich)
/usr/bin/python3 -c 'import pygit2' 2>/dev/null || missing+=(python3-pygit2)
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ]; then
  echo "installing system packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" > /dev/null
else
  echo "the tests need: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
