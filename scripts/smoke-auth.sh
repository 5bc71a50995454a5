#!/usr/bin/env bash
# Smoke test of a protected region: starts one region whose topology sets
# credentials and serves HTTPS with a throwaway self-signed certificate, and
# drives it with the AWS CLI: signed calls work, unsigned, unknown-key and
# wrong-secret calls get DynamoDB's errors, and the secret is in no log line.
# Usage: scripts/smoke-auth.sh [path/to/globaltables]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-bin/globaltables}

name=smoke-auth
. scripts/smoke-lib.sh
key_id=AKIDSMOKETEST
secret="smoke-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
  -keyout "$work/key.pem" -out "$work/cert.pem" -subj /CN=localhost \
  -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" 2>/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$work/topology.hcl" <<HCL
data_dir = "$work/data"
credentials {
  access_key_id     = "$key_id"
  secret_access_key = "$secret"
}
region "us-east-1" {
  listen       = "127.0.0.1:$port"
  api_tls_cert = "$work/cert.pem"
  api_tls_key  = "$work/key.pem"
}
HCL

start_region --config "$work/topology.hcl" --name us-east-1

export AWS_CA_BUNDLE="$work/cert.pem"
# refused NAME CODE [aws arguments...]: the call fails with CODE.
refused() {
  local name=$1 code=$2; shift 2
  local out
  if out=$("$@" 2>&1); then check "$name" "$code" "accepted"; return; fi
  case "$out" in *"($code)"*) check "$name" "$code" "$code" ;; *) check "$name" "$code" "$out" ;; esac
}
signed() { AWS_ACCESS_KEY_ID=$key_id AWS_SECRET_ACCESS_KEY=$secret aws dynamodb --endpoint-url "$endpoint" --output text "$@"; }

grep -q 'api_auth="SigV4 required, 1 access keys"' "$work/log" && passes=$((passes+1)) ||
  { fails=$((fails+1)); echo "FAIL the region does not log its authentication mode" >&2; }
signed create-table --table-name Music \
  --attribute-definitions AttributeName=Artist,AttributeType=S --key-schema AttributeName=Artist,KeyType=HASH \
  --billing-mode PAY_PER_REQUEST >/dev/null
signed put-item --table-name Music --item '{"Artist":{"S":"Acme"},"Year":{"N":"2015"}}'
check "signed get over https" 2015 "$(signed get-item --table-name Music --key '{"Artist":{"S":"Acme"}}' --query Item.Year.N)"

refused "no signature" MissingAuthenticationTokenException \
  aws dynamodb --endpoint-url "$endpoint" --no-sign-request list-tables
refused "unknown key" UnrecognizedClientException \
  env AWS_ACCESS_KEY_ID=AKIDNOBODY AWS_SECRET_ACCESS_KEY="$secret" aws dynamodb --endpoint-url "$endpoint" list-tables
refused "wrong secret" InvalidSignatureException \
  env AWS_ACCESS_KEY_ID=$key_id AWS_SECRET_ACCESS_KEY=wrong aws dynamodb --endpoint-url "$endpoint" list-tables

if grep -qF "$secret" "$work/log"; then fails=$((fails+1)); echo "FAIL the secret is in the region's log" >&2; else passes=$((passes+1)); fi

finish
