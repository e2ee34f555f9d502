#!/bin/sh
# Run a libFuzzer target for FUZZ_SECONDS (default 60) from the committed
# corpus next to this script. New inputs go to a scratch directory, so the
# committed corpus stays as it is; a crashing input is written to
# ./fuzz-crash-* (keep it: add it to tests/fuzz/corpus and a regression test).
# Usage: tests/fuzz/run.sh [path/to/fuzz_cli]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
fuzzer=${1:-tests/fuzz/fuzz_cli}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
exec_status=0
"$fuzzer" -max_total_time="${FUZZ_SECONDS:-60}" -max_len=512 -timeout=10 -print_final_stats=1 \
    -artifact_prefix=./fuzz- "$scratch" "$here/corpus" || exec_status=$?
echo "fuzz: $(ls "$scratch" | wc -l) new inputs beyond the corpus's $(ls "$here/corpus" | wc -l)"
exit "$exec_status"
