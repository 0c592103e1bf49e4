#!/usr/bin/env bash
# The reference walkthrough's EC2 commands, steps 5 to 11, run verbatim with the AWS CLI
# against `spotlab up`, checking each outcome as AWS would produce it.
#
# Run by crates/spotlab/tests/aws_cli.rs, which starts the local cloud and sets:
#   AWS_ENDPOINT_URL, AWS_DEFAULT_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY
#   PATH       with the virtual environment's `aws` and `python3` first
#   WORKDIR    a scratch directory (the walkthrough's checkout)
#   STATE_DIR  the local cloud's state directory (instances' files)
#   SPOTLAB    the spotlab binary (for `spotlab events`)
#   HERE       this directory
set -euo pipefail
cd "$WORKDIR"

fail() { echo "FAILED: $*" >&2; exit 1; }
check() { # check DESCRIPTION ACTUAL EXPECTED
  [ "$2" = "$3" ] || fail "$1: expected '$3', got '$2'"
  echo "ok: $1 = $3"
}

# Waits (up to 60 s of real time) until the fleet reports ActivityStatus and
# FulfilledCapacity exactly as the walkthrough expects them.
wait_for_fleet() { # wait_for_fleet FLEET_ID ACTIVITY CAPACITY
  local want="[\"$2\", $3]" got=""
  for _ in $(seq 1 300); do
    got=$(aws ec2 describe-fleets --fleet-ids "$1" \
      --query 'Fleets[0].[ActivityStatus,FulfilledCapacity]' --output json | tr -d ' \n' | sed 's/,/, /')
    [ "$got" = "$want" ] && { echo "ok: fleet $1 is $want"; return 0; }
    sleep 0.2
  done
  fail "fleet $1 never reached $want (last: $got)"
}

# --- What the walkthrough's CloudFormation stack (step 4) creates -------------------
vpc_id=$(aws ec2 create-vpc --cidr-block 10.0.0.0/16 --query 'Vpc.VpcId' --output text)
subnet_1=$(aws ec2 create-subnet --vpc-id "$vpc_id" --cidr-block 10.0.1.0/24 \
  --availability-zone us-east-1a --query 'Subnet.SubnetId' --output text)
subnet_2=$(aws ec2 create-subnet --vpc-id "$vpc_id" --cidr-block 10.0.2.0/24 \
  --availability-zone us-east-1b --query 'Subnet.SubnetId' --output text)
sg=$(aws ec2 create-security-group --group-name ReInvent-EC2SpotTestDev-TestSg \
  --description "Enable SSH access" --vpc-id "$vpc_id" --query GroupId --output text)
aws ec2 authorize-security-group-ingress --group-id "$sg" --protocol tcp --port 22 --cidr 0.0.0.0/0 >/dev/null
# The stack's user data fetches the test script from S3 at boot; here it runs the script
# kept in the scratch directory, so "uploading" a new version is a copy.
cat > test_script <<'SCRIPT'
#!/bin/sh
echo "test script running on $(basename "$PWD")"
trap 'echo "terminating"; exit 0' TERM
while :; do sleep 1 & wait $!; done
SCRIPT
chmod +x test_script
printf '#!/bin/sh\nexec %s/test_script\n' "$WORKDIR" > user_data
cat > launch_template_data.json <<JSON
{
  "ImageId": "ami-0ff8a91507f77f867",
  "KeyName": "ReInvent-EC2SpotTestDev-KeyPair",
  "SecurityGroupIds": ["$sg"],
  "TagSpecifications": [{"ResourceType": "instance", "Tags": [{"Key": "ReInvent-EC2SpotTestDev", "Value": "TestAsg"}]}],
  "UserData": "$(base64 -w0 user_data)"
}
JSON
launch_template_id=$(aws ec2 create-launch-template \
  --launch-template-name ReInvent-EC2SpotTestDev-TestAsgTemplate \
  --launch-template-data file://launch_template_data.json \
  --query 'LaunchTemplate.LaunchTemplateId' --output text)
subnet_id_1=$subnet_1
subnet_id_2=$subnet_2
cp "$HERE/create_fleet_request_template.json" .

