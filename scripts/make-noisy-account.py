#!/usr/bin/env python3
"""Writes testdata/noisy/: a week of two ordinary, noisy AWS accounts (prod and sandbox) in the
CloudTrail key layout, written by hand from the shapes of shared/CLOUDTRAIL-FACTS.md (see
cloudtrail_shapes.py), independent of `mfatrail gen`. Nothing in it is an MFA incident:

  - people mistyping codes and passwords now and then, and getting in a minute later (console,
    CLI GetSessionToken, FIDO security keys);
  - service control policy region denies and bucket-policy TLS denies (explicit denies that
    are not identity-based), for users and roles;
  - Terraform re-putting the same policies (the MFA-enforcing group policy included) every six
    hours;
  - IAM Identity Center sign-ins (with the odd wrong TOTP code), SSO permission-set sessions,
    CI roles, Lambda roles and service-linked roles hitting denies;
  - CI users on long-term keys with implicit denies; an MFA-age denial of a stale session;
  - a user replacing their phone (old device off, new one on) and carrying on;
  - the same user name (j.smith) in both accounts;
  - failures resolved only 6-40 minutes later (the phone rang), at most one a user every other
    day and none within three hours of another user's;
  - console users with MFA whose long-term-key tools are denied all day by the enforcing
    group policy (enforcement working as intended);
  - contractors without MFA denied destructive actions by a guardrail;
  - a user with a phone app and a FIDO key, signing in with either;
  - Terraform detaching and re-attaching a managed MFA guard seconds apart.

`testdata/noisy/outage/` holds a two-hour outage on top: five prod users fail their codes in the
same two hours and get in again without any change. With both folders read, those five get D5
(account-wide) and nothing else; nobody else gets a cause.

`testdata/noisy/incident/` holds one real incident on top: an admin deletes tom's MFA device by
mistake; tom's CLI keeps sending the old serial and the enforcing policy denies his calls. With
both folders read, tom must get D2 and nobody else any cause (tests/e2e/noisy.rs).

Deterministic (seeded); gzip without timestamps. Run it again and git diff shows nothing.
"""

import datetime as dt
import gzip
import io
import json
import os
import random
import shutil
import sys
import uuid

sys.path.insert(0, os.path.dirname(__file__))
from cloudtrail_shapes import *  # noqa: E402,F403

OUT = os.path.join(os.path.dirname(__file__), "..", "testdata", "noisy")
START = dt.datetime(2026, 11, 16, 0, 0, 0)  # Monday
DAYS = 7
rng = random.Random(20261116)
# The patterns added later draw from their own generator: the older ones stay byte-identical.
rng2 = random.Random(20261206)

PROD_PEOPLE = ["amara", "bruno", "chen", "dana", "elif", "femi", "greta", "hamid", "ines", "jonas", "kira",
               "liam", "maya", "nils", "oona", "priya", "quinn", "rafa", "sofia", "tom", "ugo", "vika",
               "wes", "j.smith"]
FIDO_PEOPLE = {"greta", "nils", "wes"}
CLI_PEOPLE = {"bruno", "chen", "elif", "hamid", "jonas", "liam", "nils", "priya", "rafa", "tom", "vika", "j.smith"}
SANDBOX_PEOPLE = ["j.smith", "lab-ana", "lab-ben", "lab-cai", "lab-dev", "lab-eve"]
IDC_PEOPLE = ["idc.alba", "idc.boris", "idc.clara", "idc.dinh", "idc.emeka"]
CI_USERS = ["ci-builder", "backup-exporter"]


def device(acct, user):
    if user in FIDO_PEOPLE:
        return f"arn:aws:iam::{acct}:u2f/user/{user}/yubikey-{uuid.uuid5(uuid.NAMESPACE_DNS, user).hex[:20].upper()}"
    return mfa_arn(acct, user)


