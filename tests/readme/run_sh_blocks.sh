#!/usr/bin/env bash
# Runs every ```sh block of README.md, in order, as a user would after `./dev build`: each with
# `bash -e` from one scratch directory whose build/bin is the test build's bin directory.
#
# Each ```sh block is marked on the line before it with
#   <!-- readme-sh: NAME -->                      run it: it must exit 0, stop what it started in
#                                                  the background, and print every `# {...}` line
#                                                  its comments show
#   <!-- readme-sh: NAME (not run: REASON) -->    not run, for that reason
# A ```sh block with neither fails the test, so a new block cannot be forgotten.
#
#   run_sh_blocks.sh README.md BIN_DIR [SECONDS_PER_BLOCK]
set -uo pipefail
readme=$1 bin=$2 limit=${3:-120}
fail() { printf 'readme_sh: %s\n' "$*" >&2; exit 1; }
[ -f "$readme" ] || fail "no README at $readme"
[ -x "$bin/sprocket-relay" ] || fail "no sprocket-relay in $bin (build the tools first)"

work=$(mktemp -d "${TMPDIR:-/tmp}/readme-sh.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/build"
ln -s "$bin" "$work/build/bin"

# Splits the README into blocks/NN-NAME.sh (to run) and a list of skipped ones.
mkdir -p "$work/blocks"
n=0 marker="" in_block="" file="" line_no=0 ran=0 skipped=0
while IFS= read -r line || [ -n "$line" ]; do
  line_no=$((line_no + 1))
  if [ -n "$in_block" ]; then
    if [[ $line == '```'* ]]; then in_block=""; continue; fi
    [ -n "$file" ] && printf '%s\n' "$line" >>"$file"
    continue
  fi
  if [[ $line == '```sh'* ]]; then
    in_block=1 file=""
    n=$((n + 1))
    [[ $marker =~ ^\<!--\ readme-sh:\ ([A-Za-z0-9_-]+)(\ \(not\ run:\ (.+)\))?\ --\>$ ]] ||
      fail "README.md:$line_no: a \`\`\`sh block without a <!-- readme-sh: NAME --> marker (or <!-- readme-sh: NAME (not run: REASON) -->) on the line before"
    name=${BASH_REMATCH[1]} reason=${BASH_REMATCH[3]}
    if [ -n "$reason" ]; then
      printf 'readme_sh: %s (README.md:%d): not run: %s\n' "$name" "$line_no" "$reason"
      skipped=$((skipped + 1))
    else
      file=$(printf '%s/blocks/%02d-%s.sh' "$work" "$n" "$name")
      : >"$file"
    fi
    marker=""
    continue
  fi
  [ -n "$line" ] && marker=$line
done <"$readme"
[ -z "$in_block" ] && [ "$n" -gt 0 ] || fail "README.md: an unclosed block, or no \`\`\`sh block at all"

cd "$work" || fail "cannot enter $work"
set -m  # each block in a process group of its own: what it leaves running is found and stopped
for block in blocks/*.sh; do
  [ -e "$block" ] || break
  name=$(basename "$block" .sh)
  printf 'readme_sh: running %s\n' "$name"
  timeout --kill-after=10 "$limit" bash -e "$block" >"$block.out" 2>"$block.err" &
  pid=$!
  wait "$pid"
  status=$?
  cat "$block.out" "$block.err"
  if kill -0 -- "-$pid" 2>/dev/null; then
    kill -- "-$pid" 2>/dev/null
    fail "$name: left a process running in the background (the block must stop what it starts: kill \$!)"
  fi
  [ "$status" -eq 124 ] && fail "$name: still running after ${limit}s"
  [ "$status" -eq 0 ] || fail "$name: exited with status $status (bash -e: a command in it failed)"
  # The output its comments show: `# {...}` lines.
  while IFS= read -r expected; do
    grep -qxF -- "$expected" "$block.out" || fail "$name: the README shows the output line '$expected', but the block did not print it"
  done < <(sed -n 's/^# \({.*\)$/\1/p' "$block")
  ran=$((ran + 1))
done
printf 'readme_sh: %d block(s) run, %d not run (with their reasons above)\n' "$ran" "$skipped"
