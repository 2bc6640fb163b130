#!/usr/bin/env bash
# aws-cli v2 (Debian awscli), scripted as an operator would, against a running `gatepass serve`
# set up by `gatepass apply -f examples/hub-and-spoke/setup.yaml`. Only the endpoint is changed.
# Needs: ENDPOINT, AWS_SHARED_CREDENTIALS_FILE (bootstrap profiles), ISSUER_HOST, HUB, DEV, TOKEN.
# Prints one "ok: …" line per checked step; the first failure stops the script with its reason.
set -euo pipefail

export AWS_DEFAULT_REGION=us-east-1 AWS_PAGER='' AWS_CONFIG_FILE=/dev/null AWS_MAX_ATTEMPTS=1
hub() { aws --endpoint-url "$ENDPOINT" --profile gatepass-hub --output json "$@"; }
dev() { aws --endpoint-url "$ENDPOINT" --profile gatepass-dev --output json "$@"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
# expect_error CODE command…: the command fails with AWS error CODE.
expect_error() {
  local code=$1 err
  shift
  if err=$("$@" 2>&1 >/dev/null); then fail "expected $code from: $*"; fi
  [[ $err == *"($code)"* ]] || fail "expected $code from: $*, got: $err"
}

SUB="organization:acme:project:Infra:workspace:networking:run_phase:plan"
pinned_trust() {
  cat <<JSON
{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRoleWithWebIdentity",
"Principal":{"Federated":"arn:aws:iam::$HUB:oidc-provider/$ISSUER_HOST"},
"Condition":{"StringEquals":{"$ISSUER_HOST:aud":"aws.workload.identity","$ISSUER_HOST:sub":"$1"}}}]}
JSON
}

# The bootstrap administrator, straight from the credentials file gatepass wrote.
[[ $(hub sts get-caller-identity | json 'd["Arn"]') == "arn:aws:iam::$HUB:user/gatepass-admin" ]] || fail "caller"
ok "bootstrap administrator profile"

# What the setup file created reads back.
[[ $(hub iam list-open-id-connect-providers | json 'd["OpenIDConnectProviderList"][0]["Arn"]') == \
  "arn:aws:iam::$HUB:oidc-provider/$ISSUER_HOST" ]] || fail "provider list"
[[ $(hub iam get-open-id-connect-provider --open-id-connect-provider-arn "arn:aws:iam::$HUB:oidc-provider/$ISSUER_HOST" \
  | json 'd["ClientIDList"][0]') == "aws.workload.identity" ]] || fail "provider client ids"
[[ $(hub iam get-role --role-name tfc-plan | json 'd["Role"]["Arn"]') == "arn:aws:iam::$HUB:role/runs/tfc-plan" ]] || fail "get-role"
[[ $(hub iam list-attached-role-policies --role-name tfc-plan | json 'd["AttachedPolicies"][0]["PolicyName"]') == "chain-plan" ]] \
  || fail "attached"
ok "provider and roles from the setup file"

# A provider of the operator's own: create, read back, change, remove.
OTHER="arn:aws:iam::$HUB:oidc-provider/ci.example.com/acme"
[[ $(hub iam create-open-id-connect-provider --url https://ci.example.com/acme --client-id-list aws.workload.identity \
  --thumbprint-list "$(printf 'b%.0s' {1..40})" --tags Key=team,Value=ci | json 'd["OpenIDConnectProviderArn"]') == "$OTHER" ]] \
  || fail "create provider"
hub iam add-client-id-to-open-id-connect-provider --open-id-connect-provider-arn "$OTHER" --client-id sts.amazonaws.com
hub iam update-open-id-connect-provider-thumbprint --open-id-connect-provider-arn "$OTHER" \
  --thumbprint-list "$(printf 'c%.0s' {1..40})"
got=$(hub iam get-open-id-connect-provider --open-id-connect-provider-arn "$OTHER")
[[ $(echo "$got" | json 'd["Url"]') == ci.example.com/acme ]] || fail "provider url"
[[ $(echo "$got" | json 'sorted(d["ClientIDList"])') == "['aws.workload.identity', 'sts.amazonaws.com']" ]] || fail "client ids"
[[ $(echo "$got" | json 'd["ThumbprintList"][0]') == "$(printf 'c%.0s' {1..40})" ]] || fail "thumbprint"
[[ $(hub iam list-open-id-connect-provider-tags --open-id-connect-provider-arn "$OTHER" | json 'd["Tags"][0]["Key"]') == team ]] \
  || fail "provider tags"