class Writer:
    """Collects records per (account, hour) and writes CloudTrail log files."""

    def __init__(self, root, seed):
        self.root = root
        self.files = {}
        self.ids = Ids(seed)

    def add(self, rec):
        t = dt.datetime.strptime(rec["eventTime"], "%Y-%m-%dT%H:%M:%SZ")
        acct = rec["recipientAccountId"]
        region = rec["awsRegion"]
        # Delivered within ~5-12 minutes after the hour's events, as CloudTrail does.
        slot = t.replace(minute=0, second=0)
        self.files.setdefault((acct, region, slot), []).append(rec)

    def write(self):
        shutil.rmtree(self.root, ignore_errors=True)
        for (acct, region, slot), recs in sorted(self.files.items()):
            recs.sort(key=lambda r: (r["eventTime"], r["eventID"]))
            key_time = slot + dt.timedelta(hours=1, minutes=5 + int(slot.hour) % 7)
            uniq = "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
                           for _ in range(16))
            d = os.path.join(self.root, "AWSLogs", acct, "CloudTrail", region,
                             f"{key_time:%Y}", f"{key_time:%m}", f"{key_time:%d}")
            os.makedirs(d, exist_ok=True)
            name = f"{acct}_CloudTrail_{region}_{key_time:%Y%m%dT%H%MZ}_{uniq}.json.gz"
            body = json.dumps({"Records": recs}, separators=(",", ":")).encode()
            buf = io.BytesIO()
            with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as gz:
                gz.write(body)
            with open(os.path.join(d, name), "wb") as fh:
                fh.write(buf.getvalue())
        return sum(len(v) for v in self.files.values()), len(self.files)


def workday(day):
    return (START + dt.timedelta(days=day)).weekday() < 5


def person_day(w, acct, user, day):
    """One person's day: console sign-ins with MFA (sometimes a typo first), CLI sessions,
    ordinary calls, and the odd SCP region deny."""
    ids = w.ids
    dev = device(acct, user)
    base = START + dt.timedelta(days=day, hours=8 + rng.random() * 2)
    logins = rng.randint(1, 3) if workday(day) else rng.choice([0, 0, 1])
    for k in range(logins):
        t = base + dt.timedelta(hours=k * 3 + rng.random())
        if rng.random() < 0.15:
            # A mistyped code or password, fixed within a minute.
            w.add(console_login(ids, t - dt.timedelta(seconds=rng.randint(20, 50)), user, False, True, acct=acct))
            if rng.random() < 0.2:
                w.add(console_login(ids, t - dt.timedelta(seconds=rng.randint(55, 80)), user, False, True, acct=acct))
        w.add(console_login(ids, t, user, True, True, dev, acct=acct))
        s = user_ident(user, acct, key="ASIA" + ids.next().replace("-", "")[:16].upper(), mfa="true",
                       console=False, start=t)
        for j in range(rng.randint(2, 6)):
            tc = t + dt.timedelta(minutes=rng.randint(1, 150))
            src, name, action = rng.choice([
                ("s3.amazonaws.com", "ListBuckets", "s3:ListAllMyBuckets"),
                ("ec2.amazonaws.com", "DescribeInstances", "ec2:DescribeInstances"),
                ("cloudformation.amazonaws.com", "DescribeStacks", "cloudformation:DescribeStacks"),
                ("logs.amazonaws.com", "DescribeLogGroups", "logs:DescribeLogGroups"),
            ])
            w.add(record(ids, tc, src, name, s, acct, agent=BROWSER, read_only=True))
        if rng.random() < 0.3:
            # The account's SCP only allows two regions.
            tc = t + dt.timedelta(minutes=rng.randint(5, 90))
            w.add(denied(ids, tc, s, "ec2.amazonaws.com", "DescribeInstances", "ec2:DescribeInstances", "*", "scp",
                         acct, region="ap-southeast-2", agent=BROWSER))
    if user in CLI_PEOPLE and workday(day) and user not in FIDO_PEOPLE:
        t = base + dt.timedelta(hours=1 + rng.random() * 5)
        if rng.random() < 0.12:
            w.add(gst(ids, t - dt.timedelta(seconds=rng.randint(25, 70)), user, dev, "bad_code", acct))
        w.add(gst(ids, t, user, dev, "ok", acct))


def people(w):
    for day in range(DAYS):
        for u in PROD_PEOPLE:
            if u == "oona" and day >= 2:
                continue  # on leave
            person_day(w, PROD, u, day)
        for u in SANDBOX_PEOPLE:
            person_day(w, SANDBOX, u, day)


def phone_swap(w):
    """dana replaces her phone on Wednesday: old device off, new one on, by herself, with MFA."""
    ids = w.ids
    t = START + dt.timedelta(days=2, hours=13, minutes=12)
    me = user_ident("dana", PROD, key="ASIADANACONSOLE00001", mfa="true", console=True, start=t)
    old, new = mfa_arn(PROD, "dana"), mfa_arn(PROD, "dana-phone-2026")
    w.add(deactivate(ids, t, "dana", old, ident=me))
    w.add(delete_virtual(ids, t + dt.timedelta(seconds=40), old, ident=me))
    w.add(create_virtual(ids, t + dt.timedelta(minutes=1), "dana-phone-2026", ident=me))
    w.add(enable(ids, t + dt.timedelta(minutes=2), "dana", new, ident=me))
    # From now on she signs in with the new device (a typo on the first try, of course).
    t2 = t + dt.timedelta(minutes=30)
    w.add(console_login(ids, t2, "dana", False, True))
    w.add(console_login(ids, t2 + dt.timedelta(seconds=35), "dana", True, True, new))
    for day in range(3, DAYS):
        t = START + dt.timedelta(days=day, hours=9, minutes=rng.randint(0, 50))
        w.add(console_login(ids, t, "dana", True, True, new))


