#!/usr/bin/env bash
# The walkthrough's own kind of test script (tests/aws-cli/test_simple_server.py: boto3
# put_metric_data after every call, one thread per CPU) as the user data of a local
# fleet, against `spotlab target`: its metrics reach CloudWatch and the walkthrough's
# alarm evaluates them (INSUFFICIENT_DATA -> OK).
#
# Run by crates/spotlab/tests/aws_cli.rs with the same environment as walkthrough.sh.
set -euo pipefail
cd "$WORKDIR"

fail() { echo "FAILED: $*" >&2; exit 1; }
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

"$SPOTLAB" target --listen 127.0.0.1:0 --rate 5 --time-scale 60 > target.out 2> target.err &
target_pid=$!
trap 'kill $target_pid 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do grep -q http:// target.out 2>/dev/null && break; sleep 0.1; done
target_url=$(grep -o 'http://[0-9.:]*' target.out | head -1)
[ -n "$target_url" ] || fail "spotlab target did not start: $(cat target.err)"

aws cloudwatch put-metric-alarm --alarm-name ReInvent-EC2SpotTestDev-Alarm \
  --namespace ReInvent-EC2SpotTestDev-Metrics --metric-name Error --statistic Average \
  --period 60 --evaluation-periods 1 --threshold 0.1 \
  --comparison-operator GreaterThanOrEqualToThreshold --treat-missing-data ignore

{ printf '#!%s\n' "$(command -v python3)"; cat "$HERE/test_simple_server.py"; } > test_simple_server.py
printf '#!/bin/sh\nexec %s/test_simple_server.py %s/\n' "$WORKDIR" "$target_url" > user_data
chmod +x test_simple_server.py
vpc_id=$(aws ec2 create-vpc --cidr-block 10.0.0.0/16 --query 'Vpc.VpcId' --output text)
subnet_1=$(aws ec2 create-subnet --vpc-id "$vpc_id" --cidr-block 10.0.1.0/24 \
  --availability-zone us-east-1a --query 'Subnet.SubnetId' --output text)
subnet_2=$(aws ec2 create-subnet --vpc-id "$vpc_id" --cidr-block 10.0.2.0/24 \
  --availability-zone us-east-1b --query 'Subnet.SubnetId' --output text)
launch_template_id=$(aws ec2 create-launch-template \
  --launch-template-name ReInvent-EC2SpotTestDev-TestAsgTemplate \
  --launch-template-data "{\"ImageId\":\"ami-0ff8a91507f77f867\",\"UserData\":\"$(base64 -w0 user_data)\"}" \
  --query 'LaunchTemplate.LaunchTemplateId' --output text)
sed s/%LAUNCH_TEMPLATE_ID%/$launch_template_id/ "$HERE/create_fleet_request_template.json" \
  | sed s/%SUBNET_ID_1%/$subnet_1/ | sed s/%SUBNET_ID_2%/$subnet_2/ > create_fleet.json
fleet_id=$(aws ec2 create-fleet --cli-input-json file://create_fleet.json --query FleetId --output text)

metrics() {
  aws cloudwatch list-metrics --namespace ReInvent-EC2SpotTestDev-Metrics \
    --query 'sort(Metrics[].MetricName)' --output text
}
wait_until "metrics the test script published" "Error	Success" metrics
alarm_state() {
  aws cloudwatch describe-alarms --alarm-names ReInvent-EC2SpotTestDev-Alarm \
    --query 'MetricAlarms[0].StateValue' --output text
}
wait_until "the alarm on the test script's errors" "OK" alarm_state
aws cloudwatch describe-alarms --alarm-names ReInvent-EC2SpotTestDev-Alarm \
  --query 'MetricAlarms[0].StateReason' --output text
aws ec2 delete-fleets --fleet-ids "$fleet_id" --terminate-instances >/dev/null
echo "test script passed"
