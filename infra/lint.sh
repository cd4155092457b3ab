#!/usr/bin/env bash
# Lint the CloudFormation template: cfn-lint (no errors, no warnings) and checkov (no failed
# checks but those skipped inline in the template, each with its reason).
# The linters live in their own venv: checkov pins many packages that clash with the app's.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${SWITCHBOARD_LINT_VENV:-$root/.venv-lint}"
template="$root/infra/template.yaml"
python="${PYTHON:-python3}"

if [[ ! -x "$venv/bin/cfn-lint" || ! -x "$venv/bin/checkov" ]]; then
    echo "Installing cfn-lint and checkov into $venv ..."
    log="$(mktemp)"
    # pip's output goes to a log that is shown only when the install fails.
    # uv (installed by `make setup`) when it is there, pip otherwise.
    uv="$root/.venv/bin/uv"
    if [[ -x "$uv" ]]; then
        install=("$uv" pip install --python "$venv/bin/python")
    else
        install=("$venv/bin/pip" install --disable-pip-version-check)
    fi
    if ! { "$python" -m venv "$venv" && "${install[@]}" "cfn-lint>=1.20" "checkov>=3.2"
         } >"$log" 2>&1; then
        tail -n 40 "$log"
        echo "lint.sh: could not install the linters into $venv (full log: $log)" >&2
        exit 1
    fi
    rm -f "$log"
fi

echo "== cfn-lint $("$venv/bin/cfn-lint" --version | awk '{print $2}')"
# Exit code 0 only when there are neither errors nor warnings (informational notes allowed).
"$venv/bin/cfn-lint" --non-zero-exit-code warning --format parseable -- "$template"
echo "cfn-lint: no errors, no warnings"

echo "== checkov $("$venv/bin/checkov" --version)"
# --quiet prints failed checks only; skipped ones (inline, with reasons) don't fail the run.
# checkov exits 0 on a template it cannot parse, so that case is caught from its summary.
set +e
report="$("$venv/bin/checkov" --quiet --compact --framework cloudformation --file "$template" \
    --skip-download 2>&1)"
status=$?
set -e
echo "$report"
if [[ $status -ne 0 ]]; then
    echo "checkov: failed checks above" >&2
    exit 1
fi
if ! grep -qE "Passed checks: [1-9]" <<<"$report" || grep -q "Parsing errors" <<<"$report"; then
    echo "checkov: the template was not scanned (parse error?)" >&2
    exit 1
fi
echo "checkov: no failed checks"
