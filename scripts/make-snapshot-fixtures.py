#!/usr/bin/env python3
"""Writes testdata/snapshot/<case>/: a small CloudTrail file (logs.json) and the IAM snapshot
files an analyst collects next to it, in the shapes of shared/IAM-SNAPSHOT-FACTS.md:
`get-account-authorization-details` (iam-auth.json, as the AWS CLI writes it: documents as
objects, CLI v2 dates), `list-virtual-mfa-devices` (virtual.json) and `list-mfa-devices
--user-name U` (mfa-U.json). In each case the MFA requirement and the devices predate the logs:
the logs alone cannot tell, the snapshot can. Deterministic.
"""

import datetime as dt
import json
import os
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
from cloudtrail_shapes import *  # noqa: E402,F403

ROOT = os.path.join(os.path.dirname(__file__), "..", "testdata", "snapshot")
D0 = dt.datetime(2026, 11, 20, 9, 0, 0)
V2 = "%Y-%m-%dT%H:%M:%S+00:00"  # CLI v2 dates


def m(minutes):
    return at(D0, minutes)


def akia(user):
    return user_ident(user, key="AKIA" + uuid.uuid5(uuid.NAMESPACE_DNS, user).hex[:16].upper())


def user_detail(name, groups, acct=PROD, inline=(), attached=(), created="2024-03-04T10:00:00+00:00"):
    return {
        "Path": "/", "UserName": name, "UserId": "AIDA" + uuid.uuid5(uuid.NAMESPACE_DNS, name).hex[:17].upper(),
        "Arn": f"arn:aws:iam::{acct}:user/{name}", "CreateDate": created, "GroupList": list(groups),
        "AttachedManagedPolicies": [{"PolicyName": a.rsplit("/", 1)[1], "PolicyArn": a} for a in attached],
        "UserPolicyList": [{"PolicyName": n, "PolicyDocument": d} for n, d in inline],
        "Tags": [],
    }


def group_detail(name, acct=PROD, inline=(), attached=()):
    return {
        "Path": "/", "GroupName": name, "GroupId": "AGPA" + uuid.uuid5(uuid.NAMESPACE_DNS, name).hex[:17].upper(),
        "Arn": f"arn:aws:iam::{acct}:group/{name}", "CreateDate": "2023-01-10T08:00:00+00:00",
        "GroupPolicyList": [{"PolicyName": n, "PolicyDocument": d} for n, d in inline],
        "AttachedManagedPolicies": [{"PolicyName": a.rsplit("/", 1)[1], "PolicyArn": a} for a in attached],
    }


