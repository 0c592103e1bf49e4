#!/usr/bin/env bash
# The walkthrough's monitoring, created with the AWS CLI against `spotlab up` as the
# reference CloudFormation stack (step 4) creates it: the alarm on more than 10% errors
# over a minute notifying a topic, the interruption topic, and the EventBridge rule
# sending every Spot interruption warning to it. Then each piece is exercised: metrics
# move the alarm, the alarm's topic notifies a confirmed HTTP subscriber exactly once per
# transition, and an interruption warning reaches the interruption topic's subscribers.
#
# Run by crates/spotlab/tests/aws_cli.rs with the same environment as walkthrough.sh.
set -euo pipefail
cd "$WORKDIR"

fail() { echo "FAILED: $*" >&2; exit 1; }
check() { # check DESCRIPTION ACTUAL EXPECTED
  [ "$2" = "$3" ] || fail "$1: expected '$3', got '$2'"
  echo "ok: $1 = $3"
}
# Waits (up to 60 s of real time) until COMMAND prints EXPECTED.
wait_until() { # wait_until DESCRIPTION EXPECTED COMMAND...
  local description=$1 want=$2 got=""
  shift 2
  for _ in $(seq 1 300); do
    got=$("$@" 2>/dev/null || true)
    [ "$got" = "$want" ] && { echo "ok: $description = $want"; return 0; }
    sleep 0.2
  done
  fail "$description never became '$want' (last: '$got')"
}

# --- A subscriber's webhook ---------------------------------------------------------
python3 "$HERE/webhook.py" hook.port hook.jsonl &
hook_pid=$!
trap 'kill $hook_pid 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do [ -s hook.port ] && break; sleep 0.1; done
hook="http://127.0.0.1:$(cat hook.port)/alarm"

# --- The stack's topics, subscriptions, alarm and rule ------------------------------
alarm_topic=$(aws sns create-topic --name ReInvent-EC2SpotTestDev-TestFailureAlarmTopic \
  --query TopicArn --output text)
check "alarm topic ARN" "$alarm_topic" \
  "arn:aws:sns:us-east-1:000000000000:ReInvent-EC2SpotTestDev-TestFailureAlarmTopic"
spot_topic=$(aws sns create-topic --name ReInvent-EC2SpotTestDev-SpotInterruptionTopic \
  --query TopicArn --output text)
check "create-topic is idempotent" \
  "$(aws sns create-topic --name ReInvent-EC2SpotTestDev-SpotInterruptionTopic --query TopicArn --output text)" \
  "$spot_topic"

pending=$(aws sns subscribe --topic-arn "$alarm_topic" --protocol http \
  --notification-endpoint "$hook" --query SubscriptionArn --output text)
check "an http subscription waits for confirmation" "$pending" "pending confirmation"
wait_until "the webhook confirmed its subscription" "1" \
  aws sns list-subscriptions-by-topic --topic-arn "$alarm_topic" \
    --query "length(Subscriptions[?starts_with(SubscriptionArn, 'arn:')])" --output text
spot_log="$WORKDIR/interruptions.jsonl"
aws sns subscribe --topic-arn "$spot_topic" --protocol file \
  --notification-endpoint "$spot_log" --query SubscriptionArn --output text >/dev/null
check "subscriptions listed" \
  "$(aws sns list-subscriptions --query 'length(Subscriptions)' --output text)" "2"
check "topic attributes" \
  "$(aws sns get-topic-attributes --topic-arn "$alarm_topic" --query 'Attributes.SubscriptionsConfirmed' --output text)" "1"
check "topics listed" "$(aws sns list-topics --query 'length(Topics)' --output text)" "2"

aws cloudwatch put-metric-alarm --alarm-name ReInvent-EC2SpotTestDev-Alarm \
  --alarm-description "More than 10% errors over one minute" \
  --namespace ReInvent-EC2SpotTestDev-Metrics --metric-name Error --statistic Average \
  --period 60 --evaluation-periods 1 --threshold 0.1 \
  --comparison-operator GreaterThanOrEqualToThreshold --treat-missing-data ignore \
  --alarm-actions "$alarm_topic"
check "a new alarm has insufficient data" \
  "$(aws cloudwatch describe-alarms --alarm-names ReInvent-EC2SpotTestDev-Alarm \
      --query 'MetricAlarms[0].[StateValue,StateReason]' --output text)" \
  "INSUFFICIENT_DATA	Unchecked: Initial alarm creation"

