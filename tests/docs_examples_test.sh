#!/usr/bin/env bash
# Runs the examples of README.md and docs/manual.md, so that none can fail as printed.
#   tests/docs_examples_test.sh BINARY SOURCE_DIR
#
# The convention (also at the top of docs/manual.md):
# - A fenced block whose info string is `sh server` starts a local server in the background.
#   The test runs each such block itself, in a folder holding a copy of data/, before any
#   example, and stops it at the end. The servers listen on 127.0.0.1 only, on the ports
#   below; one of them already taken is a failure that says so.
# - A block whose info string is `sh runnable` (optionally `exit=N`, its expected status,
#   0 when absent) is run with `bash -euo pipefail`, in a fresh folder per document holding a
#   copy of data/ (so the blocks of a document share their files, in order), with
#   `orchestrator` on PATH being BINARY.
# - A block whose info string is `text output`, the next fenced block after a runnable one, is
#   what that block printed: its lines, leaving out those that start with "orchestrator: "
#   (stderr, with times in it), must be the block's stdout, both sorted (rows come in the order
#   tasks finish).
# - A block whose info string has `file=PATH` shows that file of the repository whole: it must
#   be the same, line for line.
# It also checks that README.md has at most 250 lines, that every file under data/ is named
# (itself or its folder) by a runnable or server block, and that every --option of --help and
# of `merge --help` appears in docs/manual.md, and that every header of include/orchestrator and
# src is in docs/design.md's file map.
set -euo pipefail

