"""A botocore CloudWatch client that speaks Smithy RPC v2 CBOR and never touches the
network: shared by make_requests.py and check_responses.py.

botocore supports CBOR but prefers JSON for CloudWatch (its priority list puts `json`
first); lowering that list makes the *whole* client pipeline (validation, serializer,
headers, response parser, error factory) the CBOR one, as aws-sdk-rust's would be. A
`before-send` hook answers every request with a canned response instead of sending it.
"""

import botocore.model
import botocore.session
from botocore.awsrequest import AWSResponse
from botocore.config import Config

botocore.model.PRIORITY_ORDERED_SUPPORTED_PROTOCOLS = ("smithy-rpc-v2-cbor", "json", "query")


class _Raw:
    def __init__(self, body):
        self._body = body

    def stream(self, **_kwargs):
        yield self._body


class CannedClient:
    """Calls operations; records each request; answers with `self.answer`
    (status, headers, body)."""

    def __init__(self):
        session = botocore.session.get_session()
        self.client = session.create_client(
            "cloudwatch",
            region_name="us-east-1",
            endpoint_url="http://localhost:1",
            aws_access_key_id="AKIDEXAMPLE",
            aws_secret_access_key="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            config=Config(retries={"total_max_attempts": 1}),
        )
        assert self.client.meta.service_model.resolved_protocol == "smithy-rpc-v2-cbor"
        self.model = self.client.meta.service_model
        self.requests = []
        self.answer = (200, {}, b"")
        self.client.meta.events.register("before-send.cloudwatch.*", self._send)

    def _send(self, request, **_kwargs):
        self.requests.append(request)
        status, headers, body = self.answer
        return AWSResponse(request.url, status, headers, _Raw(body))

    def call(self, operation, params):
        method = getattr(self.client, botocore.xform_name(operation))
        return method(**params)
