"""CloudTrail records written by hand from the field shapes of shared/CLOUDTRAIL-FACTS.md
(the AWS documentation examples and real anonymised samples), independent of `mfatrail gen`.

Used by make-rule-fixtures.py (per-rule cases) and make-noisy-account.py (a week of an
ordinary, noisy account). Every value is deterministic: event ids come from a counter.
"""

import datetime as dt
import json
import uuid

PROD = "111122223333"
SANDBOX = "444455556666"

BROWSER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
CLI = "aws-cli/2.22.4 md/awscrt#0.22.0 ua/2.0 os/linux#6.8.0 md/arch#x86_64 lang/python#3.12.6 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/distrib#ubuntu.24 md/prompt#off md/command#sts.get-session-token"
CLI_PLAIN = "aws-cli/2.22.4 md/awscrt#0.22.0 ua/2.0 os/linux#6.8.0 md/arch#x86_64 lang/python#3.12.6"
TERRAFORM = "APN/1.0 HashiCorp/1.0 Terraform/1.9.8 (+https://www.terraform.io) terraform-provider-aws/5.80.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.32.6 ua/2.1 os/linux lang/go#1.23.3 md/GOOS#linux md/GOARCH#amd64 api/iam#1.38.2"
BOTO = "Boto3/1.35.76 md/Botocore#1.35.76 ua/2.0 os/linux#5.10.228-219.884.amzn2.x86_64 md/arch#x86_64 lang/python#3.12.7 md/pyimpl#CPython exec-env/AWS_Lambda_python3.12 cfg/retry-mode#legacy Botocore/1.35.76"

MSG_BAD_CODE = "MultiFactorAuthentication failed with invalid MFA one time pass code. "
MSG_BAD_SERIAL = "MultiFactorAuthentication failed, unable to validate MFA code.  Please verify your MFA serial number is valid and associated with this user."


class Ids:
    """Deterministic event and request ids per file."""

    def __init__(self, seed):
        self.seed = seed
        self.n = 0

    def next(self):
        self.n += 1
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"mfatrail-fixture/{self.seed}/{self.n}"))


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def at(base, minutes=0, seconds=0):
    return base + dt.timedelta(minutes=minutes, seconds=seconds)


def mfa_arn(acct, name):
    return f"arn:aws:iam::{acct}:mfa/{name}"


def user_ident(user, acct=PROD, key="", mfa=None, console=False, start=None):
    """IAMUser identity. key: "" (failed sign-in), AKIA… (long-term), ASIA… (session)."""
    ident = {
        "type": "IAMUser",
        "principalId": "AIDA" + uuid.uuid5(uuid.NAMESPACE_DNS, acct + user).hex[:17].upper(),
        "arn": f"arn:aws:iam::{acct}:user/{user}",
        "accountId": acct,
        "accessKeyId": key,
        "userName": user,
    }
    if mfa is not None:
        ident["sessionContext"] = {
            "sessionIssuer": {},
            "webIdFederationData": {},
            "attributes": {"creationDate": iso(start) if start else "2026-11-20T08:00:00Z", "mfaAuthenticated": mfa},
        }
    if console:
        ident["invokedBy"] = "signin.amazonaws.com"
    return ident


def role_ident(role, session, acct=PROD, mfa="false", issuer_type="Role"):
    return {
        "type": "AssumedRole",
        "principalId": "AROA" + uuid.uuid5(uuid.NAMESPACE_DNS, acct + role).hex[:17].upper() + ":" + session,
        "arn": f"arn:aws:sts::{acct}:assumed-role/{role}/{session}",
        "accountId": acct,
        "accessKeyId": "ASIA" + uuid.uuid5(uuid.NAMESPACE_DNS, role + session).hex[:16].upper(),
        "sessionContext": {
            "sessionIssuer": {
                "type": issuer_type,
                "principalId": "AROA" + uuid.uuid5(uuid.NAMESPACE_DNS, acct + role).hex[:17].upper(),
                "arn": f"arn:aws:iam::{acct}:role/{role}",
                "accountId": acct,
                "userName": role,
            },
            "attributes": {"creationDate": "2026-11-20T08:00:00Z", "mfaAuthenticated": mfa},
        },
    }


