#!/usr/bin/env bash
# Drives completion/orchestrator as bash does, with COMP_WORDS and COMP_CWORD, and checks
# that it offers every option --help lists, for the run and for merge.
#   tests/completion_test.sh BINARY SOURCE_DIR
set -euo pipefail
binary=$1
source_dir=$2
# shellcheck source=../completion/orchestrator
source "$source_dir/completion/orchestrator"

failures=0
# complete WORD...: what completing the last word offers, one a line, sorted.
complete_words() {
  COMP_WORDS=("$@")
  COMP_CWORD=$(($# - 1))
  COMPREPLY=()
  _orchestrator
  if ((${#COMPREPLY[@]})); then printf '%s\n' "${COMPREPLY[@]}" | sort; fi
}
expect() {
  local want=$1
  shift
  local got
  got=$(complete_words "$@" | tr '\n' ' ' | sed 's/ $//')
  if [[ $got != "$want" ]]; then
    echo "FAIL: completing '$*': got '$got', want '$want'" >&2
    failures=$((failures + 1))
  fi
}

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cd "$scratch"
touch tasks.csv kinds.toml notes.txt
mkdir rules

expect '--report --report-file' orchestrator --rep
expect 'json text' orchestrator --report ''
expect 'jsonl' orchestrator --format j
expect 'jsonl' orchestrator --format=j
expect 'PATCH POST PUT' orchestrator -X P
expect 'now,fail=1 now,fail=10%' orchestrator --halt now
expect 'kinds.toml rules' orchestrator --blueprints ''
expect 'kinds.toml notes.txt rules tasks.csv' orchestrator --output ''
expect 'tasks.csv' orchestrator t
expect 'merge' orchestrator me
expect '' orchestrator --delay ''
expect '--format' orchestrator merge --f
expect '--tasks' orchestrator merge --t
expect 'tasks.csv' orchestrator merge --tasks t
expect 'tasks.csv' orchestrator --url x t

# Every option --help names is offered, and nothing --help does not name.
help_options() { "$binary" "$@" --help | sed -n '/^Options:/,/^$/p' | grep -oE '(^|[ ,])-(-[a-z0-9.-]+|[a-zA-Z])' | tr -d ' ,' | sort -u; }
offered() { complete_words "$@" - | sort -u; }
if ! diff <(help_options) <(offered orchestrator); then
  echo "FAIL: the run's options in --help (<) and in the completion (>) differ" >&2
  failures=$((failures + 1))
fi
if ! diff <(help_options merge) <(offered orchestrator merge); then
  echo "FAIL: merge's options in --help (<) and in the completion (>) differ" >&2
  failures=$((failures + 1))
fi

if ((failures)); then
  echo "completion_test: $failures failure(s)" >&2
  exit 1
fi
echo "completion_test: passed"