# --- Step 5: launch a fleet of Spot Instances ---------------------------------------
echo $launch_template_id
echo $subnet_id_1
echo $subnet_id_2
sed s/%LAUNCH_TEMPLATE_ID%/$launch_template_id/ create_fleet_request_template.json \
  | sed s/%SUBNET_ID_1%/$subnet_id_1/ \
  | sed s/%SUBNET_ID_2%/$subnet_id_2/ \
  > create_fleet.json

fleet_id=\
$(aws ec2 create-fleet \
  --cli-input-json file://create_fleet.json \
  --query 'FleetId' \
  --output text)

echo $fleet_id
[[ $fleet_id =~ ^fleet-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$ ]] \
  || fail "fleet id $fleet_id is not in AWS's format"

aws ec2 describe-fleets \
  --fleet-ids $fleet_id \
  --query 'Fleets[0].{ActivityStatus:ActivityStatus,FulfilledCapacity:FulfilledCapacity}'
wait_for_fleet "$fleet_id" fulfilled 4.0
aws ec2 describe-fleets --fleet-ids $fleet_id \
  --query 'Fleets[0].{ActivityStatus:ActivityStatus,FulfilledCapacity:FulfilledCapacity}' \
  | grep -q '"FulfilledCapacity": 4.0' || fail "FulfilledCapacity is not printed as the double 4.0"

aws ec2 describe-instances \
  --filters Name=tag:aws:ec2:fleet-id,Values=$fleet_id \
  --query 'Reservations[*].Instances[*].[InstanceId,InstanceType,Placement.AvailabilityZone,CpuOptions.CoreCount]'
pools=$(aws ec2 describe-instances --filters Name=tag:aws:ec2:fleet-id,Values=$fleet_id \
  --query 'Reservations[*].Instances[*].[InstanceType,Placement.AvailabilityZone]' --output text | sort -u | wc -l)
[ "$pools" -ge 1 ] && [ "$pools" -le 2 ] || fail "the fleet spans $pools pools, expected 1 or 2"
echo "ok: the fleet spans $pools pool(s)"
units=$(aws ec2 describe-instances --filters Name=tag:aws:ec2:fleet-id,Values=$fleet_id \
  --query 'Reservations[*].Instances[*].InstanceType' --output text | tr '\t' '\n' \
  | awk '/t2.small/{u+=1} /c5.large/{u+=2} /c5.xlarge/{u+=4} END{print u}')
check "units launched (weights by vCPU)" "$units" 4

aws ec2 describe-fleet-history \
  --fleet-id $fleet_id \
  --start-time 2018-11-01
launched=$(aws ec2 describe-fleet-history --fleet-id $fleet_id --start-time 2018-11-01 \
  --query "length(HistoryRecords[?EventInformation.EventSubType=='launched'])" --output text)
[ "$launched" -ge 1 ] || fail "no launched records in the fleet history"
echo "ok: $launched launched record(s) in the history"

# --- Step 7: scale up the fleet size ------------------------------------------------
aws ec2 modify-fleet \
  --fleet-id $fleet_id \
  --target-capacity-specification TotalTargetCapacity=8
wait_for_fleet "$fleet_id" fulfilled 8.0
aws ec2 describe-instances \
  --filters Name=tag:aws:ec2:fleet-id,Values=$fleet_id \
  --query 'Reservations[*].Instances[*].[InstanceId,InstanceType,Placement.AvailabilityZone,CpuOptions.CoreCount]'
aws ec2 describe-fleet-history \
  --fleet-id $fleet_id \
  --start-time 2018-11-01 >/dev/null
modified=$(aws ec2 describe-fleet-history --fleet-id $fleet_id --start-time 2018-11-01 \
  --query "length(HistoryRecords[?EventInformation.EventSubType=='modify_succeeded'])" --output text)
check "modify_succeeded records" "$modified" 1

# --- Step 10: reduce the fleet size: Spot interruptions -----------------------------
events_before=$("$SPOTLAB" events --format json | wc -l)
running_before=$(aws ec2 describe-instances \
  --filters Name=tag:aws:ec2:fleet-id,Values=$fleet_id Name=instance-state-name,Values=running \
  --query 'length(Reservations[].Instances[])' --output text)
aws ec2 modify-fleet \
  --fleet-id $fleet_id \
  --target-capacity-specification TotalTargetCapacity=2