def terraform(w):
    ids = w.ids
    tf = user_ident("terraform-ci", PROD, key="AKIATERRAFORMCI00001")
    for k in range(DAYS * 4):
        t = START + dt.timedelta(hours=6 * k, minutes=17, seconds=k % 50)
        w.add(put_group_policy(ids, t, "Humans", "RequireMFA", doc(FORCE_MFA), agent=TERRAFORM, ident=tf))
        w.add(put_user_policy(ids, t + dt.timedelta(seconds=5), "ci-builder", "Build",
                              doc(READ_ONLY), agent=TERRAFORM, ident=tf))
        w.add(put_user_policy(ids, t + dt.timedelta(seconds=7), "backup-exporter", "Export",
                              doc(READ_ONLY), agent=TERRAFORM, ident=tf))


def machines(w):
    """CI users on long-term keys; roles of every kind hitting denies."""
    ids = w.ids
    for day in range(DAYS):
        for h in range(0, 24, 2):
            t = START + dt.timedelta(days=day, hours=h, minutes=rng.randint(0, 59))
            ci = user_ident("ci-builder", PROD, key="AKIACIBUILDER0000001")
            w.add(record(ids, t, "s3.amazonaws.com", "PutObject", ci, PROD, agent=BOTO))
            if rng.random() < 0.3:
                w.add(denied(ids, t + dt.timedelta(seconds=3), ci, "ecr.amazonaws.com", "GetAuthorizationToken",
                             "ecr:GetAuthorizationToken", "*", "implicit", agent=BOTO))
            bk = user_ident("backup-exporter", PROD, key="AKIABACKUPEXPORTER01")
            if rng.random() < 0.4:
                # The bucket policy denies requests without TLS.
                w.add(denied(ids, t, bk, "s3.amazonaws.com", "GetObject", "s3:GetObject",
                             "arn:aws:s3:::prod-exports/daily.csv", "resource", agent=BOTO))
            gh = role_ident("GitHubActionsDeploy", f"GitHubActions-{rng.randint(10**8, 10**9)}", PROD,
                            issuer_type="Role")
            w.add(record(ids, t, "cloudformation.amazonaws.com", "DescribeStacks", gh, PROD, agent=BOTO))
            if rng.random() < 0.5:
                w.add(denied(ids, t + dt.timedelta(seconds=20), gh, "ec2.amazonaws.com", "RunInstances",
                             "ec2:RunInstances", "*", "scp", region="ap-southeast-2", agent=BOTO))
            lam = role_ident("lambda-exec-orders", "orders-handler", PROD)
            if rng.random() < 0.5:
                w.add(denied(ids, t + dt.timedelta(seconds=40), lam, "dynamodb.amazonaws.com", "PutItem",
                             "dynamodb:PutItem", "arn:aws:dynamodb:us-east-1:111122223333:table/orders", "identity",
                             agent=BOTO))
            cfg = role_ident("AWSServiceRoleForConfig", "AWSConfig-Describe", PROD, issuer_type="Role")
            if rng.random() < 0.4:
                w.add(denied(ids, t + dt.timedelta(seconds=50), cfg, "ec2.amazonaws.com", "DescribeInstances",
                             "ec2:DescribeInstances", "*", "scp", region="ap-southeast-2", agent="config.amazonaws.com"))