def policy_doc(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


def virtual(serial, user=None, acct=PROD, enabled=None):
    d = {"SerialNumber": serial}
    if user:
        d["User"] = {"Path": "/", "UserName": user, "UserId": "AIDA" + uuid.uuid5(uuid.NAMESPACE_DNS, user).hex[:17].upper(),
                     "Arn": f"arn:aws:iam::{acct}:user/{user}", "CreateDate": "2024-03-04T10:00:00+00:00"}
        d["EnableDate"] = enabled
    return d


def mfa_device(user, serial, enabled):
    return {"UserName": user, "SerialNumber": serial, "EnableDate": enabled}


HUMANS = group_detail("Humans", inline=[("RequireMFA", policy_doc(FORCE_MFA))])
BACKGROUND_USERS = [user_detail("erin", ["Humans"])]
ERIN = mfa_arn(PROD, "erin")


def background(ids):
    """A colleague whose MFA works: the account is not silent."""
    return [
        console_login(ids, m(-200), "erin", True, True, ERIN),
        gst(ids, m(-100), "erin", ERIN, "ok"),
        console_login(ids, m(400), "erin", True, True, ERIN),
    ]


CASES = {}


def case(name):
    def wrap(f):
        CASES[name] = f
        return f
    return wrap


@case("requirement_and_no_device_predate_logs")
def _(ids):
    """dave has been in Humans (RequireMFA) for two years and never enabled a device. In 48 h of
    logs only his denied CLI calls show: the logs cannot say whether he has a device."""
    logs = background(ids)
    for k, minutes in enumerate((0, 20, 75, 180)):
        logs.append(denied(ids, m(minutes), akia("dave"), "s3.amazonaws.com", "ListBuckets",
                           "s3:ListAllMyBuckets", "*", "identity"))
    files = {
        "iam-auth.json": {"UserDetailList": [user_detail("dave", ["Humans"])] + BACKGROUND_USERS,
                          "GroupDetailList": [HUMANS], "RoleDetailList": [], "Policies": []},
        "virtual.json": {"VirtualMFADevices": [virtual(ERIN, "erin", enabled="2024-03-05T09:00:00+00:00"),
                                               virtual(mfa_arn(PROD, "abandoned-enrolment"))]},
        "mfa-dave.json": {"MFADevices": []},
    }
    return logs, files


@case("device_predates_logs_must_not_fire")
def _(ids):
    """fay's device was enabled in 2025 and she mistypes codes now and then: the snapshot shows a
    device, so "no device" must not confirm."""
    dev = mfa_arn(PROD, "fay")
    logs = background(ids)
    logs += [gst(ids, m(0), "fay", dev, "bad_code"), gst(ids, m(95), "fay", dev, "bad_code"),
             gst(ids, m(310), "fay", dev, "bad_code")]
    files = {
        "iam-auth.json": {"UserDetailList": [user_detail("fay", ["Humans"])] + BACKGROUND_USERS,
                          "GroupDetailList": [HUMANS]},
        "virtual.json": {"VirtualMFADevices": [virtual(dev, "fay", enabled="2025-06-02T14:11:00+00:00"),
                                               virtual(ERIN, "erin", enabled="2024-03-05T09:00:00+00:00")]},
        "mfa-fay.json": {"MFADevices": [mfa_device("fay", dev, "2025-06-02T14:11:00+00:00")]},
    }
    return logs, files


@case("deleted_device_still_listed")
def _(ids):
    """The logs delete gus's device two hours before his failures; the snapshot, collected
    afterwards, still lists it as assigned: the two disagree, and the report must say so."""
    dev = mfa_arn(PROD, "gus")
    logs = background(ids)
    logs += [deactivate(ids, m(-120), "gus", dev), delete_virtual(ids, m(-119), dev),
             gst(ids, m(0), "gus", dev, "bad_serial"), gst(ids, m(10), "gus", dev, "bad_serial")]
    files = {
        # A Go collector: documents URL-encoded, RFC 3986 (botocore's unquote reads them back).
        "iam-auth.json": {"UserDetailList": [user_detail("gus", ["Humans"])] + BACKGROUND_USERS,
                          "GroupDetailList": [dict(HUMANS, GroupPolicyList=[
                              {"PolicyName": "RequireMFA",
                               "PolicyDocument": urllib.parse.quote(json.dumps(policy_doc(FORCE_MFA), indent=4))}])]},
        "virtual.json": {"VirtualMFADevices": [virtual(dev, "gus", enabled="2024-04-01T10:00:00+00:00")]},
        "mfa-gus.json": {"MFADevices": [mfa_device("gus", dev, "2024-04-01T10:00:00+00:00")]},
    }
    return logs, files


@case("other_account_snapshot")
def _(ids):
    """The snapshot of the sandbox account handed in with the production logs."""
    logs = background(ids)
    for minutes in (0, 30):
        logs.append(denied(ids, m(minutes), akia("dave"), "s3.amazonaws.com", "ListBuckets",
                           "s3:ListAllMyBuckets", "*", "identity"))
    files = {
        "iam-auth.json": {"UserDetailList": [user_detail("dave", ["Humans"], acct=SANDBOX)],
                          "GroupDetailList": [group_detail("Humans", acct=SANDBOX, inline=[("RequireMFA", policy_doc(FORCE_MFA))])]},
        "virtual.json": {"VirtualMFADevices": []},
        "mfa-dave.json": {"MFADevices": []},
    }
    return logs, files


def main():
    for name, f in sorted(CASES.items()):
        ids = Ids(f"snapshot/{name}")
        logs, files = f(ids)
        d = os.path.join(ROOT, name)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "logs.json"), "w") as fh:
            fh.write(json.dumps({"Records": sorted(logs, key=lambda r: r["eventTime"])}, indent=1) + "\n")
        for fname, content in files.items():
            with open(os.path.join(d, fname), "w") as fh:
                fh.write(json.dumps(content, indent=4) + "\n")
    print(f"wrote {len(CASES)} cases under testdata/snapshot/")


if __name__ == "__main__":
    main()
