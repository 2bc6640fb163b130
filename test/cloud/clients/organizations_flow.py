"""Every AWS Organizations operation gatepass serves, driven by boto3 over real HTTP.

Reads a JSON job on stdin (endpoint, the management account's administrator keys), builds an
organization, exercises each operation and AWS's errors for bad input, then takes it all down
again. Prints one JSON document of results; never prints credentials.
"""
import json
import sys

import boto3
import botocore
from botocore.config import Config
from botocore.exceptions import ClientError

job = json.load(sys.stdin)
cfg = Config(retries={"max_attempts": 1}, region_name="us-east-1")


def client(service, creds):
    return boto3.client(
        service,
        endpoint_url=job["endpoint"],
        config=cfg,
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds.get("SessionToken"),
    )


errors = {}
# Refusals whose "nothing changed" was checked by reading the whole organization back, and those
# after which it read back differently.
unchanged_checked = []
changed_by = []


def state():
    """Everything a refused write could touch, read back through the API: policies (summary,
    content, targets) and the tree of OUs and accounts under the root."""
    policies = {}
    for kind in ("SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY"):
        for p in org.list_policies(Filter=kind)["Policies"]:
            d = org.describe_policy(PolicyId=p["Id"])["Policy"]
            targets = org.list_targets_for_policy(PolicyId=p["Id"])["Targets"]
            policies[p["Id"]] = [d["PolicySummary"], d["Content"], sorted(t["TargetId"] for t in targets)]
    tree, todo = {}, [rid]
    while todo:
        parent = todo.pop()
        ous = org.list_organizational_units_for_parent(ParentId=parent)["OrganizationalUnits"]
        accounts = org.list_accounts_for_parent(ParentId=parent)["Accounts"]
        tree[parent] = [sorted((u["Id"], u["Name"]) for u in ous), sorted((a["Id"], a["Status"]) for a in accounts)]
        todo += [u["Id"] for u in ous]
    return [policies, tree]


def refused(name, fn, unchanged=False):
    """Record AWS's error code, HTTP status and Reason for a call that must fail; with `unchanged`,
    also whether the organization reads back the same afterwards."""
    before = state() if unchanged else None
    try:
        fn()
    except ClientError as e:
        errors[name] = [
            e.response["Error"]["Code"],
            e.response["ResponseMetadata"]["HTTPStatusCode"],
            e.response.get("Reason", ""),
        ]
    else:
        errors[name] = None
    if unchanged:
        unchanged_checked.append(name)
        if state() != before:
            changed_by.append(name)


admin = {"AccessKeyId": job["accessKeyId"], "SecretAccessKey": job["secretAccessKey"]}
org = client("organizations", admin)
out = {"boto3": boto3.__version__, "botocore": botocore.__version__}

refused("describeBeforeCreate", lambda: org.describe_organization())
o = org.create_organization(FeatureSet="ALL")["Organization"]
out["orgId"] = o["Id"]
out["masterAccountId"] = o["MasterAccountId"]
refused("createTwice", lambda: org.create_organization(FeatureSet="ALL"))
out["describeId"] = org.describe_organization()["Organization"]["Id"]
root = org.list_roots()["Roots"][0]
out["rootPolicyTypesBefore"] = root["PolicyTypes"]
rid = root["Id"]
org.enable_policy_type(RootId=rid, PolicyType="SERVICE_CONTROL_POLICY")
r = org.enable_policy_type(RootId=rid, PolicyType="RESOURCE_CONTROL_POLICY")["Root"]
out["rootPolicyTypes"] = sorted(t["Type"] for t in r["PolicyTypes"])
refused("enableTwice", lambda: org.enable_policy_type(RootId=rid, PolicyType="SERVICE_CONTROL_POLICY"))
refused("enableTagPolicy", lambda: org.enable_policy_type(RootId=rid, PolicyType="TAG_POLICY"))

ou = org.create_organizational_unit(ParentId=rid, Name="workloads", Tags=[{"Key": "team", "Value": "platform"}])[
    "OrganizationalUnit"
]
ou2 = org.create_organizational_unit(ParentId=rid, Name="sandbox")["OrganizationalUnit"]
refused("duplicateOu", lambda: org.create_organizational_unit(ParentId=rid, Name="workloads"))
refused("ouMissingParent", lambda: org.create_organizational_unit(ParentId="ou-zzzz-zzzzzzzz", Name="x"))
org.update_organizational_unit(OrganizationalUnitId=ou2["Id"], Name="experiments")
out["renamedOu"] = org.describe_organizational_unit(OrganizationalUnitId=ou2["Id"])["OrganizationalUnit"]["Name"]

status = org.create_account(Email=f"member-a-{job['tag']}@example.com", AccountName="member-a")["CreateAccountStatus"]
out["createState"] = org.describe_create_account_status(CreateAccountRequestId=status["Id"])["CreateAccountStatus"][
    "State"
]
member = status["AccountId"]
b = org.create_account(Email=f"member-b-{job['tag']}@example.com", AccountName="member-b")["CreateAccountStatus"]["AccountId"]
dup = org.create_account(Email=f"member-a-{job['tag']}@example.com", AccountName="again")["CreateAccountStatus"]
out["duplicateEmail"] = [dup["State"], dup.get("FailureReason")]
out["listCreateStatuses"] = len(org.list_create_account_status()["CreateAccountStatuses"])
refused("unknownCreateRequest", lambda: org.describe_create_account_status(CreateAccountRequestId="car-00000000000000000000000000000000"))

