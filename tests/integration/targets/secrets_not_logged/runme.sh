#!/usr/bin/env bash
# Run modules that handle the SMTP password and the API token with -vvv and --diff (normal,
# check mode, and a failing play) and prove that neither secret appears anywhere in the output.
set -eu -o pipefail

config=../../integration_config.yml
if [ ! -f "$config" ]; then
  echo "integration_config.yml not found next to the targets" >&2
  exit 1
fi

# Fresh secrets for each run; they reach ansible only through the environment.
LEAK_SMTP_PASSWORD="smtp-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
LEAK_API_TOKEN="token-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
export LEAK_SMTP_PASSWORD LEAK_API_TOKEN
# modules that are not given api_token read it from here (the env fallback AWX credentials use)
export TOS_API_TOKEN="$LEAK_API_TOKEN"

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

run() {
  local name=$1 expect=$2
  shift 2
  local rc=0
  ansible-playbook leak.yml -i "${INVENTORY_PATH:-localhost,}" -e "@$config" -vvv --diff "$@" >"$out/$name.log" 2>&1 || rc=$?
  if [ "$expect" = ok ] && [ "$rc" -ne 0 ]; then
    echo "run '$name' failed (rc $rc):" >&2
    tail -50 "$out/$name.log" >&2
    exit 1
  fi
  if [ "$expect" = fail ] && [ "$rc" -eq 0 ]; then
    echo "run '$name' should have failed but passed" >&2
    exit 1
  fi
  echo "run '$name': rc $rc, $(wc -l <"$out/$name.log") lines of output"
}

run normal ok
run check ok --check
run failing fail -e leak_fail=true

# The failing run must have failed for the intended reason, with the server's message.
grep -q "Could not send a test mail to ops@example.org" "$out/failing.log"
# The modules really ran verbosely with the secrets as no_log options.
grep -q "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER" "$out/normal.log"

hits=0
for secret in "$LEAK_SMTP_PASSWORD" "$LEAK_API_TOKEN"; do
  count=$(cat "$out"/*.log | grep -cF -- "$secret" || true)
  hits=$((hits + count))
done
if [ "$hits" -ne 0 ]; then
  echo "FAIL: the password or the token appears $hits time(s) in the output, here with the secrets replaced:" >&2
  grep -nF -e "$LEAK_SMTP_PASSWORD" -e "$LEAK_API_TOKEN" "$out"/*.log \
    | sed -e "s/$LEAK_SMTP_PASSWORD/<SMTP PASSWORD>/g" -e "s/$LEAK_API_TOKEN/<API TOKEN>/g" | cut -c1-2000 >&2
  exit 1
fi
echo "secrets_not_logged: 3 runs, 0 occurrences of the SMTP password or the API token"