aws events put-rule --name ReInvent-EC2SpotTestDev-SpotInterruptionRule \
  --event-pattern '{"source":["aws.ec2"],"detail-type":["EC2 Spot Instance Interruption Warning"]}' \
  --query RuleArn --output text >/dev/null
aws events put-targets --rule ReInvent-EC2SpotTestDev-SpotInterruptionRule \
  --targets "Id=ReInvent-EC2SpotTestDev-SpotInterruptionTopic,Arn=$spot_topic" \
  --query FailedEntryCount --output text | grep -qx 0 || fail "put-targets failed"
check "rules listed" \
  "$(aws events list-rules --query 'Rules[0].[Name,State]' --output text)" \
  "ReInvent-EC2SpotTestDev-SpotInterruptionRule	ENABLED"
check "targets listed" \
  "$(aws events list-targets-by-rule --rule ReInvent-EC2SpotTestDev-SpotInterruptionRule --query 'Targets[0].Arn' --output text)" \
  "$spot_topic"

# --- Metrics move the alarm; the topic notifies once per transition ------------------
# A good minute: 20 datums alternating Success/Error with values 1/0, as the test script
# publishes them (no timestamp, no dimensions).
put_minute() { # put_minute ERROR_VALUE
  local data="" i
  for i in $(seq 1 10); do
    data="$data MetricName=Success,Value=$((1 - $1)) MetricName=Error,Value=$1"
  done
  # shellcheck disable=SC2086
  aws cloudwatch put-metric-data --namespace ReInvent-EC2SpotTestDev-Metrics --metric-data $data
}
state() {
  aws cloudwatch describe-alarms --alarm-names ReInvent-EC2SpotTestDev-Alarm \
    --query 'MetricAlarms[0].StateValue' --output text
}
for _ in 1 2 3; do put_minute 0; sleep 0.3; done
wait_until "alarm with no errors" "OK" state
for _ in 1 2 3; do put_minute 1; sleep 0.3; done
wait_until "alarm with every call failing" "ALARM" state
notifications() {
  python3 - "$@" <<'PY'
import json, sys
records = [json.loads(l) for l in open("hook.jsonl")]
notes = [r for r in records if r["type"] == "Notification"]
print(" ".join(json.loads(n["body"]["Message"])["NewStateValue"] for n in notes))
PY
}
wait_until "notifications the webhook received" "ALARM" notifications
check "history records the transitions" \
  "$(aws cloudwatch describe-alarm-history --alarm-name ReInvent-EC2SpotTestDev-Alarm \
      --history-item-type StateUpdate --query 'length(AlarmHistoryItems)' --output text)" "2"
check "statistics of the errors" \
  "$(aws cloudwatch list-metrics --namespace ReInvent-EC2SpotTestDev-Metrics \
      --query 'length(Metrics)' --output text)" "2"

# --- An interruption warning reaches the interruption topic -------------------------
aws events put-events --entries '[{"Source":"aws.ec2","DetailType":"EC2 Spot Instance Interruption Warning","Detail":"{\"instance-id\":\"i-0123456789abcdef0\",\"instance-action\":\"terminate\"}"}]' \
  --query FailedEntryCount --output text | grep -qx 0 || fail "put-events failed"
aws events put-events --entries '[{"Source":"aws.ec2","DetailType":"EC2 Instance State-change Notification","Detail":"{\"instance-id\":\"i-0123456789abcdef0\",\"state\":\"running\"}"}]' >/dev/null
count_lines() { [ -f "$spot_log" ] && wc -l < "$spot_log" | tr -d ' ' || echo 0; }
wait_until "interruption warnings delivered" "1" count_lines
check "the rule matches a warning" \
  "$(aws events test-event-pattern \
      --event-pattern '{"source":["aws.ec2"],"detail-type":["EC2 Spot Instance Interruption Warning"]}' \
      --event '{"id":"1","account":"000000000000","source":"aws.ec2","time":"2026-01-01T00:00:00Z","region":"us-east-1","resources":[],"detail-type":"EC2 Spot Instance Interruption Warning","detail":{}}' \
      --query Result --output text)" "True"

echo "monitoring passed"
