"""STS error paths with boto3 against gatepass: runs each case of a JSON list read on stdin and
prints, per case, the error code and HTTP status boto3 reports (or "ok"). Never prints credentials.
"""
import json
import sys

import boto3
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

job = json.load(sys.stdin)
METHODS = {
    "AssumeRoleWithWebIdentity": "assume_role_with_web_identity",
    "AssumeRole": "assume_role",
    "GetCallerIdentity": "get_caller_identity",
    "DecodeAuthorizationMessage": "decode_authorization_message",
}


def client(creds):
    if creds == "unsigned":
        cfg = Config(retries={"max_attempts": 1}, region_name="us-east-1", signature_version=UNSIGNED)
        return boto3.client("sts", endpoint_url=job["endpoint"], config=cfg)
    cfg = Config(retries={"max_attempts": 1}, region_name="us-east-1")
    return boto3.client(
        "sts",
        endpoint_url=job["endpoint"],
        config=cfg,
        aws_access_key_id=creds["accessKeyId"],
        aws_secret_access_key=creds["secretAccessKey"],
        aws_session_token=creds.get("sessionToken"),
    )


out = {}
for case in job["cases"]:
    try:
        getattr(client(case["creds"]), METHODS[case["op"]])(**case["params"])
        out[case["name"]] = ["ok", 200]
    except ClientError as e:
        out[case["name"]] = [e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]]
print(json.dumps(out))
