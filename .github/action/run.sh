#!/usr/bin/env bash
# shellcheck disable=SC2016  # Markdown backticks in single-quoted printf formats are literal.
# The logic of the agentlog GitHub Action (action.yml at the repository root), kept in one
# script so a test can run it with a fake GITHUB_* environment (tests/ci_integration.rs).
#
#   run.sh key       print `key=<cache key>` to $GITHUB_OUTPUT: a hash of the sources the
#                    binary is built from, so a moving ref (a branch) never reuses a stale build
#   run.sh install   build agentlog into $AGENTLOG_ROOT unless it is there (restored by the cache)
#   run.sh           validate (installing first if needed), write the report, summarize
#
# Inputs arrive as environment variables (never interpolated into the script):
#   INPUT_PATHS          files or directories, one per line (a line is one path, spaces kept)
#   INPUT_PROFILE        auto | v0 | v1 | ledger                                (default auto)
#   INPUT_SECRETS_FILE   a dotenv or JSON secrets file for the no-secret-values rule (optional)
#   INPUT_FORMAT         the report file's format: sarif | junit | json | text  (default sarif)
#   INPUT_FAIL_LEVEL     error | warning | none                                 (default error)
#   AGENTLOG_BIN         an agentlog binary to use instead of installing one (tests)
#   AGENTLOG_ROOT        `cargo install --root` of the cached build (default $RUNNER_TEMP/agentlog-action)
# Exit status: validate's own 2 (usage or I/O error, e.g. a missing path) always fails the
# step; findings fail it by the fail level.
set -euo pipefail

action_path="${GITHUB_ACTION_PATH:-$(cd "$(dirname "$0")/../.." && pwd)}"
runner_temp="${RUNNER_TEMP:-${TMPDIR:-/tmp}}"

# `%`, CR and LF escaped for a workflow command's message.
escape() {
  local s="$1"
  s="${s//'%'/'%25'}"
  s="${s//$'\r'/'%0D'}"
  s="${s//$'\n'/'%0A'}"
  printf '%s' "$s"
}

if [ "${1:-}" = key ]; then
  hash=$(cd "$action_path" && { find Cargo.toml Cargo.lock src crates schema conformance -type f -print0 2>/dev/null || true; } \
    | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)
  key="key=agentlog-${RUNNER_OS:-unknown}-${RUNNER_ARCH:-unknown}-${hash}"
  if [ -n "${GITHUB_OUTPUT:-}" ]; then echo "$key" >> "$GITHUB_OUTPUT"; else echo "$key"; fi
  exit 0
fi

# The binary: given, cached, or built from the action's own sources.
install() {
  if [ -n "${AGENTLOG_BIN:-}" ]; then
    bin="$AGENTLOG_BIN"
    return
  fi
  local root="${AGENTLOG_ROOT:-$runner_temp/agentlog-action}"
  bin="$root/bin/agentlog"
  if [ ! -x "$bin" ]; then
    echo "::group::cargo install agentlog (from $action_path)"
    cargo install --locked --quiet --path "$action_path" --root "$root" --bin agentlog
    echo "::endgroup::"
  fi
}

if [ "${1:-}" = install ]; then
  install
  exit 0
fi

profile="${INPUT_PROFILE:-auto}"
format="${INPUT_FORMAT:-sarif}"
fail_level="${INPUT_FAIL_LEVEL:-error}"
case "$format" in
  sarif | junit | json | text) ;;
  *) echo "::error title=agentlog action::format must be sarif, junit, json or text, not '$(escape "$format")'"; exit 2 ;;
esac
case "$fail_level" in
  error | warning | none) ;;
  *) echo "::error title=agentlog action::fail-level must be error, warning or none, not '$(escape "$fail_level")'"; exit 2 ;;
esac