org.move_account(AccountId=member, SourceParentId=rid, DestinationParentId=ou["Id"])
refused("moveFromWrongParent", lambda: org.move_account(AccountId=member, SourceParentId=rid, DestinationParentId=ou["Id"]))
refused("moveToMissingParent", lambda: org.move_account(AccountId=member, SourceParentId=ou["Id"], DestinationParentId="ou-zzzz-zzzzzzzz"))

pages = list(org.get_paginator("list_accounts").paginate(PaginationConfig={"PageSize": 1}))
out["accountPages"] = len(pages)
out["accounts"] = sorted(a["Id"] for p in pages for a in p["Accounts"])
out["accountsInOu"] = [a["Id"] for a in org.list_accounts_for_parent(ParentId=ou["Id"])["Accounts"]]
out["childOus"] = sorted(c["Id"] for c in org.list_children(ParentId=rid, ChildType="ORGANIZATIONAL_UNIT")["Children"])
out["parentOfMember"] = org.list_parents(ChildId=member)["Parents"][0]
out["ousUnderRoot"] = sorted(u["Name"] for u in org.list_organizational_units_for_parent(ParentId=rid)["OrganizationalUnits"])
out["describeAccount"] = org.describe_account(AccountId=member)["Account"]["Email"]
refused("describeMissingAccount", lambda: org.describe_account(AccountId="999999999999"))
refused("badNextToken", lambda: org.list_accounts(NextToken="bogus"))
refused("badAccountIdPattern", lambda: org.describe_account(AccountId="12345"))

deny = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "iam:ListRoles", "Resource": "*"}]}
)
scp = org.create_policy(Name="no-list-roles", Description="deny", Type="SERVICE_CONTROL_POLICY", Content=deny)[
    "Policy"
]["PolicySummary"]
out["scpArnPrefix"] = scp["Arn"].split(":policy/")[0]
rcp_doc = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*", "Condition": {"BoolIfExists": {"aws:SecureTransport": "false"}}}
        ],
    }
)
rcp = org.create_policy(Name="tls-only", Description="rcp", Type="RESOURCE_CONTROL_POLICY", Content=rcp_doc)["Policy"][
    "PolicySummary"
]
big = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "iam:ListRoles", "Resource": "*", "Sid": "x" * 5200}]}
)
before = org.list_policies(Filter="SERVICE_CONTROL_POLICY")["Policies"]
refused("oversizePolicy", lambda: org.create_policy(Name="big", Description="", Type="SERVICE_CONTROL_POLICY", Content=big), True)
refused("malformedPolicy", lambda: org.create_policy(Name="bad", Description="", Type="SERVICE_CONTROL_POLICY", Content='{"Version":"2012-10-17","Statement":[{"Effect":"Maybe","Action":"*","Resource":"*"}]}'), True)
refused("oversizeUpdate", lambda: org.update_policy(PolicyId=scp["Id"], Content=big), True)
refused("malformedUpdate", lambda: org.update_policy(PolicyId=scp["Id"], Content='{"Version":"2012-10-17","Statement":"nope"}'), True)
refused("duplicatePolicy", lambda: org.create_policy(Name="no-list-roles", Description="", Type="SERVICE_CONTROL_POLICY", Content=deny))
refused("tagPolicyType", lambda: org.create_policy(Name="t", Description="", Type="TAG_POLICY", Content="{}"))
out["policiesUnchanged"] = before == org.list_policies(Filter="SERVICE_CONTROL_POLICY")["Policies"]

# A session in the member account (through the role CreateAccount made there).
sts = client("sts", admin)
role = f"arn:aws:iam::{member}:role/OrganizationAccountAccessRole"
mcreds = sts.assume_role(RoleArn=role, RoleSessionName="member")["Credentials"]
miam = client("iam", mcreds)
out["memberListRolesBefore"] = len(miam.list_roles()["Roles"]) > 0
org.attach_policy(PolicyId=scp["Id"], TargetId=ou["Id"])
refused("memberListRolesUnderScp", lambda: miam.list_roles())
refused("duplicateAttachment", lambda: org.attach_policy(PolicyId=scp["Id"], TargetId=ou["Id"]), True)
refused("attachMissingTarget", lambda: org.attach_policy(PolicyId=scp["Id"], TargetId="ou-zzzz-zzzzzzzz"))
org.attach_policy(PolicyId=rcp["Id"], TargetId=member)
out["policiesForOu"] = sorted(p["Name"] for p in org.list_policies_for_target(TargetId=ou["Id"], Filter="SERVICE_CONTROL_POLICY")["Policies"])
out["targetsOfScp"] = [t["TargetId"] for t in org.list_targets_for_policy(PolicyId=scp["Id"])["Targets"]]
out["describePolicy"] = json.loads(org.describe_policy(PolicyId=scp["Id"])["Policy"]["Content"])["Statement"][0]["Action"]
org.update_policy(PolicyId=scp["Id"], Description="deny listing roles")
out["updatedDescription"] = org.describe_policy(PolicyId=scp["Id"])["Policy"]["PolicySummary"]["Description"]
refused("updateAwsManaged", lambda: org.update_policy(PolicyId="p-FullAWSAccess", Description="x"))
refused("detachNotAttached", lambda: org.detach_policy(PolicyId=scp["Id"], TargetId=rid), True)
refused("detachRcpFullAccess", lambda: org.detach_policy(PolicyId="p-RCPFullAWSAccess", TargetId=member))
refused("detachLastScp", lambda: org.detach_policy(PolicyId="p-FullAWSAccess", TargetId=member), True)
refused("deletePolicyInUse", lambda: org.delete_policy(PolicyId=scp["Id"]), True)
refused("deleteOuNotEmpty", lambda: org.delete_organizational_unit(OrganizationalUnitId=ou["Id"]), True)

