"""Writes sigv4_vectors.json: requests signed by botocore, as they go on the wire.

Run from this folder with a Python that has botocore installed:

    python make_sigv4_vectors.py > sigv4_vectors.json

The signing clock is frozen, so the output is the same on every run. Each vector is the
request a server receives (method, raw path, raw query, every header including the ones
the HTTP client adds, body) and what verification must report for it. The Rust tests in
../sigv4.rs verify every vector and then tamper with it.
"""

import datetime
import json
import sys
from unittest import mock
from urllib.parse import urlsplit

import botocore
from botocore.auth import (
    S3SigV4Auth,
    S3SigV4QueryAuth,
    SigV4Auth,
    SigV4QueryAuth,
    _host_from_url,
)
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

ACCESS_KEY_ID = "AKIASPOTLABEXAMPLE01"
SECRET_ACCESS_KEY = "spotlab/Secret+Key/For/Tests/0123456789ab"
SESSION_TOKEN = "FwoGZXIvYXdzEXAMPLE//token+with/odd=chars"
SIGNED_AT = datetime.datetime(2025, 3, 14, 9, 26, 53, tzinfo=datetime.timezone.utc)
# The server's clock when the vectors are checked: a little after signing.
NOW = SIGNED_AT + datetime.timedelta(seconds=42)
USER_AGENT = "Boto3/1.0 md/Botocore#" + botocore.__version__

PLAIN = Credentials(ACCESS_KEY_ID, SECRET_ACCESS_KEY)
TEMPORARY = Credentials(ACCESS_KEY_ID, SECRET_ACCESS_KEY, SESSION_TOKEN)


def sign(signer, request):
    """Signs `request` at SIGNED_AT and returns it as the server will receive it."""
    with mock.patch("botocore.auth.get_current_datetime", return_value=SIGNED_AT):
        signer.add_auth(request)
    prepared = request.prepare()
    parts = urlsplit(prepared.url)
    headers = [(name, value) for name, value in prepared.headers.items()]
    names = {name.lower() for name, _ in headers}
    # What the HTTP client adds on the way out: Host from the URL (a non-default port
    # stays), and a User-Agent the signer deliberately leaves unsigned.
    if "host" not in names:
        headers.insert(0, ("Host", _host_from_url(prepared.url)))
    if "user-agent" not in names:
        headers.append(("User-Agent", USER_AGENT))
    body = prepared.body or b""
    if isinstance(body, str):
        body = body.encode("utf-8")
    return {
        "method": prepared.method,
        "path": parts.path or "/",
        "query": parts.query,
        "headers": [[name, value if isinstance(value, str) else value.decode()] for name, value in headers],
        "body": body.decode("utf-8"),
    }


def vector(name, about, signer, request, *, service, region="us-east-1", token=None, body_covered=True):
    signed = sign(signer, request)
    return {
        "name": name,
        "about": about,
        **signed,
        "body_covered": body_covered,
        "expected": {
            "access_key_id": ACCESS_KEY_ID,
            "region": region,
            "service": service,
            "session_token": token,
        },
    }