def record(ids, t, source, name, ident, acct=PROD, ip="198.51.100.7", agent=CLI_PLAIN, req=None, resp=None,
           add=None, err=None, msg=None, region="us-east-1", event_type="AwsApiCall", read_only=False):
    r = {
        "eventVersion": "1.10",
        "userIdentity": ident,
        "eventTime": iso(t),
        "eventSource": source,
        "eventName": name,
        "awsRegion": region,
        "sourceIPAddress": ip,
        "userAgent": agent,
    }
    if err is not None:
        r["errorCode"] = err
    if msg is not None:
        r["errorMessage"] = msg
    r["requestParameters"] = req
    r["responseElements"] = resp
    if add is not None:
        r["additionalEventData"] = add
    r.update({
        "requestID": ids.next(),
        "eventID": ids.next(),
        "readOnly": read_only,
        "eventType": event_type,
        "managementEvent": True,
        "recipientAccountId": acct,
        "eventCategory": "Management",
    })
    if source == "signin.amazonaws.com":
        r["tlsDetails"] = {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256",
                           "clientProvidedHostHeader": "signin.aws.amazon.com"}
    return r


def console_login(ids, t, user, ok, mfa_used, device=None, acct=PROD, ip="198.51.100.7"):
    """ConsoleLogin (CLOUDTRAIL-FACTS §1): failures carry errorMessage, no errorCode, no arn."""
    ident = user_ident(user, acct, key="" if not ok else "")
    if not ok:
        ident.pop("arn")
    add = {"LoginTo": "https://console.aws.amazon.com/console/home?state=hashArgs%23&isauthcode=true",
           "MobileVersion": "No", "MFAUsed": "Yes" if mfa_used else "No"}
    if device and mfa_used and ok:
        add["MFAIdentifier"] = device
    return record(ids, t, "signin.amazonaws.com", "ConsoleLogin", ident, acct, ip, BROWSER,
                  resp={"ConsoleLogin": "Success" if ok else "Failure"}, add=add,
                  msg=None if ok else "Failed authentication", event_type="AwsConsoleSignIn")


def root_login(ids, t, ok, mfa_used, device=None, acct=PROD):
    ident = {"type": "Root", "principalId": acct, "arn": f"arn:aws:iam::{acct}:root", "accountId": acct,
             "accessKeyId": ""}
    add = {"LoginTo": "https://console.aws.amazon.com/console/home?state=hashArgs%23&isauthcode=true",
           "MobileVersion": "No", "MFAUsed": "YES" if mfa_used else "No"}
    if device:
        add["MFAIdentifier"] = device
    return record(ids, t, "signin.amazonaws.com", "ConsoleLogin", ident, acct, "203.0.113.50", BROWSER,
                  resp={"ConsoleLogin": "Success" if ok else "Failure"}, add=add,
                  msg=None if ok else "Failed authentication", event_type="AwsConsoleSignIn")


def gst(ids, t, user, serial, outcome="ok", acct=PROD, ip="198.51.100.7"):
    """GetSessionToken with the user's long-term key (CLOUDTRAIL-FACTS §3)."""
    ident = user_ident(user, acct, key="AKIA" + uuid.uuid5(uuid.NAMESPACE_DNS, user).hex[:16].upper())
    req = {"durationSeconds": 43200}
    if serial:
        req["serialNumber"] = serial
    if outcome == "ok":
        resp = {"credentials": {"accessKeyId": "ASIA" + uuid.uuid5(uuid.NAMESPACE_DNS, user + iso(t)).hex[:16].upper(),
                                "sessionToken": "IQoJb3JpZ2luX2VjEXAMPLE", "expiration": "Nov 21, 2026, 8:00:00 AM"}}
        return record(ids, t, "sts.amazonaws.com", "GetSessionToken", ident, acct, ip, CLI, req=req, resp=resp)
    msg = {"bad_code": MSG_BAD_CODE, "bad_serial": MSG_BAD_SERIAL}[outcome]
    return record(ids, t, "sts.amazonaws.com", "GetSessionToken", ident, acct, ip, CLI, req=req,
                  err="AccessDenied", msg=msg)