def sso(w):
    """Identity Center users sign in (sometimes a wrong TOTP first) and work in SSO roles."""
    ids = w.ids
    for day in range(DAYS):
        if not workday(day):
            continue
        for u in IDC_PEOPLE:
            t = START + dt.timedelta(days=day, hours=8, minutes=rng.randint(0, 90))
            w.add(idc_step(ids, t, u, "CredentialChallenge", "PASSWORD", "Success"))
            w.add(idc_step(ids, t + dt.timedelta(seconds=4), u, "CredentialVerification", "PASSWORD", "Success"))
            w.add(idc_step(ids, t + dt.timedelta(seconds=5), u, "CredentialChallenge", "TOTP", "Success"))
            if rng.random() < 0.2:
                w.add(idc_step(ids, t + dt.timedelta(seconds=15), u, "CredentialVerification", "TOTP", "Failure"))
            w.add(idc_step(ids, t + dt.timedelta(seconds=30), u, "CredentialVerification", "TOTP", "Success"))
            w.add(idc_step(ids, t + dt.timedelta(seconds=31), u, "UserAuthentication", "TOTP", "Success",
                           new_shape=True))
            role = rng.choice(["AWSReservedSSO_AdministratorAccess_4f1e2d3c4b5a6978",
                               "AWSReservedSSO_ReadOnlyAccess_9a8b7c6d5e4f3a2b"])
            s = role_ident(role, f"{u}@example.com", PROD, mfa="true")
            lg = record(ids, t + dt.timedelta(minutes=1), "signin.amazonaws.com", "ConsoleLogin", s, PROD,
                        agent=BROWSER, resp={"ConsoleLogin": "Success"},
                        add={"LoginTo": "https://console.aws.amazon.com/", "MobileVersion": "No", "MFAUsed": "No"},
                        event_type="AwsConsoleSignIn")
            w.add(lg)
            for j in range(rng.randint(1, 4)):
                tc = t + dt.timedelta(minutes=rng.randint(2, 200))
                policy = rng.choice(["scp", "identity", "implicit"])
                w.add(denied(ids, tc, s, "iam.amazonaws.com", "CreateUser", "iam:CreateUser", "*", policy,
                             agent=BROWSER))


def stale_session(w):
    """maya's long session is refused by an MFA-age condition (a policy older than the data)."""
    ids = w.ids
    t = START + dt.timedelta(days=3, hours=19, minutes=3)
    s = user_ident("maya", PROD, key="ASIAMAYALONGSESSION1", mfa="true", console=False, start=t - dt.timedelta(hours=10))
    w.add(denied(ids, t, s, "secretsmanager.amazonaws.com", "GetSecretValue", "secretsmanager:GetSecretValue",
                 "arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/db", "identity"))


def incident(w):
    """Thursday 14:05: an admin deactivates and deletes tom's device by mistake (meaning tim's)."""
    ids = w.ids
    t = START + dt.timedelta(days=3, hours=14, minutes=5)
    dev = mfa_arn(PROD, "tom")
    w.add(deactivate(ids, t, "tom", dev))
    w.add(delete_virtual(ids, t + dt.timedelta(seconds=30), dev))
    # tom's CLI still sends the old serial; his console now signs in without MFA and the
    # enforcing group policy denies him.
    for k in range(6):
        tc = t + dt.timedelta(minutes=35 + k * 17)
        w.add(gst(ids, tc, "tom", dev, "bad_serial"))
    tl = t + dt.timedelta(minutes=50)
    w.add(console_login(ids, tl, "tom", True, False))
    s = user_ident("tom", PROD, key="ASIATOMNOMFACONSOLE1", mfa="false", console=True, start=tl)
    for k, (src, name, action) in enumerate([
        ("s3.amazonaws.com", "ListBuckets", "s3:ListAllMyBuckets"),
        ("ec2.amazonaws.com", "DescribeInstances", "ec2:DescribeInstances"),
        ("cloudformation.amazonaws.com", "DescribeStacks", "cloudformation:DescribeStacks"),
        ("s3.amazonaws.com", "ListBuckets", "s3:ListAllMyBuckets"),
    ]):
        w.add(denied(ids, tl + dt.timedelta(minutes=2 + k * 9), s, src, name, action, "*", "identity",
                     agent=BROWSER))


def distracted(w):
    """A code fails and the user gets in 6-40 minutes later (a meeting, the phone rang): a real
    failure, not typing. At most one user every three hours, each at most every other day."""
    ids = w.ids
    slots = [("bruno", 0, 10), ("elif", 1, 14), ("kira", 2, 11), ("rafa", 3, 15), ("ugo", 4, 9),
             ("bruno", 2, 16), ("liam", 0, 15), ("sofia", 3, 10)]
    for u, day, hour in slots:
        t = START + dt.timedelta(days=day, hours=hour, minutes=rng2.randint(5, 50))
        w.add(console_login(ids, t, u, False, True))
        w.add(console_login(ids, t + dt.timedelta(minutes=rng2.randint(6, 40)), u, True, True, device(PROD, u)))


