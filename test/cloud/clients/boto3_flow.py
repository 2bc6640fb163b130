"""The run flow with boto3 against gatepass: web identity, caller identity, chaining, and refusals.

Reads a JSON job on stdin, prints one JSON document of results. Never prints credentials.
"""
import json
import sys

import boto3
import botocore
from botocore.config import Config
from botocore.exceptions import ClientError

job = json.load(sys.stdin)
cfg = Config(retries={"max_attempts": 1}, region_name="us-east-1")


def client(service, creds=None):
    kwargs = {"endpoint_url": job["endpoint"], "config": cfg}
    if creds:
        kwargs.update(
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds.get("SessionToken"),
        )
    else:
        # AssumeRoleWithWebIdentity is unsigned; botocore still wants some credentials configured.
        kwargs.update(aws_access_key_id="unused", aws_secret_access_key="unused")
    return boto3.client(service, **kwargs)


def error_code(fn):
    try:
        fn()
    except ClientError as e:
        return [e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]]
    return None


out = {"boto3": boto3.__version__, "botocore": botocore.__version__}
sts = client("sts")
r = sts.assume_role_with_web_identity(
    RoleArn=job["roleArn"], RoleSessionName="boto3", WebIdentityToken=job["token"]
)
creds = r["Credentials"]
out["accessKeyPrefix"] = creds["AccessKeyId"][:4]
out["assumedRoleArn"] = r["AssumedRoleUser"]["Arn"]
out["subject"] = r["SubjectFromWebIdentityToken"]
out["expirationType"] = type(creds["Expiration"]).__name__
out["callerArn"] = client("sts", creds).get_caller_identity()["Arn"]
chained = client("sts", creds).assume_role(RoleArn=job["memberRoleArn"], RoleSessionName="boto3-chain")
out["chainedArn"] = client("sts", chained["Credentials"]).get_caller_identity()["Arn"]
out["iamRoleName"] = client("iam", creds).get_role(RoleName=job["roleName"])["Role"]["RoleName"]

out["errors"] = {
    "wrongPhase": error_code(
        lambda: sts.assume_role_with_web_identity(
            RoleArn=job["roleArn"], RoleSessionName="boto3", WebIdentityToken=job["applyToken"]
        )
    ),
    "badToken": error_code(
        lambda: sts.assume_role_with_web_identity(
            RoleArn=job["roleArn"], RoleSessionName="boto3", WebIdentityToken="abcd.efgh.ijkl"
        )
    ),
    "badSessionName": error_code(
        lambda: sts.assume_role_with_web_identity(
            RoleArn=job["roleArn"], RoleSessionName="has space", WebIdentityToken=job["token"]
        )
    ),
    "chainTooLong": error_code(
        lambda: client("sts", creds).assume_role(
            RoleArn=job["memberRoleArn"], RoleSessionName="long", DurationSeconds=7200
        )
    ),
    "writeDenied": error_code(
        lambda: client("iam", creds).create_role(
            RoleName="nope", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []})
        )
    ),
    "noSuchRole": error_code(lambda: client("iam", creds).get_role(RoleName="does-not-exist")),
}
print(json.dumps(out))