hub iam delete-open-id-connect-provider --open-id-connect-provider-arn "$OTHER"
expect_error NoSuchEntity hub iam get-open-id-connect-provider --open-id-connect-provider-arn "$OTHER"
ok "create, read back, change and delete a provider"

# A role of the operator's own: create, change, read, remove.
hub iam create-role --role-name ops-plan --path /ops/ --assume-role-policy-document "$(pinned_trust "$SUB")" \
  --max-session-duration 7200 --tags Key=team,Value=ops >/dev/null
hub iam put-role-policy --role-name ops-plan --policy-name read \
  --policy-document '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:Get*","Resource":"*"}]}'
hub iam update-role-description --role-name ops-plan --description "ops plan role" >/dev/null
hub iam tag-role --role-name ops-plan --tags Key=tier,Value=1
[[ $(hub iam list-role-tags --role-name ops-plan | json 'len(d["Tags"])') == 2 ]] || fail "tags"
[[ $(hub iam get-role --role-name ops-plan | json 'd["Role"]["Description"]') == "ops plan role" ]] || fail "description"
[[ $(hub iam list-role-policies --role-name ops-plan | json 'd["PolicyNames"]') == "['read']" ]] || fail "inline list"
[[ $(hub iam list-roles --path-prefix /ops/ | json 'len(d["Roles"])') == 1 ]] || fail "list-roles"
expect_error DeleteConflict hub iam delete-role --role-name ops-plan
hub iam delete-role-policy --role-name ops-plan --policy-name read
hub iam delete-role --role-name ops-plan
ok "create, update, tag, inline policy and delete a role"

# AWS's errors.
expect_error NoSuchEntity hub iam get-role --role-name nope
expect_error EntityAlreadyExists hub iam create-open-id-connect-provider --url "https://$ISSUER_HOST" \
  --client-id-list aws.workload.identity --thumbprint-list "$(printf 'a%.0s' {1..40})"
expect_error ValidationError hub iam create-role --role-name 'bad name' --assume-role-policy-document "$(pinned_trust "$SUB")"
expect_error MalformedPolicyDocument hub iam create-role --role-name loose \
  --assume-role-policy-document "$(pinned_trust 'organization:acme*' | sed 's/StringEquals/StringLike/')"
expect_error NoSuchEntity hub iam get-role --role-name loose
ok "NoSuchEntity, EntityAlreadyExists, ValidationError, guard rail MalformedPolicyDocument"

# A run's token becomes credentials for the plan role, which the hub's SCP keeps to chaining.
creds=$(aws --endpoint-url "$ENDPOINT" --output json sts assume-role-with-web-identity \
  --role-arn "arn:aws:iam::$HUB:role/runs/tfc-plan" --role-session-name run-1 --web-identity-token "$TOKEN")
export AWS_ACCESS_KEY_ID=$(echo "$creds" | json 'd["Credentials"]["AccessKeyId"]')
export AWS_SECRET_ACCESS_KEY=$(echo "$creds" | json 'd["Credentials"]["SecretAccessKey"]')
export AWS_SESSION_TOKEN=$(echo "$creds" | json 'd["Credentials"]["SessionToken"]')
run() { AWS_SHARED_CREDENTIALS_FILE=/dev/null aws --endpoint-url "$ENDPOINT" --output json "$@"; }
[[ $(run sts get-caller-identity | json 'd["Arn"]') == "arn:aws:sts::$HUB:assumed-role/tfc-plan/run-1" ]] || fail "run identity"
expect_error AccessDenied run iam list-roles
chained=$(run sts assume-role --role-arn "arn:aws:iam::$DEV:role/terraform-plan" --role-session-name run-1)
ok "web identity into the plan role; the SCP denies IAM in the hub"

export AWS_ACCESS_KEY_ID=$(echo "$chained" | json 'd["Credentials"]["AccessKeyId"]')
export AWS_SECRET_ACCESS_KEY=$(echo "$chained" | json 'd["Credentials"]["SecretAccessKey"]')
export AWS_SESSION_TOKEN=$(echo "$chained" | json 'd["Credentials"]["SessionToken"]')
[[ $(run iam get-role --role-name terraform-plan | json 'd["Role"]["RoleName"]') == terraform-plan ]] || fail "member read"
expect_error AccessDenied run iam create-role --role-name x --assume-role-policy-document \
  '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"AWS":"*"}}]}'
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN
ok "chained into the member account: reads, and AccessDenied on writes"

[[ $(dev iam list-roles | json 'sorted(r["RoleName"] for r in d["Roles"])') == "['terraform-apply', 'terraform-plan']" ]] \
  || fail "member roles"
ok "the member account's own administrator profile"