paths=()
while IFS= read -r line || [ -n "$line" ]; do
  line="${line#"${line%%[![:space:]]*}"}"
  line="${line%"${line##*[![:space:]]}"}"
  [ -n "$line" ] && paths+=("$line")
done <<< "${INPUT_PATHS:-}"
if [ ${#paths[@]} -eq 0 ]; then
  echo "::error title=agentlog action::the paths input is empty; name the logs (files or directories) to validate"
  exit 2
fi

install
args=(validate --profile "$profile")
[ -n "${INPUT_SECRETS_FILE:-}" ] && args+=(--secrets-file "$INPUT_SECRETS_FILE")

work=$(mktemp -d "$runner_temp/agentlog-action.XXXXXX")
trap 'rm -rf "$work"' EXIT

# 1. Annotations on the workflow's log (and on the pull request's files).
set +e
"$bin" "${args[@]}" --format github -- "${paths[@]}" 2> "$work/stderr" | tee "$work/github"
rc=${PIPESTATUS[0]}
set -e
cat "$work/stderr" >&2
if [ "$rc" -ge 2 ]; then
  # Usage or I/O error (a missing path, an unreadable secrets file): validate's own message.
  msg=$(cat "$work/stderr")
  echo "::error title=agentlog validate::$(escape "${msg:-agentlog validate exited with status $rc}")"
  if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
    printf '### agentlog validate\n\n:x: **did not run** (exit %s)\n\n```\n%s\n```\n' "$rc" "$msg" >> "$GITHUB_STEP_SUMMARY"
  fi
  exit "$rc"
fi

# 2. The report file (SARIF by default, for github/codeql-action/upload-sarif).
report="$runner_temp/agentlog.$format"
[ "$format" = junit ] && report="$runner_temp/agentlog.xml"
[ "$format" = text ] && report="$runner_temp/agentlog.txt"
set +e
"$bin" "${args[@]}" --format "$format" -o "$report" -- "${paths[@]}" 2> "$work/stderr"
report_rc=$?
set -e
if [ "$report_rc" -ge 2 ]; then
  msg=$(cat "$work/stderr")
  printf '%s\n' "$msg" >&2
  echo "::error title=agentlog validate::$(escape "${msg:-agentlog validate exited with status $report_rc writing $report}")"
  exit "$report_rc"
fi
if [ -n "${GITHUB_OUTPUT:-}" ]; then
  echo "report=$report" >> "$GITHUB_OUTPUT"
  [ "$format" = sarif ] && echo "sarif=$report" >> "$GITHUB_OUTPUT"
  echo "exit-code=$rc" >> "$GITHUB_OUTPUT"
fi

# The summary line: the last `title=agentlog validate::` command of the annotations.
summary=$(grep -E '^::(notice|error) title=agentlog validate::' "$work/github" | tail -n 1 | sed -E 's/^::[a-z]+ title=agentlog validate:://')
warnings=$(printf '%s' "$summary" | grep -oE '[0-9]+ warning\(s\)' | grep -oE '^[0-9]+' || true)
warnings="${warnings:-0}"

status=0
case "$fail_level" in
  error) status=$rc ;;
  warning) if [ "$rc" -ne 0 ]; then status=$rc; elif [ "$warnings" -gt 0 ]; then status=1; fi ;;
  none) status=0 ;;
esac
if [ "$status" -ne 0 ] && [ "$rc" -eq 0 ]; then
  echo "::error title=agentlog validate::$warnings warning(s) and fail-level is warning"
fi

if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
  if [ "$status" -eq 0 ]; then mark=':white_check_mark:'; else mark=':x:'; fi
  {
    printf '### agentlog validate\n\n%s %s\n\n' "$mark" "$summary"
    printf -- '- paths: `%s`\n' "${paths[@]}"
    printf -- '- profile: `%s`, fail level: `%s`\n- report (%s): `%s`\n' "$profile" "$fail_level" "$format" "$report"
  } >> "$GITHUB_STEP_SUMMARY"
fi
exit "$status"