def assume_role(ids, t, user, role_arn, serial=None, outcome="ok", acct=PROD):
    ident = user_ident(user, acct, key="AKIA" + uuid.uuid5(uuid.NAMESPACE_DNS, user).hex[:16].upper())
    req = {"roleArn": role_arn, "roleSessionName": f"botocore-session-{user}", "durationSeconds": 3600}
    if serial:
        req["serialNumber"] = serial
    if outcome == "ok":
        return record(ids, t, "sts.amazonaws.com", "AssumeRole", ident, acct, agent=CLI_PLAIN, req=req,
                      resp={"credentials": {"accessKeyId": "ASIAEXAMPLE", "sessionToken": "x",
                                            "expiration": "Nov 21, 2026, 8:00:00 AM"},
                            "assumedRoleUser": {"assumedRoleId": "AROAEXAMPLE:s", "arn": "arn"}})
    if outcome == "bad_code":
        return record(ids, t, "sts.amazonaws.com", "AssumeRole", ident, acct, agent=CLI_PLAIN, req=req,
                      err="AccessDenied", msg=MSG_BAD_CODE)
    return record(ids, t, "sts.amazonaws.com", "AssumeRole", ident, acct, agent=CLI_PLAIN, req=req,
                  err="AccessDenied",
                  msg=f"User: arn:aws:iam::{acct}:user/{user} is not authorized to perform: sts:AssumeRole on resource: {role_arn}")


DENY_TAIL = {
    "identity": " with an explicit deny in an identity-based policy",
    "untyped": " with an explicit deny",
    "scp": " with an explicit deny in a service control policy",
    "resource": " with an explicit deny in a resource-based policy",
    "boundary": " with an explicit deny in a permissions boundary",
    "implicit": None,
}


def denied(ids, t, ident, source, name, action, resource, policy, acct=PROD, region="us-east-1", agent=CLI_PLAIN):
    """AccessDenied (CLOUDTRAIL-FACTS §6), message naming where the deny came from."""
    who = ident["arn"]
    if policy == "implicit":
        msg = f"User: {who} is not authorized to perform: {action} on resource: {resource} because no identity-based policy allows the {action} action"
    else:
        msg = f"User: {who} is not authorized to perform: {action} on resource: {resource}{DENY_TAIL[policy]}"
    code = "AccessDenied"
    if source == "ec2.amazonaws.com":
        code = "Client.UnauthorizedOperation"
        msg = "You are not authorized to perform this operation. " + msg
    elif source in ("kms.amazonaws.com", "secretsmanager.amazonaws.com", "dynamodb.amazonaws.com", "logs.amazonaws.com"):
        code = "AccessDeniedException"
    return record(ids, t, source, name, ident, acct, agent=agent, region=region, err=code, msg=msg, read_only=True)


def admin_ident(acct=PROD, name="ops-admin"):
    return user_ident(name, acct, key="ASIA" + uuid.uuid5(uuid.NAMESPACE_DNS, acct + name).hex[:16].upper(),
                      mfa="true", console=True)


def iam(ids, t, name, req, resp=None, ident=None, acct=PROD, agent="console.amazonaws.com", err=None, msg=None):
    return record(ids, t, "iam.amazonaws.com", name, ident or admin_ident(acct), acct, "198.51.100.2", agent,
                  req=req, resp=resp, err=err, msg=msg)


def create_virtual(ids, t, name, acct=PROD, ident=None):
    return iam(ids, t, "CreateVirtualMFADevice", {"virtualMFADeviceName": name, "path": "/"},
               {"virtualMFADevice": {"serialNumber": mfa_arn(acct, name)}}, ident=ident, acct=acct)


