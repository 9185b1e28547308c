#!/usr/bin/env bash
# Prints the path of a Python interpreter of the requested minor version (e.g. 3.10).
# Looks in pyenv first, then on PATH; fails with instructions when none exists.
set -euo pipefail
want="${1:?usage: find_python.sh 3.10}"
if command -v pyenv >/dev/null 2>&1; then
  for v in $(pyenv versions --bare 2>/dev/null | grep -E "^${want//./\\.}(\.[0-9]+)?$" | sort -rV); do
    p="$(pyenv root)/versions/$v/bin/python$want"
    [ -x "$p" ] && { echo "$p"; exit 0; }
  done
fi
for c in "python$want" "python3"; do
  if p="$(command -v "$c" 2>/dev/null)" && "$p" -c "import sys; sys.exit(0 if '%d.%d' % sys.version_info[:2] == '$want' else 1)"; then
    echo "$p"; exit 0
  fi
done
cat >&2 <<MSG
error: Python $want was not found (looked in pyenv and for python$want on PATH).
Install it, for example:
  pyenv install $want        # then re-run make
  apt-get install python$want python$want-venv   # on Debian/Ubuntu releases that ship it
Rasa 3.6 needs Python 3.10; the action server needs Python 3.11.
MSG
exit 1
