"""boto3 against gatepass with a skewed clock or a made-up region: reads {endpoint, creds, skew_seconds,
region} on stdin, signs one GetCallerIdentity with botocore's clock moved by skew_seconds, prints the
error code, message and status botocore reports (or "ok"). Never prints credentials.
"""
import datetime
import json
import sys
import types

import boto3
import botocore.auth
import botocore.utils
from botocore.config import Config
from botocore.exceptions import ClientError

job = json.load(sys.stdin)
skew = datetime.timedelta(seconds=job["skew_seconds"])
# botocore's signers read the time through one function (newer botocore imports get_current_datetime
# into botocore.auth; older versions call datetime.datetime.utcnow there, and in botocore.crt.auth when
# awscrt is installed, as on Debian): moving it moves the signing clock.
if hasattr(botocore.auth, "get_current_datetime"):
    real_now = botocore.auth.get_current_datetime
    botocore.auth.get_current_datetime = lambda *a, **k: real_now(*a, **k) + skew
else:

    class SkewedDatetime(datetime.datetime):
        @classmethod
        def utcnow(cls):
            return datetime.datetime.utcnow() + skew

    skewed = types.ModuleType("datetime")
    skewed.__dict__.update(datetime.__dict__)
    skewed.datetime = SkewedDatetime
    botocore.auth.datetime = skewed
    try:
        import botocore.crt.auth

        botocore.crt.auth.datetime = skewed
    except ImportError:
        pass

creds = job["creds"]
sts = boto3.client(
    "sts",
    endpoint_url=job["endpoint"],
    config=Config(retries={"max_attempts": job.get("attempts", 3), "mode": "standard"}, region_name=job["region"]),
    aws_access_key_id=creds["accessKeyId"],
    aws_secret_access_key=creds["secretAccessKey"],
)
try:
    sts.get_caller_identity()
    print(json.dumps(["ok", "", 200]))
except ClientError as e:
    err = e.response["Error"]
    print(json.dumps([err["Code"], err["Message"], e.response["ResponseMetadata"]["HTTPStatusCode"]]))
