# The walkthrough's step 11 as a third party would write it: a program run as an
# instance's user data that uses boto3 and plain HTTP to the instance metadata service
# (IMDSv2), polls for the Spot interruption notice, saves its state and exits cleanly
# before the instance is terminated. The test harness prepends a `#!` line naming the
# virtual environment's Python.
import json
import os
import time
import urllib.error
import urllib.request

import boto3

IMDS = os.environ.get("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://169.254.169.254/").rstrip("/")
# AWS advises polling every 5 seconds; the local cloud's seconds may be shorter.
POLL_SECONDS = 5.0 / float(os.environ.get("SPOTLAB_TIME_SCALE", "1"))


def token():
    request = urllib.request.Request(
        IMDS + "/latest/api/token",
        method="PUT",
        headers={"X-aws-ec2-metadata-token-ttl-seconds": "21600"},
    )
    with urllib.request.urlopen(request, timeout=2) as response:
        return response.read().decode()


def get(path, session):
    request = urllib.request.Request(
        IMDS + path, headers={"X-aws-ec2-metadata-token": session}
    )
    try:
        with urllib.request.urlopen(request, timeout=2) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, ""


session = token()
_, instance_id = get("/latest/meta-data/instance-id", session)
ec2 = boto3.client("ec2")
me = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]
with open("boot.json", "w") as out:
    json.dump(
        {
            "instance": instance_id,
            "type": me["InstanceType"],
            "lifecycle": me.get("InstanceLifecycle"),
            "fleet": next(t["Value"] for t in me["Tags"] if t["Key"] == "aws:ec2:fleet-id"),
        },
        out,
    )
print("watching for an interruption notice on", instance_id, flush=True)

while True:
    status, body = get("/latest/meta-data/spot/instance-action", session)
    if status == 401:
        session = token()
        continue
    if status == 200:
        notice = json.loads(body)
        with open("interrupted.json", "w") as out:
            json.dump({"instance": instance_id, "notice": notice}, out)
        print("interruption notice:", body, "- state saved, exiting", flush=True)
        break
    time.sleep(POLL_SECONDS)
