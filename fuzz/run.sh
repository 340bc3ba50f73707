#!/usr/bin/env bash
# Builds the fuzz targets (cached) and runs each for a bounded time.
#
#   bash fuzz/run.sh                  # every target, 45 s each (what CI runs)
#   bash fuzz/run.sh 1200 yaml_check  # one target for 20 minutes
#   FUZZ_JOBS=2 bash fuzz/run.sh 3600 # two processes per target
#
# cargo-fuzz (pinned below) is installed into /var/cache/sandbox-lint and the
# instrumented release build kept in /var/cache/sandbox-lint/fuzz-target, so
# only what changed is rebuilt. The corpus each target grows is kept in
# /var/cache/sandbox-lint/fuzz-corpus/TARGET and starts from testdata/, the
# hand-written seeds in fuzz/seeds/ and the regressions in fuzz/regressions/.
# A crash, a timeout (10 s for one input) or an input needing more than
# 2 GiB fails the run; the input is left in fuzz/artifacts/TARGET/ — copy it
# into fuzz/regressions/TARGET/ (tests/regressions.rs replays those) once fixed.
#
# The targets are built without a sanitizer (`-s none`): sandbox-lint has no
# unsafe code, so what is looked for is panics, overflow (debug assertions
# are on), hangs and memory blow-ups. FUZZ_SANITIZER=address builds with ASan.
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_FUZZ_VERSION=0.13.2
seconds="${1:-45}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(yaml_check dockerfile webhook_review policy netpol)
fi
cache=/var/cache/sandbox-lint
mkdir -p "$cache"
sanitizer="${FUZZ_SANITIZER:-none}"

cargo_fuzz="$cache/cargo-fuzz-$CARGO_FUZZ_VERSION/bin/cargo-fuzz"
(
  flock 9
  if [ ! -x "$cargo_fuzz" ]; then
    echo "== installing cargo-fuzz $CARGO_FUZZ_VERSION into $cache (once)"
    cargo install --locked cargo-fuzz --version "$CARGO_FUZZ_VERSION" \
      --root "$cache/cargo-fuzz-$CARGO_FUZZ_VERSION"
  fi
) 9>"$cache/cargo-fuzz.lock"
"$cargo_fuzz" --version

target_dir="$cache/fuzz-target-$sanitizer"
echo "== building the fuzz targets (sanitizer: $sanitizer; cached in $target_dir)"
start=$(date +%s)
# cargo-fuzz passes -Z flags to rustc; RUSTC_BOOTSTRAP lets the pinned stable
# toolchain accept them instead of needing a nightly.
(
  flock 9
  RUSTC_BOOTSTRAP=1 "$cargo_fuzz" build -s "$sanitizer" --target-dir "$target_dir"
) 9>"$cache/fuzz-build.lock"
echo "built in $(($(date +%s) - start)) s"
bin="$target_dir/x86_64-unknown-linux-gnu/release"

seeds_of() {
  case "$1" in
    yaml_check) echo testdata/rules testdata/seeds testdata/compliant testdata/context testdata/dispatch ;;
    dockerfile) echo testdata/rules/SL40* testdata/seeds ;;
    webhook_review) echo fuzz/seeds/webhook_review ;;
    policy) echo policies testdata/policies ;;
    netpol) echo testdata/rules/SL300* testdata/context testdata/seeds ;;
  esac
}

failed=()
for t in "${targets[@]}"; do
  corpus="$cache/fuzz-corpus/$t"
  artifacts="fuzz/artifacts/$t"
  mkdir -p "$corpus" "$artifacts" "fuzz/regressions/$t"
  echo "== fuzzing $t for $seconds s (corpus: $(find "$corpus" -type f | wc -l) inputs)"
  # shellcheck disable=SC2046
  if ! "$bin/$t" "$corpus" "fuzz/regressions/$t" $(seeds_of "$t") \
      -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
      ${FUZZ_JOBS:+-jobs=$FUZZ_JOBS -workers=$FUZZ_JOBS} \
      -artifact_prefix="$artifacts/" -print_final_stats=1 2>"$artifacts/log.txt"; then
    tail -n 60 "$artifacts/log.txt"
    failed+=("$t")
  else
    grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb)' "$artifacts/log.txt" || true
  fi
  rm -f fuzz-*.log
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzzing found problems in: ${failed[*]} (inputs in fuzz/artifacts/)"
  ls -la fuzz/artifacts/*/
  exit 1
fi
echo "fuzzing: nothing found"