def vectors():
    yield vector(
        "ec2-query-post",
        "EC2 query protocol: form body, host with a non-default port",
        SigV4Auth(PLAIN, "ec2", "us-east-1"),
        AWSRequest(
            method="POST",
            url="http://127.0.0.1:4566/",
            data=b"Action=DescribeRegions&Version=2016-11-15",
            headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
        ),
        service="ec2",
    )
    yield vector(
        "cloudwatch-json-post",
        "JSON 1.0 protocol: X-Amz-Target names the operation",
        SigV4Auth(PLAIN, "monitoring", "eu-west-1"),
        AWSRequest(
            method="POST",
            url="http://localhost:4566/",
            data=json.dumps(
                {
                    "Namespace": "spotlab/test",
                    "MetricData": [{"MetricName": "Interruptions", "Value": 3.0, "Unit": "Count"}],
                }
            ).encode(),
            headers={
                "Content-Type": "application/x-amz-json-1.0",
                "X-Amz-Target": "GraniteServiceVersion20100801.PutMetricData",
            },
        ),
        service="monitoring",
        region="eu-west-1",
    )
    yield vector(
        "ec2-query-post-session-token",
        "temporary credentials: X-Amz-Security-Token is sent and signed",
        SigV4Auth(TEMPORARY, "ec2", "us-west-2"),
        AWSRequest(
            method="POST",
            url="http://127.0.0.1:4566/",
            data=b"Action=DescribeSpotFleetRequests&Version=2016-11-15&SpotFleetRequestId.1=sfr-0123",
            headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
        ),
        service="ec2",
        region="us-west-2",
        token=SESSION_TOKEN,
    )
    yield vector(
        "get-query-needing-encoding",
        "query parameters out of order, values with space, slash, $, ~ and non-ASCII",
        SigV4Auth(PLAIN, "ec2", "us-east-1"),
        AWSRequest(
            method="GET",
            url="http://127.0.0.1:4566/",
            params={
                "Version": "2016-11-15",
                "Filter.1.Value.1": "spot fleet/α $cheap~",
                "Action": "DescribeInstances",
                "Filter.1.Name": "tag:Name",
                "Zeta": "",
                "ABC": "upper-case sorts first",
            },
        ),
        service="ec2",
    )
    yield vector(
        "get-raw-query-and-encoded-path",
        "a query string sent pre-encoded, and a path whose escapes are encoded again",
        SigV4Auth(PLAIN, "lambda", "us-east-1"),
        AWSRequest(
            method="GET",
            url="http://127.0.0.1:4566/2015-03-31/functions/my%20function/configuration?b=2&a=%E2%9C%93&a=1&empty=",
        ),
        service="lambda",
    )
    yield vector(
        "date-header",
        "a request that carries Date instead of X-Amz-Date",
        SigV4Auth(PLAIN, "sts", "us-east-1"),
        AWSRequest(
            method="POST",
            url="https://sts.amazonaws.com/",
            data=b"Action=GetCallerIdentity&Version=2011-06-15",
            headers={
                "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
                "Date": "placeholder, replaced by the signer",
            },
        ),
        service="sts",
    )
    yield vector(
        "unsigned-payload",
        "payload signing turned off over HTTPS: X-Amz-Content-SHA256 is UNSIGNED-PAYLOAD",
        SigV4Auth(PLAIN, "ec2", "us-east-1"),
        unsigned_payload_request(),
        service="ec2",
        body_covered=False,
    )
    yield vector(
        "s3-put-object",
        "S3 signs X-Amz-Content-SHA256 and the path exactly as sent",
        S3SigV4Auth(PLAIN, "s3", "us-east-1"),
        AWSRequest(
            method="PUT",
            url="http://127.0.0.1:4566/spotlab-bucket/logs//2025/a%20b.txt",
            data=b"interruption notice\n",
            headers={"Content-Type": "text/plain"},
        ),
        service="s3",
    )
    yield vector(
        "presigned-ec2",
        "presigned URL for a query-protocol call: body parameters move into the query",
        SigV4QueryAuth(PLAIN, "ec2", "us-east-1", expires=600),
        AWSRequest(
            method="GET",
            url="http://127.0.0.1:4566/",
            data={"Action": "DescribeRegions", "Version": "2016-11-15", "RegionName.1": "us east/1"},
        ),
        service="ec2",
    )
    yield vector(
        "presigned-session-token",
        "presigned URL with temporary credentials: X-Amz-Security-Token in the query",
        SigV4QueryAuth(TEMPORARY, "sts", "us-east-1", expires=600),
        AWSRequest(
            method="GET",
            url="http://127.0.0.1:4566/",
            params={"Action": "GetCallerIdentity", "Version": "2011-06-15"},
        ),
        service="sts",
        token=SESSION_TOKEN,
    )
    yield vector(
        "presigned-s3",
        "presigned S3 GET: the payload is UNSIGNED-PAYLOAD",
        S3SigV4QueryAuth(PLAIN, "s3", "us-east-1", expires=600),
        AWSRequest(method="GET", url="http://127.0.0.1:4566/spotlab-bucket/key%20with%20spaces"),
        service="s3",
        body_covered=False,
    )


def unsigned_payload_request():
    request = AWSRequest(
        method="POST",
        url="https://ec2.us-east-1.amazonaws.com/",
        data=b"Action=DescribeRegions&Version=2016-11-15",
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
    )
    request.context["payload_signing_enabled"] = False
    return request


def main():
    document = {
        "about": "Requests signed by botocore " + botocore.__version__ + "; regenerate with make_sigv4_vectors.py",
        "access_key_id": ACCESS_KEY_ID,
        "secret_access_key": SECRET_ACCESS_KEY,
        "now_unix_secs": int(NOW.timestamp()),
        "vectors": list(vectors()),
    }
    json.dump(document, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
