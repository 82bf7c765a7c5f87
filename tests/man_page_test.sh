#!/usr/bin/env bash
# The man page that help2man made reads as a man page: man -l formats it, it names the
# command and its version, and it lists every option --help lists.
#   tests/man_page_test.sh BINARY MAN_PAGE
set -euo pipefail
binary=$1
page=$2
[[ -s $page ]] || { echo "man_page_test: $page is missing or empty (help2man?)" >&2; exit 1; }
text=$(MANWIDTH=200 man -l "$page" 2>/dev/null)
failures=0
check() {
  if ! grep -qF -- "$1" <<<"$text"; then
    echo "FAIL: the man page lacks '$1'" >&2
    failures=$((failures + 1))
  fi
}
check "ORCHESTRATOR(1)"
check "orchestrator - runs a CSV of tasks"
check "$("$binary" --version | head -1 | cut -d' ' -f2)"
check "Exit status"
while read -r option; do
  check "$option"
done < <("$binary" --help | sed -n '/^Options:/,/^$/p' | grep -oE -- '--[a-z0-9.-]+' | sort -u)
if ((failures)); then
  echo "man_page_test: $failures failure(s)" >&2
  exit 1
fi
echo "man_page_test: passed"