def enforcement(w):
    """chen and priya sign in with MFA, but their long-term-key tools (the ECR credential
    helper, an IDE toolkit) are denied all day by the Humans RequireMFA policy (BoolIfExists)."""
    ids = w.ids
    for u in ("chen", "priya"):
        key = user_ident(u, PROD, key="AKIA" + uuid.uuid5(uuid.NAMESPACE_DNS, "tool" + u).hex[:16].upper())
        for day in range(DAYS):
            if not workday(day):
                continue
            for k in range(rng2.randint(2, 6)):
                t = START + dt.timedelta(days=day, hours=9 + k * 1.5, minutes=rng2.randint(0, 40))
                src, name, action = rng2.choice([
                    ("ecr.amazonaws.com", "GetAuthorizationToken", "ecr:GetAuthorizationToken"),
                    ("sts.amazonaws.com", "GetCallerIdentity", "sts:GetCallerIdentity"),
                    ("s3.amazonaws.com", "ListBuckets", "s3:ListAllMyBuckets"),
                ])
                w.add(denied(ids, t, key, src, name, action, "*", "identity", agent=CLI_PLAIN))


def guardrail(w):
    """Sandbox contractors without MFA sign in and are denied prod-style deletes by a guardrail."""
    ids = w.ids
    for u in ("ctr-ivo", "ctr-jan"):
        for day in range(DAYS):
            if not workday(day):
                continue
            t = START + dt.timedelta(days=day, hours=10, minutes=rng2.randint(0, 50))
            w.add(console_login(ids, t, u, True, False, acct=SANDBOX))
            s = user_ident(u, SANDBOX, key="ASIA" + ids.next().replace("-", "")[:16].upper(), mfa="false",
                           console=True, start=t)
            if rng2.random() < 0.5:
                src, name, action = rng2.choice([
                    ("ec2.amazonaws.com", "TerminateInstances", "ec2:TerminateInstances"),
                    ("rds.amazonaws.com", "DeleteDBInstance", "rds:DeleteDBInstance"),
                ])
                w.add(denied(ids, t + dt.timedelta(minutes=rng2.randint(5, 90)), s, src, name, action, "*",
                             "identity", acct=SANDBOX, agent=BROWSER))


def two_devices(w):
    """amara has a phone app and a FIDO key and signs in with either."""
    ids = w.ids
    phone = mfa_arn(PROD, "amara-phone")
    key = f"arn:aws:iam::{PROD}:u2f/user/amara/yubikey-{uuid.uuid5(uuid.NAMESPACE_DNS, 'amara-key').hex[:20].upper()}"
    for day in range(DAYS):
        t = START + dt.timedelta(days=day, hours=7, minutes=rng2.randint(0, 30))
        w.add(console_login(ids, t, "amara", True, True, phone if day % 2 else key))


def attach_churn(w):
    """Terraform replaces the ops-mfa-guard attachment (a moved resource): detach, attach."""
    ids = w.ids
    arn = f"arn:aws:iam::{PROD}:policy/ops-mfa-guard"
    tf = user_ident("terraform-ci", PROD, key="AKIATERRAFORMCI00001")
    for day in (1, 4):
        t = START + dt.timedelta(days=day, hours=11, minutes=2)
        w.add(iam(ids, t, "DetachGroupPolicy", {"groupName": "ops", "policyArn": arn}, ident=tf, agent=TERRAFORM))
        w.add(iam(ids, t + dt.timedelta(seconds=9), "AttachGroupPolicy", {"groupName": "ops", "policyArn": arn},
                  ident=tf, agent=TERRAFORM))


def outage(w):
    """Tuesday 10:10-12:00: five prod users fail their codes (console and CLI) again and again,
    then get in without any change on their side: the MFA service, not their devices."""
    ids = w.ids
    start = START + dt.timedelta(days=1, hours=10, minutes=10)
    for k, u in enumerate(("femi", "hamid", "ines", "jonas", "wes")):
        for j in range(4):
            t = start + dt.timedelta(minutes=k * 4 + j * 26)
            if u in CLI_PEOPLE and u not in FIDO_PEOPLE:
                w.add(gst(ids, t, u, device(PROD, u), "bad_code"))
            else:
                w.add(console_login(ids, t, u, False, True))
        w.add(console_login(ids, start + dt.timedelta(minutes=115 + k), u, True, True, device(PROD, u)))


def main():
    w = Writer(os.path.join(OUT, "account"), "noisy")
    people(w)
    phone_swap(w)
    terraform(w)
    machines(w)
    sso(w)
    stale_session(w)
    distracted(w)
    enforcement(w)
    guardrail(w)
    two_devices(w)
    attach_churn(w)
    n, files = w.write()
    o = Writer(os.path.join(OUT, "outage"), "outage")
    outage(o)
    o.write()
    i = Writer(os.path.join(OUT, "incident"), "incident")
    incident(i)
    m, ifiles = i.write()
    print(f"wrote {n} records in {files} files (account) and {m} records in {ifiles} files (incident)")


if __name__ == "__main__":
    main()