def enable(ids, t, user, serial, acct=PROD, ident=None):
    return iam(ids, t, "EnableMFADevice", {"userName": user, "serialNumber": serial}, ident=ident, acct=acct)


def deactivate(ids, t, user, serial, acct=PROD, ident=None):
    return iam(ids, t, "DeactivateMFADevice", {"userName": user, "serialNumber": serial}, ident=ident, acct=acct)


def delete_virtual(ids, t, serial, acct=PROD, ident=None):
    return iam(ids, t, "DeleteVirtualMFADevice", {"serialNumber": serial}, ident=ident, acct=acct)


def resync(ids, t, user, serial, acct=PROD, ident=None):
    return iam(ids, t, "ResyncMFADevice", {"userName": user, "serialNumber": serial}, ident=ident, acct=acct)


def create_user(ids, t, user, acct=PROD):
    return iam(ids, t, "CreateUser", {"userName": user},
               {"user": {"path": "/", "userName": user, "userId": "AIDAEXAMPLE", "arn": f"arn:aws:iam::{acct}:user/{user}",
                         "createDate": "Nov 20, 2026, 8:00:00 AM"}}, acct=acct)


def put_user_policy(ids, t, user, name, doc, acct=PROD, agent="console.amazonaws.com", ident=None):
    return iam(ids, t, "PutUserPolicy", {"userName": user, "policyName": name, "policyDocument": doc},
               acct=acct, agent=agent, ident=ident)


def put_group_policy(ids, t, group, name, doc, acct=PROD, agent="console.amazonaws.com", ident=None):
    return iam(ids, t, "PutGroupPolicy", {"groupName": group, "policyName": name, "policyDocument": doc},
               acct=acct, agent=agent, ident=ident)


def add_user_to_group(ids, t, user, group, acct=PROD):
    return iam(ids, t, "AddUserToGroup", {"groupName": group, "userName": user}, acct=acct)


def attach_group_policy(ids, t, group, arn, acct=PROD, agent=TERRAFORM):
    return iam(ids, t, "AttachGroupPolicy", {"groupName": group, "policyArn": arn}, acct=acct, agent=agent)


def detach_group_policy(ids, t, group, arn, acct=PROD, agent=TERRAFORM):
    return iam(ids, t, "DetachGroupPolicy", {"groupName": group, "policyArn": arn}, acct=acct, agent=agent)


def create_policy(ids, t, name, doc, acct=PROD, agent=TERRAFORM):
    arn = f"arn:aws:iam::{acct}:policy/{name}"
    return iam(ids, t, "CreatePolicy", {"policyName": name, "policyDocument": doc},
               {"policy": {"policyName": name, "arn": arn, "defaultVersionId": "v1", "attachmentCount": 0}},
               acct=acct, agent=agent)


def create_policy_version(ids, t, arn, doc, version, acct=PROD, agent=TERRAFORM):
    """CreatePolicyVersion with setAsDefault (CLOUDTRAIL-FACTS §5)."""
    return iam(ids, t, "CreatePolicyVersion", {"policyArn": arn, "policyDocument": doc, "setAsDefault": True},
               {"policyVersion": {"versionId": version, "isDefaultVersion": True,
                                  "createDate": "Nov 20, 2026, 8:00:00 AM"}}, acct=acct, agent=agent)


def long_term_ident(user, acct=PROD):
    """A long-term access key (AKIA…), no session: MFA keys absent (CLOUDTRAIL-FACTS §6)."""
    return user_ident(user, acct, key="AKIA" + uuid.uuid5(uuid.NAMESPACE_DNS, "cli" + user).hex[:16].upper())


def console_session(user, acct=PROD, mfa=False, start=None):
    """A console session of the IAM user (mfaAuthenticated as signed in)."""
    return user_ident(user, acct, key="ASIA" + uuid.uuid5(uuid.NAMESPACE_DNS, "console" + user).hex[:16].upper(),
                      mfa="true" if mfa else "false", console=True, start=start)


def create_role(ids, t, role, trust, acct=PROD):
    return iam(ids, t, "CreateRole", {"roleName": role, "assumeRolePolicyDocument": trust},
               {"role": {"path": "/", "roleName": role, "arn": f"arn:aws:iam::{acct}:role/{role}"}}, acct=acct)