# A member account may describe its organization, nothing else.
morg = client("organizations", mcreds)
out["memberDescribe"] = morg.describe_organization()["Organization"]["Id"]
refused("memberListAccounts", lambda: morg.list_accounts())
refused("memberCreatePolicy", lambda: morg.create_policy(Name="m", Description="", Type="SERVICE_CONTROL_POLICY", Content=deny), True)
refused("memberDetachPolicy", lambda: morg.detach_policy(PolicyId=scp["Id"], TargetId=ou["Id"]), True)
refused("memberDeleteOu", lambda: morg.delete_organizational_unit(OrganizationalUnitId=ou2["Id"]), True)

for rid_, kind in [(member, "account"), (ou["Id"], "ou"), (scp["Id"], "policy"), (rid, "root")]:
    org.tag_resource(ResourceId=rid_, Tags=[{"Key": "env", "Value": kind}])
out["ouTags"] = sorted((t["Key"], t["Value"]) for t in org.list_tags_for_resource(ResourceId=ou["Id"])["Tags"])
org.untag_resource(ResourceId=ou["Id"], TagKeys=["team"])
out["ouTagsAfterUntag"] = [t["Key"] for t in org.list_tags_for_resource(ResourceId=ou["Id"])["Tags"]]
refused("systemTag", lambda: org.tag_resource(ResourceId=member, Tags=[{"Key": "aws:x", "Value": "y"}]))

org.enable_aws_service_access(ServicePrincipal="sso.amazonaws.com")
out["serviceAccess"] = [s["ServicePrincipal"] for s in org.list_aws_service_access_for_organization()["EnabledServicePrincipals"]]
org.register_delegated_administrator(AccountId=b, ServicePrincipal="sso.amazonaws.com")
out["delegated"] = [d["Id"] for d in org.list_delegated_administrators()["DelegatedAdministrators"]]
refused("registerTwice", lambda: org.register_delegated_administrator(AccountId=b, ServicePrincipal="sso.amazonaws.com"))
refused("registerManagement", lambda: org.register_delegated_administrator(AccountId=o["MasterAccountId"], ServicePrincipal="sso.amazonaws.com"))
org.deregister_delegated_administrator(AccountId=b, ServicePrincipal="sso.amazonaws.com")
org.disable_aws_service_access(ServicePrincipal="sso.amazonaws.com")

# Take it all down.
org.detach_policy(PolicyId=scp["Id"], TargetId=ou["Id"])
out["memberListRolesAfterDetach"] = len(miam.list_roles()["Roles"]) > 0
org.detach_policy(PolicyId=rcp["Id"], TargetId=member)
org.delete_policy(PolicyId=scp["Id"])
org.delete_policy(PolicyId=rcp["Id"])
org.move_account(AccountId=member, SourceParentId=ou["Id"], DestinationParentId=rid)
org.delete_organizational_unit(OrganizationalUnitId=ou["Id"])
org.delete_organizational_unit(OrganizationalUnitId=ou2["Id"])
refused("deleteOrgNotEmpty", lambda: org.delete_organization())
org.close_account(AccountId=b)
out["closedStatus"] = org.describe_account(AccountId=b)["Account"]["Status"]
refused("closeTwice", lambda: org.close_account(AccountId=b))
refused("closeManagement", lambda: org.close_account(AccountId=o["MasterAccountId"]))
refused("removeManagement", lambda: org.remove_account_from_organization(AccountId=o["MasterAccountId"]))
org.remove_account_from_organization(AccountId=b)
org.remove_account_from_organization(AccountId=member)
org.disable_policy_type(RootId=rid, PolicyType="RESOURCE_CONTROL_POLICY")
refused("disableTwice", lambda: org.disable_policy_type(RootId=rid, PolicyType="RESOURCE_CONTROL_POLICY"))
org.delete_organization()
refused("describeAfterDelete", lambda: org.describe_organization())
out["errors"] = errors
out["unchangedChecked"] = unchanged_checked
out["changedBy"] = changed_by
print(json.dumps(out))