wait_for_fleet "$fleet_id" fulfilled 2.0
aws ec2 describe-fleets \
  --fleet-ids $fleet_id \
  --query 'Fleets[0].{ActivityStatus:ActivityStatus,FulfilledCapacity:FulfilledCapacity}'
running_after=$(aws ec2 describe-instances \
  --filters Name=tag:aws:ec2:fleet-id,Values=$fleet_id Name=instance-state-name,Values=running \
  --query 'length(Reservations[].Instances[])' --output text)
removed=$((running_before - running_after))
[ "$removed" -ge 1 ] || fail "scaling to 2 removed no instance"
warnings=$("$SPOTLAB" events --after "$events_before" --format json \
  | grep -c '"detail-type":"EC2 Spot Instance Interruption Warning"' || true)
check "interruption warnings, one per removed Spot instance" "$warnings" "$removed"
notified=$(aws ec2 describe-fleet-history --fleet-id $fleet_id --start-time 2018-11-01 \
  --query "length(HistoryRecords[?EventInformation.EventSubType=='termination_notified'])" --output text)
check "termination_notified records" "$notified" "$removed"
terminated=$(aws ec2 describe-instances \
  --filters Name=tag:aws:ec2:fleet-id,Values=$fleet_id Name=instance-state-name,Values=terminated \
  --query 'length(Reservations[].Instances[])' --output text)
check "terminated instances" "$terminated" "$removed"

# --- Step 11: interruption notice on the instance metadata --------------------------
aws ec2 delete-fleets \
  --terminate-instances \
  --fleet-ids $fleet_id
for _ in $(seq 1 300); do
  state=$(aws ec2 describe-fleets --fleet-ids $fleet_id --query 'Fleets[0].FleetState' --output text)
  [ "$state" = deleted ] && break
  sleep 0.2
done
check "fleet state after delete-fleets --terminate-instances" "$state" deleted

# "Upload the modified test script": a Python program using boto3 and IMDSv2 over HTTP.
{ printf '#!%s\n' "$(command -v python3)"; cat "$HERE/interruption_handler.py"; } > test_script.new
chmod +x test_script.new
mv test_script.new test_script

fleet_id=\
$(aws ec2 create-fleet \
  --cli-input-json file://create_fleet.json \
  --query 'FleetId' \
  --output text)
wait_for_fleet "$fleet_id" fulfilled 4.0
booted=0
for _ in $(seq 1 300); do
  booted=$(ls "$STATE_DIR"/instances/*/boot.json 2>/dev/null | wc -l)
  [ "$booted" -ge 1 ] && break
  sleep 0.2
done
[ "$booted" -ge 1 ] || fail "the interruption handler never started"

aws ec2 modify-fleet \
  --fleet-id $fleet_id \
  --target-capacity-specification TotalTargetCapacity=2
wait_for_fleet "$fleet_id" fulfilled 2.0
handled=0
for id in $(aws ec2 describe-instances \
    --filters Name=tag:aws:ec2:fleet-id,Values=$fleet_id Name=instance-state-name,Values=terminated \
    --query 'Reservations[].Instances[].InstanceId' --output text); do
  dir="$STATE_DIR/instances/$id"
  [ -f "$dir/interrupted.json" ] || fail "$id was terminated without handling its notice"
  grep -q '"action": "terminate"' "$dir/interrupted.json" || fail "$id saved $(cat "$dir/interrupted.json")"
  grep -q 'user data exited: exit status: 0' "$dir/console.log" \
    || fail "$id did not exit cleanly before termination: $(tail -3 "$dir/console.log")"
  handled=$((handled + 1))
done
[ "$handled" -ge 1 ] || fail "no instance was interrupted"
echo "ok: $handled instance(s) saw the notice in IMDS, saved state and exited before termination"

# --- Clean up all resources ---------------------------------------------------------
aws ec2 delete-fleets \
  --terminate-instances \
  --fleet-ids $fleet_id
for _ in $(seq 1 300); do
  left=$(aws ec2 describe-instances --filters Name=instance-state-name,Values=pending,running,shutting-down \
    --query 'length(Reservations[].Instances[])' --output text)
  [ "$left" = 0 ] && break
  sleep 0.2
done
check "instances left after cleanup" "$left" 0
echo "walkthrough passed"
