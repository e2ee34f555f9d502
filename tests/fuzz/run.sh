#!/bin/sh
# Run a libFuzzer target for FUZZ_SECONDS (default 60) from its committed
# corpus next to this script (fuzz_X's is corpus_X). New inputs go to a
# scratch directory, so the committed corpus stays as it is; a crashing input
# is written to ./fuzz-crash-* (keep it: add it to the corpus and a
# regression test).
# Usage: tests/fuzz/run.sh path/to/fuzz_X [max input length, default 512]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
fuzzer=${1:-tests/fuzz/fuzz_cli}
max_len=${2:-512}
name=$(basename "$fuzzer")
corpus=$here/corpus_${name#fuzz_}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
exec_status=0
"$fuzzer" -max_total_time="${FUZZ_SECONDS:-60}" -max_len="$max_len" -timeout=10 -print_final_stats=1 \
    -artifact_prefix=./fuzz- "$scratch" "$corpus" || exec_status=$?
echo "fuzz: $name: $(ls "$scratch" | wc -l) new inputs beyond the corpus's $(ls "$corpus" | wc -l)"
exit "$exec_status"