def update_trust(ids, t, role, trust, acct=PROD):
    return iam(ids, t, "UpdateAssumeRolePolicy", {"roleName": role, "policyDocument": trust}, acct=acct)


def idc_step(ids, t, user, name, cred_type, verdict, acct=PROD, new_shape=False):
    """IAM Identity Center sign-in step (CredentialChallenge / CredentialVerification / UserAuthentication)."""
    if new_shape:
        ident = {"type": "IdentityCenterUser", "accountId": acct,
                 "onBehalfOf": {"userId": str(uuid.uuid5(uuid.NAMESPACE_DNS, user)),
                                "identityStoreArn": "arn:aws:identitystore::111122223333:identitystore/d-1234567890"},
                 "credentialId": "EXAMPLEcredential", "userName": user}
    else:
        ident = {"type": "Unknown", "principalId": acct, "arn": "", "accountId": acct, "accessKeyId": "",
                 "userName": user}
    add = {"AuthWorkflowID": str(uuid.uuid5(uuid.NAMESPACE_DNS, user + iso(t)))[:36], "CredentialType": cred_type}
    r = record(ids, t, "signin.amazonaws.com", name, ident, acct, "192.0.2.77", BROWSER, add=add,
               event_type="AwsServiceEvent", msg=None if verdict == "Success" else "Failed authentication")
    r["serviceEventDetails"] = {name: verdict}
    return r


def doc(*statements):
    """A policy document as CloudTrail logs it: a JSON string, whitespace as the caller sent it."""
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)}, indent="\t")


FORCE_MFA = {
    "Sid": "DenyAllExceptListedIfNoMFA", "Effect": "Deny",
    "NotAction": ["iam:CreateVirtualMFADevice", "iam:EnableMFADevice", "iam:GetUser", "iam:ListMFADevices",
                  "iam:ListVirtualMFADevices", "iam:ResyncMFADevice", "sts:GetSessionToken"],
    "Resource": "*", "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}},
}
READ_ONLY = {"Sid": "ReadOnly", "Effect": "Allow", "Action": ["s3:Get*", "s3:List*", "ec2:Describe*"], "Resource": "*"}
MFA_AGE = {"Sid": "DenyStaleMfa", "Effect": "Deny", "Action": "*", "Resource": "*",
           "Condition": {"NumericGreaterThanIfExists": {"aws:MultiFactorAuthAge": "3600"}}}
FORCE_MFA_BOOL = {
    "Sid": "DenyAllExceptListedIfNoMFA", "Effect": "Deny",
    "NotAction": FORCE_MFA["NotAction"],
    "Resource": "*", "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "false"}},
}
DENY_PROD_DELETE = {"Sid": "DenyProdDelete", "Effect": "Deny",
                    "Action": ["ec2:TerminateInstances", "rds:DeleteDBInstance", "s3:DeleteBucket",
                               "dynamodb:DeleteTable"], "Resource": "*"}
DESTRUCTIVE_NEEDS_MFA = {"Sid": "DenyDestructiveWithoutMFA", "Effect": "Deny",
                         "Action": ["ec2:TerminateInstances", "rds:DeleteDBInstance"], "Resource": "*",
                         "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}}
AGE_ONLY = {"Sid": "RecentMfaForIam", "Effect": "Deny", "Action": "iam:*", "Resource": "*",
            "Condition": {"NumericGreaterThan": {"aws:MultiFactorAuthAge": "3600"}}}
TERMINATE_NEEDS_MFA = {"Sid": "TerminateOnlyWithMfa", "Effect": "Deny", "Action": "ec2:TerminateInstances",
                       "Resource": "*", "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}}


def trust(acct=PROD, mfa=False):
    st = {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{acct}:root"}, "Action": "sts:AssumeRole"}
    if mfa:
        st["Condition"] = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
    return json.dumps({"Version": "2012-10-17", "Statement": [st]})
