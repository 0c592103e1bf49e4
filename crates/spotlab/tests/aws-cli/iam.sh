#!/usr/bin/env bash
# The stack's IAM half with the AWS CLI against `spotlab up`, as the reference
# CloudFormation template makes it: the EC2 instance role (trust policy for
# ec2.amazonaws.com, an inline policy for metrics and the checkpoint bucket) and an
# instance profile holding it; read back (the CLI decodes IAM's URL-encoded policy
# documents), refused out of order, and torn down in IAM's order.
#
# Run by crates/spotlab/tests/aws_cli.rs with the same environment as walkthrough.sh.
set -euo pipefail
cd "$WORKDIR"

fail() { echo "FAILED: $*" >&2; exit 1; }
check() { # check DESCRIPTION ACTUAL EXPECTED
  [ "$2" = "$3" ] || fail "$1: expected '$3', got '$2'"
  echo "ok: $1 = $3"
}

cat > trust.json <<'JSON'
{"Version": "2012-10-17",
 "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
JSON
cat > agent-policy.json <<'JSON'
{"Version": "2012-10-17",
 "Statement": [
   {"Effect": "Allow", "Action": "cloudwatch:PutMetricData", "Resource": "*"},
   {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "arn:aws:s3:::spotlab-checkpoints/*"}]}
JSON

role_arn=$(aws iam create-role --role-name SpotAgentRole --path /spotlab/ \
  --assume-role-policy-document file://trust.json --tags Key=app,Value=spotlab \
  --query Role.Arn --output text)
check "role ARN" "$role_arn" "arn:aws:iam::000000000000:role/spotlab/SpotAgentRole"
check "trust policy principal" \
  "$(aws iam get-role --role-name SpotAgentRole \
     --query 'Role.AssumeRolePolicyDocument.Statement[0].Principal.Service' --output text)" \
  "ec2.amazonaws.com"
role_id=$(aws iam get-role --role-name SpotAgentRole --query Role.RoleId --output text)
check "role id form" "${role_id:0:4}:${#role_id}" "AROA:21"

aws iam put-role-policy --role-name SpotAgentRole --policy-name agent \
  --policy-document file://agent-policy.json
check "inline policy" \
  "$(aws iam get-role-policy --role-name SpotAgentRole --policy-name agent \
     --query 'PolicyDocument.Statement[1].Resource' --output text)" \
  "arn:aws:s3:::spotlab-checkpoints/*"

aws iam create-instance-profile --instance-profile-name SpotAgentProfile --path /spotlab/ >/dev/null
aws iam add-role-to-instance-profile --instance-profile-name SpotAgentProfile --role-name SpotAgentRole
check "profile's role" \
  "$(aws iam get-instance-profile --instance-profile-name SpotAgentProfile \
     --query 'InstanceProfile.Roles[0].Arn' --output text)" \
  "$role_arn"
check "profiles for role" \
  "$(aws iam list-instance-profiles-for-role --role-name SpotAgentRole \
     --query 'InstanceProfiles[].InstanceProfileName' --output text)" \
  "SpotAgentProfile"

# Out of order: IAM's error codes, as the CLI prints them.
if out=$(aws iam delete-role --role-name SpotAgentRole 2>&1); then fail "delete-role succeeded"; fi
case $out in *"(DeleteConflict)"*) echo "ok: delete-role refused with DeleteConflict" ;;
  *) fail "delete-role: $out" ;; esac
if out=$(aws iam create-role --role-name SpotAgentRole \
  --assume-role-policy-document file://trust.json 2>&1); then fail "create-role twice succeeded"; fi
case $out in *"(EntityAlreadyExists)"*) echo "ok: create-role refused with EntityAlreadyExists" ;;
  *) fail "create-role again: $out" ;; esac

# Teardown in IAM's order.
aws iam remove-role-from-instance-profile --instance-profile-name SpotAgentProfile --role-name SpotAgentRole
aws iam delete-instance-profile --instance-profile-name SpotAgentProfile
aws iam delete-role-policy --role-name SpotAgentRole --policy-name agent
aws iam delete-role --role-name SpotAgentRole
if out=$(aws iam get-role --role-name SpotAgentRole 2>&1); then fail "get-role after delete succeeded"; fi
case $out in *"(NoSuchEntity)"*) echo "ok: get-role after delete: NoSuchEntity" ;;
  *) fail "get-role after delete: $out" ;; esac
check "roles left" "$(aws iam list-roles --query 'length(Roles)' --output text)" "0"

echo "iam passed"