if (($# != 2)); then
  echo "usage: $0 BINARY SOURCE_DIR" >&2
  exit 2
fi
binary=$(realpath "$1")
source_dir=$(realpath "$2")
documents=(README.md docs/manual.md)
ports=(8000 8080 9000)
max_readme_lines=250

work=$(mktemp -d)
server_groups=()
cleanup() {
  local group
  for group in "${server_groups[@]}"; do
    kill -- "-$group" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

failures=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

mkdir -p "$work/bin"
ln -s "$binary" "$work/bin/orchestrator"

# Every fenced block of a document into $work/blocks/DOC/N, listed in $work/blocks/DOC/index
# as "N<TAB>LINE<TAB>INFO" (LINE: the line of its opening fence). A fence may be indented (in a
# list); its content loses that indentation.
extract() {
  local document=$1 out=$2
  mkdir -p "$out"
  awk -v out="$out" '
    BEGIN { n = 0; inside = 0 }
    {
      if (!inside && match($0, /^ *```/)) {
        indent = RLENGTH - 3
        info = substr($0, RLENGTH + 1)
        n++
        inside = 1
        file = out "/" n
        printf "" > file
        printf "%d\t%d\t%s\n", n, NR, info > (out "/index")
        next
      }
      if (inside) {
        line = $0
        if (line ~ /^ *```[ \t]*$/) { inside = 0; close(file); next }
        if (indent > 0 && substr(line, 1, indent) ~ /^ *$/) line = substr(line, indent + 1)
        print line > file
      }
    }
    END { if (inside) { print "unclosed fence" > "/dev/stderr"; exit 1 } }
  ' "$source_dir/$document"
  touch "$out/index"
}

for document in "${documents[@]}"; do
  if [[ ! -f "$source_dir/$document" ]]; then
    fail "$document is missing"
    continue
  fi
  extract "$document" "$work/blocks/$document"
done

# --- What the documents must hold -------------------------------------------------------------

readme_lines=$(wc -l < "$source_dir/README.md")
if ((readme_lines > max_readme_lines)); then
  fail "README.md has $readme_lines lines, more than $max_readme_lines"
fi

# The text of every runnable and server block, to look data/ files up in.
: > "$work/run-text"
for document in "${documents[@]}"; do
  index="$work/blocks/$document/index"
  [[ -f "$index" ]] || continue
  while IFS=$'\t' read -r n _ info; do
    case " $info " in
      *" runnable "* | *" server "*) cat "$work/blocks/$document/$n" >> "$work/run-text" ;;
    esac
  done < "$index"
done
named() {  # is PATH, followed by no more of a name, in the runnable text?
  local escaped
  # shellcheck disable=SC2016 # a sed expression, not a shell one
  escaped=$(printf '%s' "$1" | sed 's/[.[\*^$()+?{|]/\\&/g')
  grep -Eq -- "${escaped}([^A-Za-z0-9._-]|\$)" "$work/run-text"
}
while IFS= read -r file; do
  path=${file#"$source_dir"/}
  found=0
  candidate=$path
  while [[ "$candidate" == data/* ]]; do
    if named "$candidate"; then
      found=1
      break
    fi
    candidate=${candidate%/*}
  done
  ((found)) || fail "$path is used by no runnable example (README.md, docs/manual.md)"
done < <(find "$source_dir/data" -type f | sort)

# Every long option of --help and of merge --help is in the manual.
{
  "$binary" --help
  "$binary" merge --help
} | grep -E '^ +-' | grep -oE -- '--[a-z0-9][a-z0-9.-]*' | sort -u > "$work/options"
if [[ ! -s "$work/options" ]]; then
  fail "no option found in $binary --help"
fi
while IFS= read -r option; do
  escaped=$(printf '%s' "$option" | sed 's/\./\\./g')
  if ! grep -Eq -- "${escaped}([^a-z0-9.-]|\$)" "$source_dir/docs/manual.md"; then
    fail "docs/manual.md does not describe $option (from --help)"
  fi
done < "$work/options"

# Every header is in docs/design.md's file map.
while IFS= read -r header; do
  name=${header##*/}
  if ! grep -qF -- "\`$name\`" "$source_dir/docs/design.md" \
    && ! grep -qF -- "/$name\`" "$source_dir/docs/design.md"; then
    fail "docs/design.md's file map does not mention ${header#"$source_dir"/}"
  fi
done < <(find "$source_dir/include/orchestrator" "$source_dir/src" -name '*.h' -o -name '*.h.in' | sort)

# --- The servers --------------------------------------------------------------------------------

port_open() {
  (exec 3<> "/dev/tcp/127.0.0.1/$1") 2>/dev/null
}
before_servers=$failures
for port in "${ports[@]}"; do
  if port_open "$port"; then
    fail "127.0.0.1:$port is already taken: the examples' servers need it free"
  fi
done
if ((failures > before_servers)); then
  echo "docs_examples_test: $failures failure(s)" >&2
  exit 1
fi

mkdir -p "$work/servers"
cp -r "$source_dir/data" "$work/servers/data"
servers=0
for document in "${documents[@]}"; do
  while IFS=$'\t' read -r n line info; do
    [[ " $info " == *" server "* ]] || continue
    # The same server shown in both documents is started once.
    if [[ -f "$work/servers/started" ]] && grep -qxF "$(cksum < "$work/blocks/$document/$n")" \
      "$work/servers/started"; then
      continue
    fi
    cksum < "$work/blocks/$document/$n" >> "$work/servers/started"
    servers=$((servers + 1))
    log="$work/servers/server-$servers.log"
    # setsid: the block and whatever it starts in the background are one process group,
    # stopped at the end by its id.
    (cd "$work/servers" && exec setsid bash -e "$work/blocks/$document/$n" > "$log" 2>&1) &
    server_groups+=("$!")
    echo "server: $document:$line" >&2
  done < "$work/blocks/$document/index"
done
if ((servers == 0)); then
  fail "no \`sh server\` block in ${documents[*]}"
fi
for port in "${ports[@]}"; do
  for _ in $(seq 100); do
    port_open "$port" && break
    sleep 0.1
  done
  if ! port_open "$port"; then
    fail "no server came up on 127.0.0.1:$port within 10 s"
    cat "$work/servers/"*.log >&2 || true
  fi
done
if ((failures > before_servers)); then
  echo "docs_examples_test: $failures failure(s)" >&2
  exit 1
fi

# --- The examples ---------------------------------------------------------------------------------

examples=0
for document in "${documents[@]}"; do
  run_dir="$work/run/$document"
  mkdir -p "$run_dir"
  cp -r "$source_dir/data" "$run_dir/data"
  blocks="$work/blocks/$document"
  previous_runnable=""
  while IFS=$'\t' read -r n line info; do
    if [[ " $info " == *" output "* ]]; then
      if [[ -z "$previous_runnable" ]]; then
        fail "$document:$line: an output block that follows no runnable block"
        continue
      fi
      grep -v '^orchestrator: ' "$blocks/$n" | sort > "$work/expected" || true
      sort "$blocks/$previous_runnable.stdout" > "$work/actual"
      if ! diff -u "$work/expected" "$work/actual" > "$work/diff"; then
        fail "$document:$line: the output shown is not what the example printed (sorted; - shown, + printed):"
        cat "$work/diff" >&2
      fi
      previous_runnable=""
      continue
    fi
    previous_runnable=""
    if [[ " $info " =~ \ file=([^ ]+)\  ]]; then
      # A block that shows a file of the repository whole: it must be that file.
      if ! diff -u "$source_dir/${BASH_REMATCH[1]}" "$blocks/$n" > "$work/diff"; then
        fail "$document:$line: the block is not ${BASH_REMATCH[1]} (- the file, + the block):"
        cat "$work/diff" >&2
      fi
      continue
    fi
    [[ " $info " == *" runnable "* ]] || continue
    expected_status=0
    if [[ " $info " =~ \ exit=([0-9]+)\  ]]; then
      expected_status=${BASH_REMATCH[1]}
    fi
    examples=$((examples + 1))
    status=0
    started=$SECONDS
    (cd "$run_dir" && PATH="$work/bin:$PATH" timeout 120 bash -euo pipefail "$blocks/$n") \
      > "$blocks/$n.stdout" 2> "$blocks/$n.stderr" || status=$?
    if ((status != expected_status)); then
      fail "$document:$line: the example exited $status, not $expected_status:"
      {
        sed 's/^/  | /' "$blocks/$n"
        echo "  stdout:"
        sed 's/^/  > /' "$blocks/$n.stdout"
        echo "  stderr:"
        sed 's/^/  ! /' "$blocks/$n.stderr"
      } >&2
    else
      echo "ok: $document:$line (exit $status, $((SECONDS - started)) s)" >&2
    fi
    previous_runnable=$n
  done < "$blocks/index"
done
if ((examples == 0)); then
  fail "no \`sh runnable\` block in ${documents[*]}"
fi

if ((failures)); then
  echo "docs_examples_test: $failures failure(s) in $examples examples" >&2
  exit 1
fi
echo "docs_examples_test: $examples examples ran as printed" >&2
