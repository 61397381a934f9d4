#!/usr/bin/env bash
# ./dev's help says what it does: `build` names every program it copies to build/bin/, and
# `deps` with no group installs every group `./dev test` needs.
set -euo pipefail
dev=$1
fail() { printf 'dev_help: %s\n' "$*" >&2; exit 1; }

help=$("$dev" --help)
build_help=$(printf '%s\n' "$help" | sed -n '/^  \.\/dev build/,/^  \.\/dev bench/p')
# The programs cmd_build copies: build/release/bin/NAME in its cp line(s).
copied=$(sed -n '/^cmd_build()/,/^}/p' "$dev" | grep -o 'build/release/bin/[a-z_-]*' | sed 's|.*/||; s/_$/ examples/' | sort -u)
[ -n "$copied" ] || fail "found no cp line in cmd_build"
for program in $copied; do
  case $program in
    examples) grep -q 'examples' <<<"$build_help" || fail "./dev --help: build does not mention the examples" ;;
    demo) ;;
    *) grep -q -- "$program" <<<"$build_help" || fail "./dev --help: build copies $program but does not say so" ;;
  esac
done

# The groups cmd_test needs, and the ones `deps` installs by default.
test_groups=$(sed -n '/^cmd_test()/,/^}/p' "$dev" | sed -n 's/^ *need //p' | head -n1)
deps_groups=$(sed -n 's/.*deps) shift; if \[ \$# -eq 0 \]; then set -- \([a-z ]*\);.*/\1/p' "$dev")
[ -n "$test_groups" ] && [ -n "$deps_groups" ] || fail "cannot find the groups of cmd_test or of deps"
for g in $test_groups; do
  [[ " $deps_groups " == *" $g "* ]] || fail "./dev test needs group '$g', but ./dev deps (no group) installs only: $deps_groups"
done
echo "dev_help: ok (build copies: $(echo $copied); test needs: $test_groups; deps installs: $deps_groups)"
