#!/usr/bin/env bash
# The walkthrough end to end on the local cloud with the real binaries, as the AWS CLI
# user would run it: `spotlab target` throttled at 5 requests/s, a fleet whose instances
# run `spotlab agent` reporting to the local cloud, the alarm on the agents' error rate
# notifying a webhook, the interruption rule notifying a file subscriber. At 4 units the
# alarm stays OK; at 8 it goes to ALARM and the webhook gets exactly one notification;
# scaling to 2 sends exactly one message per notified instance. The control plane is
# killed with SIGKILL mid-run and restarted; at the end every request the agents made
# (their checkpoints) is counted exactly once by CloudWatch.
#
# Run by crates/spotlab/tests/aws_cli.rs. This script starts and stops `spotlab up`
# itself (it must kill and restart it). Environment: PATH with the virtual environment's
# `aws` and `python3` first, WORKDIR, SPOTLAB, HERE, AWS_DEFAULT_REGION and credentials.
set -euo pipefail
cd "$WORKDIR"

fail() {
  echo "FAILED: $*" >&2
  # What the alarm and its metric looked like, for the log.
  aws cloudwatch describe-alarms --alarm-names ReInvent-EC2SpotTestDev-Alarm \
    --query 'MetricAlarms[0].[StateValue,StateReason]' --output text >&2 || true
  python3 - <<'PY' >&2 || true
import datetime, json, os, subprocess, urllib.request
health = json.load(urllib.request.urlopen(os.environ["AWS_ENDPOINT_URL"] + "/spotlab/v1/health"))
now = datetime.datetime.fromisoformat(health["virtual_time"].replace("Z", "+00:00"))
print("virtual now", now.isoformat())
out = subprocess.run(["aws", "cloudwatch", "get-metric-statistics", "--namespace", "spotlab",
    "--metric-name", "Error", "--statistics", "Average", "SampleCount", "--period", "60",
    "--start-time", (now - datetime.timedelta(minutes=15)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    "--end-time", (now + datetime.timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    "--output", "json"], capture_output=True, text=True)
for p in sorted(json.loads(out.stdout or "{}").get("Datapoints", []), key=lambda p: p["Timestamp"]):
    print(p["Timestamp"], p.get("Average"), p.get("SampleCount"))
PY
  exit 1
}
check() { [ "$2" = "$3" ] || fail "$1: expected '$3', got '$2'"; echo "ok: $1 = $3"; }
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

state="$WORKDIR/state"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  [ -n "${up_pid:-}" ] && kill "$up_pid" 2>/dev/null && wait "$up_pid" 2>/dev/null || true
}
trap cleanup EXIT
start_up() { # start_up [ARGS...]: starts `spotlab up` on $state, sets up_pid and AWS_ENDPOINT_URL
  rm -f up.out
  "$SPOTLAB" up --state-dir "$state" "$@" > up.out 2>> up.err &
  up_pid=$!
  for _ in $(seq 1 100); do grep -q http:// up.out 2>/dev/null && break; sleep 0.1; done
  AWS_ENDPOINT_URL=$(grep -o 'http://[0-9.:]*' up.out | head -1)
  [ -n "$AWS_ENDPOINT_URL" ] || fail "spotlab up did not start: $(cat up.err)"
  export AWS_ENDPOINT_URL SPOTLAB_ENDPOINT=$AWS_ENDPOINT_URL
}
start_up --listen 127.0.0.1:0 --time-scale 60 --seed 11

# --- The service under test and the subscribers ------------------------------------
"$SPOTLAB" target --listen 127.0.0.1:0 --rate 5 --time-scale 60 > target.out 2> target.err &
pids+=($!)
python3 "$HERE/webhook.py" hook.port hook.jsonl &
pids+=($!)
for _ in $(seq 1 100); do grep -q http:// target.out 2>/dev/null && [ -s hook.port ] && break; sleep 0.1; done
target_url=$(grep -o 'http://[0-9.:]*' target.out | head -1)
[ -n "$target_url" ] || fail "spotlab target did not start: $(cat target.err)"
hook="http://127.0.0.1:$(cat hook.port)/alarm"

# --- The stack: topics, subscriptions, alarm on the agents' errors, rule, template ---
alarm_topic=$(aws sns create-topic --name ReInvent-EC2SpotTestDev-TestFailureAlarmTopic --query TopicArn --output text)
spot_topic=$(aws sns create-topic --name ReInvent-EC2SpotTestDev-SpotInterruptionTopic --query TopicArn --output text)
aws sns subscribe --topic-arn "$alarm_topic" --protocol http --notification-endpoint "$hook" >/dev/null
spot_log="$WORKDIR/interruptions.jsonl"
aws sns subscribe --topic-arn "$spot_topic" --protocol file --notification-endpoint "$spot_log" >/dev/null
wait_until "the webhook confirmed its subscription" "1" \
  aws sns get-topic-attributes --topic-arn "$alarm_topic" --query 'Attributes.SubscriptionsConfirmed' --output text
aws cloudwatch put-metric-alarm --alarm-name ReInvent-EC2SpotTestDev-Alarm \
  --namespace spotlab --metric-name Error --statistic Average \
  --period 60 --evaluation-periods 1 --threshold 0.1 \
  --comparison-operator GreaterThanOrEqualToThreshold --treat-missing-data ignore \
  --alarm-actions "$alarm_topic"
aws events put-rule --name ReInvent-EC2SpotTestDev-SpotInterruptionRule \
  --event-pattern '{"source":["aws.ec2"],"detail-type":["EC2 Spot Instance Interruption Warning"]}' >/dev/null
aws events put-targets --rule ReInvent-EC2SpotTestDev-SpotInterruptionRule \
  --targets "Id=ReInvent-EC2SpotTestDev-SpotInterruptionTopic,Arn=$spot_topic" >/dev/null

vpc_id=$(aws ec2 create-vpc --cidr-block 10.0.0.0/16 --query 'Vpc.VpcId' --output text)
subnet_1=$(aws ec2 create-subnet --vpc-id "$vpc_id" --cidr-block 10.0.1.0/24 \
  --availability-zone us-east-1a --query 'Subnet.SubnetId' --output text)
subnet_2=$(aws ec2 create-subnet --vpc-id "$vpc_id" --cidr-block 10.0.2.0/24 \
  --availability-zone us-east-1b --query 'Subnet.SubnetId' --output text)
# Every instance runs the agent against the target, reporting to the local cloud.
printf '#!/bin/sh\nexec spotlab agent --url %s/ --report "$AWS_ENDPOINT_URL"\n' "$target_url" > user_data
launch_template_id=$(aws ec2 create-launch-template \
  --launch-template-name ReInvent-EC2SpotTestDev-TestAsgTemplate \
  --launch-template-data "{\"ImageId\":\"ami-0ff8a91507f77f867\",\"UserData\":\"$(base64 -w0 user_data)\"}" \
  --query 'LaunchTemplate.LaunchTemplateId' --output text)
sed s/%LAUNCH_TEMPLATE_ID%/$launch_template_id/ "$HERE/create_fleet_request_template.json" \
  | sed s/%SUBNET_ID_1%/$subnet_1/ | sed s/%SUBNET_ID_2%/$subnet_2/ > create_fleet.json

capacity() {
  aws ec2 describe-fleets --fleet-ids "$fleet_id" \
    --query 'Fleets[0].[ActivityStatus,FulfilledCapacity]' --output text
}
alarm_state() {
  aws cloudwatch describe-alarms --alarm-names ReInvent-EC2SpotTestDev-Alarm \
    --query 'MetricAlarms[0].StateValue' --output text
}
notifications() { # the alarm states the webhook was notified of, in order
  python3 - <<'PY'
import json
notes = [json.loads(l) for l in open("hook.jsonl")]
print(" ".join(json.loads(n["body"]["Message"])["NewStateValue"] for n in notes if n["type"] == "Notification"))
PY
}
virtual_minutes() { # waits N virtual minutes (the time scale is 60)
  sleep "$1"
}

# --- 4 units: 4 requests/s against 5/s: no errors, the alarm is OK ------------------
fleet_id=$(aws ec2 create-fleet --cli-input-json file://create_fleet.json --query FleetId --output text)
wait_until "fleet at 4 units" "fulfilled	4.0" capacity
wait_until "alarm at 4 units" "OK" alarm_state
virtual_minutes 3
check "alarm after 3 more minutes at 4 units" "$(alarm_state)" "OK"
check "notifications at 4 units" "$(notifications)" ""

# --- The control plane is killed and restarted in the middle of the run -------------
kill -9 "$up_pid"
wait "$up_pid" 2>/dev/null || true
start_up
echo "ok: spotlab up killed with SIGKILL and restarted"
check "alarm after the restart" "$(alarm_state)" "OK"

# --- 8 units: 8 requests/s against 5/s: the alarm goes to ALARM, notified once ------
aws ec2 modify-fleet --fleet-id "$fleet_id" --target-capacity-specification TotalTargetCapacity=8
wait_until "fleet at 8 units" "fulfilled	8.0" capacity
wait_until "alarm at 8 units" "ALARM" alarm_state
wait_until "notifications at 8 units" "ALARM" notifications
virtual_minutes 3
check "notifications after 3 more minutes at 8 units" "$(notifications)" "ALARM"

# --- 2 units: the removed Spot instances are notified, one message each ------------
events_before=$("$SPOTLAB" events --format json | wc -l)
aws ec2 modify-fleet --fleet-id "$fleet_id" --target-capacity-specification TotalTargetCapacity=2
wait_until "fleet at 2 units" "fulfilled	2.0" capacity
warnings() {
  "$SPOTLAB" events --after "$events_before" --format json \
    | grep -c '"detail-type":"EC2 Spot Instance Interruption Warning"' || true
}
notified=$(warnings)
[ "$notified" -ge 1 ] || fail "scaling to 2 notified no instance"
count_lines() { [ -f "$spot_log" ] && wc -l < "$spot_log" | tr -d ' ' || echo 0; }
wait_until "interruption messages, one per notified instance" "$notified" count_lines
virtual_minutes 3
check "interruption messages after 3 more minutes" "$(count_lines)" "$notified"

# --- The end: every agent drains; CloudWatch counted every request exactly once -----
# The last instances are interrupted (a 2-minute notice, as FIS sends it), so their
# agents drain and checkpoint before the fleet is deleted.
aws ec2 delete-fleets --fleet-ids "$fleet_id" --no-terminate-instances >/dev/null
last=$(aws ec2 describe-instances --filters Name=instance-state-name,Values=pending,running \
  --query 'Reservations[].Instances[].InstanceId' --output text)
# shellcheck disable=SC2086
"$SPOTLAB" fault interrupt $(printf -- '--instance %s ' $last) >/dev/null
running() {
  aws ec2 describe-instances --filters Name=instance-state-name,Values=pending,running,shutting-down \
    --query 'length(Reservations[].Instances[])' --output text
}
wait_until "instances left" "0" running
counted() {
  python3 - "$state" <<'PY'
import glob, json, os, subprocess, sys
import datetime, urllib.request
state = sys.argv[1]
health = json.load(urllib.request.urlopen(os.environ["AWS_ENDPOINT_URL"] + "/spotlab/v1/health"))
now = datetime.datetime.fromisoformat(health["virtual_time"].replace("Z", "+00:00"))
start = (now - datetime.timedelta(hours=12)).strftime("%Y-%m-%dT%H:%M:%SZ")
end = (now + datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
made = 0
for path in glob.glob(os.path.join(state, "instances", "*", "checkpoints", "**", "*.json"), recursive=True):
    totals = json.load(open(path))["totals"]
    made += sum(totals.get(k, 0) for k in ("success", "throttled", "client_error", "server_error", "timeout", "connection_error"))
sums = []
for name in ("Success", "Error"):
    out = subprocess.run(["aws", "cloudwatch", "get-metric-statistics", "--namespace", "spotlab",
        "--metric-name", name, "--statistics", "Sum", "--period", "60",
        "--start-time", start, "--end-time", end,
        "--query", "sum(Datapoints[].Sum)", "--output", "text"], capture_output=True, text=True, check=True)
    sums.append(float(out.stdout.strip() or 0))
print(f"made {made} counted {int(sums[0] + sums[1])}")
PY
}
final=""
for _ in $(seq 1 100); do
  final=$(counted)
  read -r _ made _ counted_ <<< "$final"
  [ "$made" -gt 0 ] && [ "$made" = "$counted_" ] && break
  sleep 0.2
done
echo "$final"
read -r _ made _ counted_ <<< "$final"
if [ "$made" = 0 ] || [ "$made" != "$counted_" ]; then
  # Which instances left no checkpoint, and how their agents ended.
  for dir in "$state"/instances/*/; do
    echo "$(basename "$dir"): $(find "$dir" -path '*checkpoints*' -name '*.json' | wc -l) checkpoint(s); console ends:" >&2
    tail -n 4 "$dir/console.log" >&2 || true
  done
fi
[ "$made" -gt 0 ] || fail "no checkpoint recorded any request"
check "requests counted by CloudWatch (Success + Error sums)" "$counted_" "$made"
echo "monitoring end to end passed"
