#!/usr/bin/env python3
"""Writes testdata/rules/<rule>/<case>.json: small hand-written CloudTrail files, one situation
each, for the per-rule tests (tests/e2e/rules.rs). Each case says in its name what must or
must not confirm; the shapes come from shared/CLOUDTRAIL-FACTS.md (see cloudtrail_shapes.py),
not from `mfatrail gen`. Deterministic: run it again and git diff shows nothing.
"""

import datetime as dt
import gzip
import io
import json
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(__file__))
import uuid  # noqa: E402

from cloudtrail_shapes import *  # noqa: E402,F403

ROOT = os.path.join(os.path.dirname(__file__), "..", "testdata", "rules")
D0 = dt.datetime(2026, 11, 20, 9, 0, 0)  # a Friday morning
CASES = {}
# Cases written as an archive in the CloudTrail key layout (a folder), not as one file: the raw
# read then prunes by key time and reads newest days first, as it does on a real bucket.
LAYOUT = set()


def case(rule, name, layout=False):
    def wrap(f):
        CASES[(rule, name)] = f
        if layout:
            LAYOUT.add((rule, name))
        return f
    return wrap


def twice(records):
    """Every record delivered twice (a second trail writing the same bucket): same eventID."""
    return [dict(r) for r in records for _ in range(2)]


def write_layout(root, records):
    """Writes `records` as CloudTrail delivers them: per account and region, one gzip file per
    5-minute slot, keyed at the slot's end plus a few minutes (every event is older than its
    file's key time)."""
    shutil.rmtree(root, ignore_errors=True)
    files = {}
    for r in records:
        t = dt.datetime.strptime(r["eventTime"], "%Y-%m-%dT%H:%M:%SZ")
        slot = t.replace(minute=t.minute - t.minute % 5, second=0)
        files.setdefault((r["recipientAccountId"], r["awsRegion"], slot), []).append(r)
    for n, ((acct, region, slot), recs) in enumerate(sorted(files.items())):
        key = slot + dt.timedelta(minutes=5 + 3)
        d = os.path.join(root, "AWSLogs", acct, "CloudTrail", region, f"{key:%Y}", f"{key:%m}", f"{key:%d}")
        os.makedirs(d, exist_ok=True)
        uniq = uuid.uuid5(uuid.NAMESPACE_URL, f"{root}/{n}").hex[:16]
        name = f"{acct}_CloudTrail_{region}_{key:%Y%m%dT%H%MZ}_{uniq}.json.gz"
        buf = io.BytesIO()
        with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as gz:
            gz.write(json.dumps({"Records": recs}, separators=(",", ":")).encode())
        with open(os.path.join(d, name), "wb") as fh:
            fh.write(buf.getvalue())


def m(minutes, seconds=0):
    return at(D0, minutes, seconds)


# ---------------------------------------------------------------- D1
@case("d1", "denials_of_stale_mfa_sessions_only")
def _(ids):
    """The first wave crashed here: the only signals are explicit denies WITH MFA under a known
    MultiFactorAuthAge limit; no STS or console failure at all."""
    u = "nina"
    s = user_ident(u, key="ASIAQNINASESSION0001", mfa="true", console=True, start=m(-300))
    return [
        create_user(ids, m(-2000), u),
        put_user_policy(ids, m(-1990), u, "MfaFreshness", doc(MFA_AGE, READ_ONLY)),
        denied(ids, m(0), s, "s3.amazonaws.com", "ListBuckets", "s3:ListAllMyBuckets", "*", "identity"),
        denied(ids, m(7), s, "ec2.amazonaws.com", "DescribeInstances", "ec2:DescribeInstances", "*", "identity"),
        denied(ids, m(15), s, "s3.amazonaws.com", "ListBuckets", "s3:ListAllMyBuckets", "*", "identity"),
    ]


@case("d1", "typing_only")
def _(ids):
    """Mistyped codes through the day, each fixed within a minute: no incident."""
    u, dev = "omar", mfa_arn(PROD, "omar")
    out = [create_virtual(ids, m(-5000), u), enable(ids, m(-4999), u, dev)]
    for h in (0, 150, 320, 480):
        out += [console_login(ids, m(h), u, False, True), console_login(ids, m(h + 1), u, True, True, dev)]
    out += [gst(ids, m(200), u, dev, "bad_code"), gst(ids, m(200.5), u, dev, "ok")]
    return out


# ---------------------------------------------------------------- D2
@case("d2", "deleted_then_cli_fails_confirm")
def _(ids):
    u, dev = "alice", mfa_arn(PROD, "alice")
    return [
        create_virtual(ids, m(-3000), u), enable(ids, m(-2999), u, dev),
        gst(ids, m(-600), u, dev, "ok"),
        deactivate(ids, m(-60), u, dev), delete_virtual(ids, m(-59), dev),
        gst(ids, m(0), u, dev, "bad_serial"), gst(ids, m(5), u, dev, "bad_serial"),
        gst(ids, m(45), u, dev, "bad_serial"),
    ]


@case("d2", "device_replaced_must_not_fire")
def _(ids):
    """The user swaps phones: old device off, new one on within minutes; later a typo on the new one."""
    u, old, new = "ben", mfa_arn(PROD, "ben"), mfa_arn(PROD, "ben-pixel9")
    ident = user_ident(u, key="ASIABENCONSOLE000001", mfa="true", console=True)
    return [
        create_virtual(ids, m(-3000), u), enable(ids, m(-2999), u, old),
        deactivate(ids, m(-120), u, old, ident=ident), delete_virtual(ids, m(-119), old, ident=ident),
        create_virtual(ids, m(-118), "ben-pixel9", ident=ident), enable(ids, m(-117), u, new, ident=ident),
        console_login(ids, m(0), u, False, True), console_login(ids, m(1), u, True, True, new),
        gst(ids, m(60), u, new, "bad_code"), gst(ids, m(61), u, new, "ok"),
    ]


@case("d2", "same_name_other_account_must_not_fire")
def _(ids):
    """j.smith in the sandbox account loses a device; j.smith in prod is denied. Two users."""
    u = "j.smith"
    sdev = mfa_arn(SANDBOX, u)
    prod = user_ident(u, PROD, key="ASIAJSMITHPROD000001", mfa="false", console=True)
    return [
        create_virtual(ids, m(-3000), u, acct=SANDBOX), enable(ids, m(-2999), u, sdev, acct=SANDBOX),
        deactivate(ids, m(-30), u, sdev, acct=SANDBOX), delete_virtual(ids, m(-29), sdev, acct=SANDBOX),
        console_login(ids, m(-5), u, True, False, acct=PROD),
        denied(ids, m(0), prod, "s3.amazonaws.com", "ListBuckets", "s3:ListAllMyBuckets", "*", "identity"),
        denied(ids, m(3), prod, "ec2.amazonaws.com", "DescribeInstances", "ec2:DescribeInstances", "*", "identity"),
    ]


# ---------------------------------------------------------------- D3
@case("d3", "new_user_never_enabled_confirm")
def _(ids):
    u = "carla"
    s = user_ident(u, key="ASIACARLACONSOLE0001", mfa="false", console=True)
    return [
        create_user(ids, m(-90), u), add_user_to_group(ids, m(-89), u, "Engineers"),
        console_login(ids, m(-10), u, True, False),
        denied(ids, m(0), s, "s3.amazonaws.com", "ListBuckets", "s3:ListAllMyBuckets", "*", "identity"),
        denied(ids, m(4), s, "lambda.amazonaws.com", "ListFunctions20150331", "lambda:ListFunctions", "*", "identity"),
    ]


@case("d3", "device_enabled_days_before_must_not_fire")
def _(ids):
    """The device was enabled four days earlier: outside any 48 h window, but active at T0."""
    u, dev = "dmitri", mfa_arn(PROD, "dmitri")
    return [
        create_virtual(ids, m(-6000), u), enable(ids, m(-5999), u, dev),
        gst(ids, m(0), u, dev, "bad_code"), gst(ids, m(10), u, dev, "bad_code"),
        gst(ids, m(25), u, dev, "bad_code"),
    ]


@case("d3", "unknown_serial_must_not_fire")
def _(ids):
    """A CLI profile names a serial the data never shows: misconfiguration, not a missing device."""
    u = "edith"
    return [gst(ids, m(0), u, mfa_arn(PROD, "edith-old-phone"), "bad_serial"),
            gst(ids, m(20), u, mfa_arn(PROD, "edith-old-phone"), "bad_serial")]


# ---------------------------------------------------------------- D4
@case("d4", "resync_and_success_between_confirm")
def _(ids):
    u, dev = "fatima", mfa_arn(PROD, "fatima")
    return [
        create_virtual(ids, m(-3000), u), enable(ids, m(-2999), u, dev),
        gst(ids, m(0), u, dev, "bad_code"), gst(ids, m(12), u, dev, "bad_code"),
        gst(ids, m(30), u, dev, "ok"),
        gst(ids, m(45), u, dev, "bad_code"), gst(ids, m(58), u, dev, "bad_code"),
        resync(ids, m(70), u, dev, ident=user_ident(u, key="ASIAFATIMACONSOLE001", mfa="true", console=True)),
        gst(ids, m(75), u, dev, "ok"),
    ]


@case("d4", "invalid_codes_confirm")
def _(ids):
    """Three invalid codes in a row on a device active at T0: STS's "invalid MFA one time pass code"
    is a drift sign (DESIGN §6 D4), so drift is confirmed even without a resync or a success."""
    u, dev = "hugo", mfa_arn(PROD, "hugo")
    return [
        create_virtual(ids, m(-3000), u), enable(ids, m(-2999), u, dev),
        gst(ids, m(0), u, dev, "bad_code"), gst(ids, m(9), u, dev, "bad_code"), gst(ids, m(20), u, dev, "bad_code"),
    ]


# ---------------------------------------------------------------- D5
@case("d5", "outage_four_users_confirm")
def _(ids):
    out = []
    for k, u in enumerate(["ivan", "jade", "kofi", "lena"]):
        dev = mfa_arn(PROD, u)
        out += [create_virtual(ids, m(-4000 + k), u), enable(ids, m(-3990 + k), u, dev),
                console_login(ids, m(-300 + k), u, True, True, dev)]
        for j in range(3):
            out.append(gst(ids, m(k * 2 + j * 6), u, dev, "bad_code"))
    return out


@case("d5", "typos_in_the_same_hour_must_not_fire")
def _(ids):
    """The user fails for real; five colleagues mistype once in the same hour and get in."""
    u, dev = "mia", mfa_arn(PROD, "mia")
    out = [create_virtual(ids, m(-4000), u), enable(ids, m(-3999), u, dev),
           gst(ids, m(0), u, dev, "bad_code"), gst(ids, m(8), u, dev, "bad_code"), gst(ids, m(30), u, dev, "bad_code")]
    for k, c in enumerate(["noah", "olga", "pablo", "qing", "rosa"]):
        cdev = mfa_arn(PROD, c)
        out += [console_login(ids, m(3 + k * 9), c, False, True), console_login(ids, m(3.5 + k * 9), c, True, True, cdev)]
    return out


# ---------------------------------------------------------------- D6
@case("d6", "group_policy_gains_mfa_confirm")
def _(ids):
    u = "sam"
    s = user_ident(u, key="AKIASAMLONGTERMKEY01")
    return [
        put_group_policy(ids, m(-3000), "Analysts", "Baseline", doc(READ_ONLY)),
        add_user_to_group(ids, m(-2900), u, "Analysts"),
        put_group_policy(ids, m(-40), "Analysts", "Baseline", doc(READ_ONLY, FORCE_MFA)),
        denied(ids, m(0), s, "s3.amazonaws.com", "ListBuckets", "s3:ListAllMyBuckets", "*", "identity"),
        denied(ids, m(12), s, "ec2.amazonaws.com", "DescribeInstances", "ec2:DescribeInstances", "*", "identity"),
    ]


@case("d6", "terraform_reputs_must_not_fire")
def _(ids):
    """Terraform re-puts the same MFA policy every six hours; the user's denials are not news."""
    u = "tara"
    s = user_ident(u, key="AKIATARALONGTERMKEY1")
    tf = user_ident("terraform-ci", key="AKIATERRAFORMCI00001")
    out = [put_user_policy(ids, m(-2880 + k * 360), u, "RequireMFA", doc(FORCE_MFA), agent=TERRAFORM, ident=tf)
           for k in range(9)]
    out += [denied(ids, m(0), s, "s3.amazonaws.com", "ListBuckets", "s3:ListAllMyBuckets", "*", "identity"),
            denied(ids, m(20), s, "s3.amazonaws.com", "ListBuckets", "s3:ListAllMyBuckets", "*", "identity")]
    return out


@case("d6", "previous_version_unknown_must_not_fire")
def _(ids):
    """One put of an MFA policy, its previous version not in the data: inconclusive, said so."""
    u = "umar"
    s = user_ident(u, key="AKIAUMARLONGTERMKEY1")
    return [
        put_user_policy(ids, m(-200), u, "Security", doc(FORCE_MFA)),
        denied(ids, m(0), s, "s3.amazonaws.com", "ListBuckets", "s3:ListAllMyBuckets", "*", "identity"),
    ]


@case("d6", "ec2_only_condition_must_not_fire")
def _(ids):
    """A new MFA condition on ec2:TerminateInstances, then wrong codes at GetSessionToken: a
    policy change causes denials for the actions it covers, not failed codes."""
    u, dev = "vera", mfa_arn(PROD, "vera")
    return [
        create_user(ids, m(-3000), u), create_virtual(ids, m(-2990), u), enable(ids, m(-2989), u, dev),
        put_user_policy(ids, m(-2980), u, "Ops", doc(READ_ONLY)),
        put_user_policy(ids, m(-60), u, "Ops", doc(READ_ONLY, TERMINATE_NEEDS_MFA)),
        gst(ids, m(0), u, dev, "bad_code"), gst(ids, m(10), u, dev, "bad_code"), gst(ids, m(22), u, dev, "bad_code"),
    ]


@case("d6", "role_trust_requires_mfa_confirm")
def _(ids):
    """A CLI profile assumes a role without mfa_serial; the role's trust policy now requires MFA."""
    u = "walt"
    role = f"arn:aws:iam::{PROD}:role/DeployAdmin"
    return [
        create_role(ids, m(-5000), "DeployAdmin", trust()),
        assume_role(ids, m(-1000), u, role),
        update_trust(ids, m(-30), "DeployAdmin", trust(mfa=True)),
        assume_role(ids, m(0), u, role, outcome="trust_denied"),
        assume_role(ids, m(2), u, role, outcome="trust_denied"),
    ]


# ---------------------------------------------------------------- D7
@case("d7", "fido_key_intermittent_confirm")
def _(ids):
    """A security key that works one time in three over two hours: no clock, so never drift (D4
    must not fire), but intermittent (D7: a passing problem, e.g. the key's connection)."""
    u = "xena"
    key = f"arn:aws:iam::{PROD}:u2f/user/{u}/yubikey-FFFFGGGGHHHHIIIIJJJJ"
    out = [console_login(ids, m(-600), u, True, True, key)]
    for k in range(12):
        ok = k % 3 == 2
        out.append(console_login(ids, m(k * 10), u, ok, True, key if ok else None))
    return out


@case("d7", "typos_through_the_day_must_not_fire")
def _(ids):
    u, dev = "yuri", mfa_arn(PROD, "yuri")
    out = [create_virtual(ids, m(-5000), u), enable(ids, m(-4999), u, dev)]
    for h in range(6):
        out += [gst(ids, m(h * 100), u, dev, "bad_code"), gst(ids, m(h * 100 + 1), u, dev, "ok")]
    return out


# ---------------------------------------------------------------- principals
@case("principals", "identity_center_user")
def _(ids):
    out = []
    for k in range(3):
        out += [idc_step(ids, m(k * 5), "zoe", "CredentialChallenge", "PASSWORD", "Success"),
                idc_step(ids, m(k * 5 + 0.2), "zoe", "CredentialVerification", "PASSWORD", "Success"),
                idc_step(ids, m(k * 5 + 0.5), "zoe", "CredentialVerification", "TOTP", "Failure")]
    out.append(idc_step(ids, m(30), "zoe", "CredentialVerification", "WEBAUTHN", "Success", new_shape=True))
    return out


@case("principals", "root_lost_device")
def _(ids):
    """Root's device (enabled as "AWS ROOT USER", serial root-account-mfa-device) is lost: MFA
    sign-ins fail for twenty minutes. Root's device and sign-ins must link to `root`."""
    dev = mfa_arn(PROD, "root-account-mfa-device")
    root = {"type": "Root", "principalId": PROD, "arn": f"arn:aws:iam::{PROD}:root", "accountId": PROD,
            "accessKeyId": "ASIAROOTSESSION00001", "sessionContext": {"attributes": {"creationDate": iso(m(-4000)),
                                                                                      "mfaAuthenticated": "true"}}}
    return [
        iam(ids, m(-3999), "EnableMFADevice", {"userName": "AWS ROOT USER", "serialNumber": dev}, ident=root),
        root_login(ids, m(-1500), True, True, dev),
        root_login(ids, m(0), False, True),
        root_login(ids, m(4), False, True),
        root_login(ids, m(11), False, True),
        root_login(ids, m(20), False, True),
    ]


@case("principals", "same_name_two_accounts_both_failing")
def _(ids):
    """j.doe fails MFA in prod and in the sandbox: two users; without --account, mfatrail asks."""
    out = []
    for acct in (PROD, SANDBOX):
        dev = mfa_arn(acct, "j.doe")
        out += [create_virtual(ids, m(-3000), "j.doe", acct=acct), enable(ids, m(-2999), "j.doe", dev, acct=acct),
                gst(ids, m(0), "j.doe", dev, "bad_code", acct=acct), gst(ids, m(9), "j.doe", dev, "bad_code", acct=acct)]
    return out


@case("principals", "assume_role_with_mfa_bad_code")
def _(ids):
    """A CLI profile with role_arn + mfa_serial: the wrong code fails AssumeRole for the calling user."""
    u, dev = "anton", mfa_arn(PROD, "anton")
    role = f"arn:aws:iam::{PROD}:role/ProdReadOnly"
    return [
        create_virtual(ids, m(-3000), u), enable(ids, m(-2999), u, dev),
        assume_role(ids, m(-500), u, role, serial=dev),
        assume_role(ids, m(0), u, role, serial=dev, outcome="bad_code"),
        assume_role(ids, m(6), u, role, serial=dev, outcome="bad_code"),
        assume_role(ids, m(14), u, role, serial=dev, outcome="bad_code"),
    ]


# ---------------------------------------------------------------- episode (DESIGN §6.0)
def quiet_colleagues(ids, days, acct=PROD):
    """Ordinary colleagues signing in with MFA every day, so every day of the archive has files."""
    out = []
    for d in days:
        for k, u in enumerate(["wilma", "xaver"]):
            dev = mfa_arn(acct, f"{u}-phone")
            t = m(d * 1440 + 30 + 47 * k)
            out.append(console_login(ids, t, u, True, True, dev, acct=acct))
            out.append(gst(ids, at(t, 20), u, dev, "ok", acct=acct))
    return out


@case("episode", "stray_morning_failure_confirm")
def _(ids):
    """08:00 a failed console sign-in, 08:10 signed in with MFA, then four quiet hours: a stray,
    shown as an earlier episode. 12:00 the helpdesk deletes lena's only device (named after her
    phone, not after her); from 12:30 her CLI fails on the deleted serial and the console without
    MFA is denied. T0 is 12:30: the deletion lies before it (D2), no device is left (D3), and
    the 08:10 success is no drift sign (D4 must not confirm)."""
    u, dev = "lena", mfa_arn(PROD, "lena-pixel7")
    s = console_session(u, mfa=False, start=m(238))
    return [
        create_virtual(ids, m(-3000), "lena-pixel7"), enable(ids, m(-2999), u, dev),
        console_login(ids, m(-60), u, False, True),
        console_login(ids, m(-50), u, True, True, dev),
        deactivate(ids, m(180), u, dev), delete_virtual(ids, m(181), dev),
        gst(ids, m(210), u, dev, "bad_serial"), gst(ids, m(220), u, dev, "bad_serial"),
        console_login(ids, m(238), u, True, False),
        denied(ids, m(240), s, "s3.amazonaws.com", "ListBuckets", "s3:ListAllMyBuckets", "*", "identity"),
        gst(ids, m(250), u, dev, "bad_serial"),
    ]


@case("episode", "stray_morning_failure_must_not_fire")
def _(ids):
    """The same stray morning failure, then a phone swap done right (the new device enabled
    before the old one is removed, as AWS recommends) and one failure at 14:00 fixed eight
    minutes later. T0 is 14:00, not 08:00; the removal left nils with MFA: nothing confirms."""
    u, old, new = "nils", mfa_arn(PROD, "nils-old"), mfa_arn(PROD, "nils-new")
    return [
        create_virtual(ids, m(-3000), "nils-old"), enable(ids, m(-2999), u, old),
        console_login(ids, m(-60), u, False, True),
        console_login(ids, m(-50), u, True, True, old),
        create_virtual(ids, m(174), "nils-new", ident=console_session(u, mfa=True)),
        enable(ids, m(175), u, new, ident=console_session(u, mfa=True)),
        deactivate(ids, m(180), u, old, ident=console_session(u, mfa=True)),
        delete_virtual(ids, m(181), old, ident=console_session(u, mfa=True)),
        console_login(ids, m(210), u, True, True, new),
        console_login(ids, m(300), u, False, True),
        console_login(ids, m(308), u, True, True, new),
    ]


@case("episode", "long_incidents", layout=True)
def _(ids):
    """An archive in the key layout, a week long (Sat 14 to Fri 20 Nov), for the raw read in steps:

    - maja (must fire D2): her device is deleted Monday 09:00; her CLI fails on it Monday to
      Wednesday, morning and afternoon, while the console works without MFA and is denied. No
      MFA success in between: one episode from Monday 10:00 (T0), ending Wednesday 14:00. Her
      last MFA success is Sunday 10:00; a stray failure on Saturday is history.
    - ruth (must not fire D2): replaced her phone on Monday, the new device enabled first; from
      Monday to Wednesday she fails a code once a day on the new device and gets in ten minutes
      later. Each day is its own episode; the removal left her with MFA.
    - theo (must fire D2, without --until): device deleted Monday 09:00, his CLI fails on it
      until 11:00; he re-enrols Tuesday and works normally; Thursday he mistypes a code and gets
      in 40 s later (typing), and Friday a guardrail denies his MFA session a TerminateInstances
      (an explicit deny with MFA, no age limit: not a signal). The default --until is Monday
      11:00, not Thursday's typo nor Friday's deny.
    - ute (must not fire): only Thursday's typo: no episode at all."""
    day = 1440
    out = quiet_colleagues(ids, range(-6, 1))
    mon = -4 * day
    # maja
    u, dev = "maja", mfa_arn(PROD, "maja-iphone")
    out += [create_virtual(ids, m(-12000), "maja-iphone"), enable(ids, m(-11999), u, dev),
            console_login(ids, m(-6 * day + 120), u, False, True),
            console_login(ids, m(-6 * day + 140), u, True, True, dev),
            gst(ids, m(-5 * day + 60), u, dev, "ok"),
            deactivate(ids, m(mon), u, dev), delete_virtual(ids, m(mon + 1), dev)]
    for d in range(3):
        for h in (60, 360):
            out.append(gst(ids, m(mon + d * day + h + d * 30), u, dev, "bad_serial"))
        out.append(console_login(ids, m(mon + d * day + 20), u, True, False))
        s = console_session(u, mfa=False, start=m(mon + d * day + 20))
        out.append(denied(ids, m(mon + d * day + 25), s, "ec2.amazonaws.com", "DescribeInstances",
                          "ec2:DescribeInstances", "*", "identity"))
    # ruth
    u, old, new = "ruth", mfa_arn(PROD, "ruth-old"), mfa_arn(PROD, "ruth-new")
    sess = console_session(u, mfa=True)
    out += [create_virtual(ids, m(-12000), "ruth-old"), enable(ids, m(-11999), u, old),
            gst(ids, m(-5 * day + 90), u, old, "ok"),
            create_virtual(ids, m(mon - 10, 0), "ruth-new", ident=sess), enable(ids, m(mon - 9), u, new, ident=sess),
            deactivate(ids, m(mon - 5), u, old, ident=sess), delete_virtual(ids, m(mon - 4), old, ident=sess)]
    for d in range(3):
        out += [gst(ids, m(mon + d * day + 120), u, new, "bad_code"), gst(ids, m(mon + d * day + 130), u, new, "ok")]
    # theo
    u, dev, dev2 = "theo", mfa_arn(PROD, "theo-phone"), mfa_arn(PROD, "theo-phone-2")
    out += [create_virtual(ids, m(-12000), "theo-phone"), enable(ids, m(-11999), u, dev),
            gst(ids, m(-5 * day + 100), u, dev, "ok"),
            deactivate(ids, m(mon), u, dev), delete_virtual(ids, m(mon + 1), dev),
            gst(ids, m(mon + 60), u, dev, "bad_serial"), gst(ids, m(mon + 90), u, dev, "bad_serial"),
            gst(ids, m(mon + 120), u, dev, "bad_serial"),
            create_virtual(ids, m(mon + day), "theo-phone-2"), enable(ids, m(mon + day + 1), u, dev2)]
    for d in (1, 2, 3):
        out.append(console_login(ids, m(mon + d * day + 30), u, True, True, dev2))
    out += [console_login(ids, m(mon + 3 * day + 360), u, False, True),
            console_login(ids, m(mon + 3 * day + 360, 40), u, True, True, dev2)]
    s = console_session(u, mfa=True, start=m(mon + 4 * day + 30))
    out += [console_login(ids, m(mon + 4 * day + 30), u, True, True, dev2),
            denied(ids, m(mon + 4 * day + 45), s, "ec2.amazonaws.com", "TerminateInstances",
                   "ec2:TerminateInstances", "arn:aws:ec2:us-east-1:111122223333:instance/i-0abc", "identity")]
    # ute
    u, dev = "ute", mfa_arn(PROD, "ute-phone")
    out += [create_virtual(ids, m(-12000), "ute-phone"), enable(ids, m(-11999), u, dev),
            console_login(ids, m(mon + 3 * day + 400), u, False, True),
            console_login(ids, m(mon + 3 * day + 401), u, True, True, dev)]
    return out


@case("episode", "duplicated_typos_must_not_fire")
def _(ids):
    """Two mistyped codes and the right one two minutes later, every record delivered twice (an
    old single-region trail next to the organization trail): four failure records are two
    failures, typing, never drift."""
    u, dev = "carl", mfa_arn(PROD, "carl")
    return [create_virtual(ids, m(-3000), u), enable(ids, m(-2999), u, dev)] + twice([
        gst(ids, m(0), u, dev, "bad_code"), gst(ids, m(1), u, dev, "bad_code"), gst(ids, m(3), u, dev, "ok"),
    ])


@case("episode", "duplicated_outage_confirm")
def _(ids):
    """Three users fail their console codes within one hour and get in half an hour later; every
    record is delivered twice. Three users, account-wide (D5), each with two failures, not
    four."""
    out = []
    for k, u in enumerate(["pia", "quinn", "rosa"]):
        dev = mfa_arn(PROD, u)
        out += [create_virtual(ids, m(-3000 + k), u), enable(ids, m(-2990 + k), u, dev)]
        out += twice([console_login(ids, m(5 * k), u, False, True), console_login(ids, m(5 * k + 7), u, False, True),
                      console_login(ids, m(5 * k + 35), u, True, True, dev)])
    return out


@case("d1", "unresolved_morning_failure_then_evening_typo")
def _(ids):
    """09:00 a code fails and dana gives up; 17:00 a code fails and she gets in a minute later.
    Two runs, not one typing run of two: the 09:00 failure is a signal (T0), 17:00 is typing."""
    u, dev = "dana", mfa_arn(PROD, "dana")
    return [create_virtual(ids, m(-3000), u), enable(ids, m(-2999), u, dev),
            gst(ids, m(0), u, dev, "bad_code"),
            gst(ids, m(480), u, dev, "bad_code"), gst(ids, m(481), u, dev, "ok")]


@case("d1", "two_typos_minutes_apart_must_not_fire")
def _(ids):
    """Two failed codes four minutes apart and a success two minutes later: one typing run."""
    u, dev = "eva", mfa_arn(PROD, "eva")
    return [create_virtual(ids, m(-3000), u), enable(ids, m(-2999), u, dev),
            gst(ids, m(0), u, dev, "bad_code"), gst(ids, m(4), u, dev, "bad_code"), gst(ids, m(6), u, dev, "ok")]


# ---------------------------------------------------------------- everyday behaviour (issue 24)
@case("d7", "enforcement_denials_of_a_console_mfa_user_must_not_fire")
def _(ids):
    """kim signs in to the console with MFA every morning while her long-term-key tools (the ECR
    credential helper, an IDE toolkit) are denied all day by the engineers' BoolIfExists
    force-MFA policy, which Terraform re-puts unchanged: MFA enforcement working as intended.
    Denials are not attempts (D7 not evaluable), her device is active (D3), nothing changed
    (D6)."""
    u, dev = "kim", mfa_arn(PROD, "kim-phone")
    key = long_term_ident(u)
    out = [create_virtual(ids, m(-3000), "kim-phone"), enable(ids, m(-2999), u, dev),
           add_user_to_group(ids, m(-2990), u, "engineers")]
    for h in range(-40, 1, 8):
        out.append(put_group_policy(ids, m(h * 60 + 3), "engineers", "force-mfa", doc(FORCE_MFA), agent=TERRAFORM))
    for d in (-1, 0):
        out.append(console_login(ids, m(d * 1440 - 30), u, True, True, dev))
        for k, (src, name, action) in enumerate([
            ("ecr.amazonaws.com", "GetAuthorizationToken", "ecr:GetAuthorizationToken"),
            ("sts.amazonaws.com", "GetCallerIdentity", "sts:GetCallerIdentity"),
            ("s3.amazonaws.com", "ListBuckets", "s3:ListAllMyBuckets"),
            ("ecr.amazonaws.com", "GetAuthorizationToken", "ecr:GetAuthorizationToken"),
        ]):
            out.append(denied(ids, m(d * 1440 + 20 + 70 * k), key, src, name, action, "*", "identity"))
    return out


@case("d6", "bool_to_bool_if_exists_confirm")
def _(ids):
    """The engineers' force-MFA policy used `Bool` (which never applies to long-term keys); a
    Terraform edit turns it into `BoolIfExists`. From the next minutes on, joe's long-term-key
    scripts are denied: the change added the requirement for them (D6), and denials are never
    intermittent tries (D7)."""
    u, dev = "joe", mfa_arn(PROD, "joe-phone")
    key = long_term_ident(u)
    return [
        create_virtual(ids, m(-3000), "joe-phone"), enable(ids, m(-2999), u, dev),
        add_user_to_group(ids, m(-2990), u, "engineers"),
        put_group_policy(ids, m(-2000), "engineers", "force-mfa", doc(FORCE_MFA_BOOL), agent=TERRAFORM),
        console_login(ids, m(-100), u, True, True, dev),
        put_group_policy(ids, m(-20), "engineers", "force-mfa", doc(FORCE_MFA), agent=TERRAFORM),
        denied(ids, m(0), key, "s3.amazonaws.com", "ListBuckets", "s3:ListAllMyBuckets", "*", "identity"),
        denied(ids, m(15), key, "ecr.amazonaws.com", "GetAuthorizationToken", "ecr:GetAuthorizationToken", "*", "identity"),
        denied(ids, m(40), key, "s3.amazonaws.com", "ListBuckets", "s3:ListAllMyBuckets", "*", "identity"),
    ]


@case("d3", "guardrail_deny_must_not_fire")
def _(ids):
    """gabe, a contractor, never had MFA and signs in without it in an account that does not
    require it; a DenyProdDelete guardrail denies him ec2:TerminateInstances twice. A policy
    denies a destructive action; nothing says it is about MFA (D3 inconclusive)."""
    u = "gabe"
    s = console_session(u, mfa=False, start=m(-5))
    return [
        console_login(ids, m(-5), u, True, False),
        denied(ids, m(0), s, "ec2.amazonaws.com", "TerminateInstances", "ec2:TerminateInstances",
               "arn:aws:ec2:us-east-1:111122223333:instance/i-0abc", "identity"),
        denied(ids, m(4), s, "ec2.amazonaws.com", "TerminateInstances", "ec2:TerminateInstances",
               "arn:aws:ec2:us-east-1:111122223333:instance/i-0abc", "identity"),
    ]


@case("d3", "age_only_policy_must_not_fire")
def _(ids):
    """hana has no device and a policy limiting the age of MFA sessions for IAM calls (no
    IfExists): it never applies to a caller without MFA. Her denial of iam:ListUsers is someone
    else's deny; the age limit does not make her need MFA (D3 not confirmed)."""
    u = "hana"
    s = console_session(u, mfa=False, start=m(-5))
    return [
        create_user(ids, m(-600), u),
        put_user_policy(ids, m(-590), u, "RecentMfaForIam", doc(AGE_ONLY)),
        console_login(ids, m(-5), u, True, False),
        denied(ids, m(0), s, "iam.amazonaws.com", "ListUsers", "iam:ListUsers", "*", "identity"),
    ]


@case("d2", "new_device_first_then_old_removed_must_not_fire")
def _(ids):
    """rita enables her new phone, then removes the old one (the order AWS recommends); her
    long-term-key CLI calls are denied before and after (force-MFA enforcement). Another device
    is active at every denial: the removal left her with MFA (D2 not confirmed)."""
    u, old, new = "rita", mfa_arn(PROD, "rita-old"), mfa_arn(PROD, "rita-new")
    sess = console_session(u, mfa=True)
    key = long_term_ident(u)
    return [
        create_virtual(ids, m(-3000), "rita-old"), enable(ids, m(-2999), u, old),
        console_login(ids, m(-120), u, True, True, old),
        create_virtual(ids, m(-60), "rita-new", ident=sess), enable(ids, m(-59), u, new, ident=sess),
        deactivate(ids, m(-55), u, old, ident=sess), delete_virtual(ids, m(-54), old, ident=sess),
        console_login(ids, m(-30), u, True, True, new),
        denied(ids, m(0), key, "s3.amazonaws.com", "ListBuckets", "s3:ListAllMyBuckets", "*", "identity"),
        denied(ids, m(30), key, "ecr.amazonaws.com", "GetAuthorizationToken", "ecr:GetAuthorizationToken", "*", "identity"),
        denied(ids, m(60), key, "s3.amazonaws.com", "ListBuckets", "s3:ListAllMyBuckets", "*", "identity"),
    ]


@case("d2", "orphan_named_like_the_user_must_not_fire")
def _(ids):
    """A hygiene Lambda deletes an unassigned virtual device named exactly "paula"; paula's own
    device is "paula-iphone", which she uses every day. Three hours later she fails a code and
    gets in ten minutes later. Devices belong to users through lifecycle userName and their own
    successes, never through the name (D2 not confirmed)."""
    u, own, orphan = "paula", mfa_arn(PROD, "paula-iphone"), mfa_arn(PROD, "paula")
    lam = role_ident("mfa-hygiene", "lambda-1", mfa="false")
    return [
        create_virtual(ids, m(-3000), "paula-iphone"), enable(ids, m(-2999), u, own),
        console_login(ids, m(-400), u, True, True, own),
        delete_virtual(ids, m(-180), orphan, ident=lam),
        gst(ids, m(0), u, own, "bad_code"), gst(ids, m(10), u, own, "ok"),
    ]


@case("d4", "failures_on_a_device_never_removed_confirm")
def _(ids):
    """ivo's old device is removed in the data; his failures name his current one, which the
    logs never show enabled but his own successes name: it is his and active. Three invalid codes
    with a success between: drift (D4), not "every device removed" (D3)."""
    u, gone, cur = "ivo", mfa_arn(PROD, "ivo-old"), mfa_arn(PROD, "ivo-phone")
    return [
        deactivate(ids, m(-2000), u, gone), delete_virtual(ids, m(-1999), gone),
        gst(ids, m(-600), u, cur, "ok"),
        gst(ids, m(0), u, cur, "bad_code"), gst(ids, m(20), u, cur, "ok"),
        gst(ids, m(40), u, cur, "bad_code"), gst(ids, m(55), u, cur, "bad_code"),
    ]


@case("d6", "mfa_deny_widens_confirm")
def _(ids):
    """An MFA deny on ec2:TerminateInstances alone becomes a deny of everything but MFA
    self-service: the change widens the requirement to what leo was then denied (D6)."""
    u = "leo"
    s = console_session(u, mfa=False, start=m(-5))
    return [
        create_user(ids, m(-3000), u),
        put_user_policy(ids, m(-2000), u, "mfa-guard", doc(TERMINATE_NEEDS_MFA)),
        console_login(ids, m(-300), u, True, False),
        put_user_policy(ids, m(-30), u, "mfa-guard", doc(FORCE_MFA)),
        console_login(ids, m(-5), u, True, False),
        denied(ids, m(0), s, "s3.amazonaws.com", "ListBuckets", "s3:ListAllMyBuckets", "*", "identity"),
        denied(ids, m(5), s, "ec2.amazonaws.com", "DescribeInstances", "ec2:DescribeInstances", "*", "identity"),
    ]


@case("d6", "detach_attach_churn_must_not_fire")
def _(ids):
    """ops-mfa-guard (MFA for destructive actions) has long been attached to group ops; a
    Terraform run detaches and re-attaches it 20 s apart (a resource address changed). Nothing
    changed for anyone (D6 not confirmed), although nora is denied a TerminateInstances without
    MFA an hour later."""
    u = "nora"
    arn = f"arn:aws:iam::{PROD}:policy/ops-mfa-guard"
    s = console_session(u, mfa=False, start=m(-10))
    return [
        create_policy(ids, m(-4000), "ops-mfa-guard", doc(DESTRUCTIVE_NEEDS_MFA)),
        attach_group_policy(ids, m(-3990), "ops", arn),
        create_user(ids, m(-3980), u), add_user_to_group(ids, m(-3979), u, "ops"),
        detach_group_policy(ids, m(-60), "ops", arn), attach_group_policy(ids, m(-60, 20), "ops", arn),
        console_login(ids, m(-10), u, True, False),
        denied(ids, m(0), s, "ec2.amazonaws.com", "TerminateInstances", "ec2:TerminateInstances",
               "arn:aws:ec2:us-east-1:111122223333:instance/i-0abc", "identity"),
    ]


@case("d6", "new_default_version_onset_confirm")
def _(ids):
    """The managed policy team-guard (attached to team before the data read) gets a new default
    version requiring MFA for everything; its previous version is not in the data. Oskar, who
    worked all night without being denied, is denied from the next minutes on: the denials begin
    after it, with eight hours of data before it (D6 confirmed on onset evidence)."""
    u = "oskar"
    arn = f"arn:aws:iam::{PROD}:policy/team-guard"
    key = long_term_ident(u)
    out = []
    for h in range(8):
        out.append(gst(ids, m(-500 + h * 60), u, mfa_arn(PROD, "oskar-token"), "ok"))
    out += [
        create_policy_version(ids, m(-15), arn, doc(FORCE_MFA), "v3"),
        denied(ids, m(0), key, "s3.amazonaws.com", "ListBuckets", "s3:ListAllMyBuckets", "*", "identity"),
        denied(ids, m(12), key, "ecr.amazonaws.com", "GetAuthorizationToken", "ecr:GetAuthorizationToken", "*", "identity"),
    ]
    return out


@case("d6", "trust_policy_of_another_role_must_not_fire")
def _(ids):
    """Role ReadOnly's trust policy starts requiring MFA; pete's AssumeRole denials are on role
    Deploy, whose trust has required MFA since it was created. A trust policy reaches only those
    who assume its role: the ReadOnly change is not pete's cause (D6 not confirmed)."""
    u = "pete"
    deploy = f"arn:aws:iam::{PROD}:role/Deploy"
    return [
        create_role(ids, m(-5000), "Deploy", trust(mfa=True)),
        create_role(ids, m(-4000), "ReadOnly", trust(mfa=False)),
        update_trust(ids, m(-30), "ReadOnly", trust(mfa=True)),
        assume_role(ids, m(0), u, deploy, outcome="denied"),
        assume_role(ids, m(3), u, deploy, outcome="denied"),
    ]


@case("d6", "change_found_by_the_extension_confirm")
def _(ids):
    """quentin signs in with MFA; his scripts run on a long-term key. A force-MFA statement
    (BoolIfExists: it reaches long-term keys) is added to his policy 30 h before the scripts'
    denials begin: outside the first 24 h before T0, found when the analysis extends to 48 h
    (window.extended)."""
    u, dev = "quentin", mfa_arn(PROD, "quentin-phone")
    key = long_term_ident(u)
    return [
        create_user(ids, m(-3000), u), create_virtual(ids, m(-2990), "quentin-phone"), enable(ids, m(-2989), u, dev),
        put_user_policy(ids, m(-2500), u, "baseline", doc(READ_ONLY)),
        put_user_policy(ids, m(-1800), u, "baseline", doc(READ_ONLY, FORCE_MFA)),
        console_login(ids, m(-60), u, True, True, dev),
        denied(ids, m(0), key, "s3.amazonaws.com", "ListBuckets", "s3:ListAllMyBuckets", "*", "identity"),
    ]


@case("d5", "two_typists_in_one_hour_must_not_fire")
def _(ids):
    """ron fails three codes; in the same hour sue fails one and gets in fifteen minutes later.
    Two people failing in one hour happens every week: user-specific (D5 not confirmed)."""
    out = []
    for u in ("ron", "sue"):
        dev = mfa_arn(PROD, u)
        out += [create_virtual(ids, m(-3000), u), enable(ids, m(-2999), u, dev)]
    out += [console_login(ids, m(0), "ron", False, True), console_login(ids, m(8), "ron", False, True),
            console_login(ids, m(19), "ron", False, True),
            console_login(ids, m(10), "sue", False, True), console_login(ids, m(25), "sue", True, True, mfa_arn(PROD, "sue"))]
    return out


@case("d5", "failing_all_day_in_a_noisy_account_must_not_fire")
def _(ids):
    """A busy account: for two days, every hour someone fails a code once and gets in a quarter
    of an hour later. tia fails all day (no success). Each of her hours holds her and one other
    user, the account's usual level: user-specific, never account-wide."""
    out = []
    names = [f"bg{k:02d}" for k in range(24)]
    for k, u in enumerate(names):
        dev = mfa_arn(PROD, u)
        out += [create_virtual(ids, m(-4000 + k), u), enable(ids, m(-3990 + k), u, dev)]
    for h in range(-36, 12):
        u = names[h % 24]
        out += [console_login(ids, m(h * 60 + 20), u, False, True),
                console_login(ids, m(h * 60 + 37), u, True, True, mfa_arn(PROD, u))]
    dev = mfa_arn(PROD, "tia")
    out += [create_virtual(ids, m(-4100), "tia"), enable(ids, m(-4099), "tia", dev)]
    for h in range(0, 10, 2):
        out.append(console_login(ids, m(h * 60 + 25), "tia", False, True))
    return out


# ---------------------------------------------------------------- reports
@case("reports", "hostile_strings")
def _(ids):
    """Strings an attacker controls (user agent, error message, policy and group names) that
    must stay inert text in every report: a script, an event handler, a spreadsheet formula,
    terminal escapes, bidi overrides."""
    u, dev = "mallory", mfa_arn(PROD, "mallory")
    xss = '<script>window.__mfatrail_pwned=1</script><img src=x onerror="window.__mfatrail_pwned=1">'
    out = [create_virtual(ids, m(-3000), u), enable(ids, m(-2999), u, dev)]
    for k, agent in enumerate([xss, '=HYPERLINK("http://evil.example/","click")', "\x1b[2J\x1b[31mred\u202egpj.exe",
                               "@SUM(1+1)*cmd|' /C calc'!A0"]):
        r = gst(ids, m(k * 11), u, dev, "bad_code")
        r["userAgent"] = agent
        if k == 0:
            # An event id that would end a Markdown code span and start raw HTML.
            r["eventID"] = "1c7f`\n<img src=x onerror=alert(1)>"
        out.append(r)
    # The success comes after every failure: none of them is typing, so each hostile agent is
    # a signal's and reaches the reports.
    r = gst(ids, m(50), u, dev, "ok")
    r["userAgent"] = xss
    out.append(r)
    out.append(put_group_policy(ids, m(-30), "</table><script>window.__mfatrail_pwned=1</script>", "x|y", doc(READ_ONLY)))
    out.append(add_user_to_group(ids, m(-29), u, "</table><script>window.__mfatrail_pwned=1</script>"))
    return out


def main():
    for (rule, name), f in sorted(CASES.items()):
        ids = Ids(f"{rule}/{name}")
        records = sorted(f(ids), key=lambda r: r["eventTime"])
        if (rule, name) in LAYOUT:
            write_layout(os.path.join(ROOT, rule, name), records)
            continue
        path = os.path.join(ROOT, rule, f"{name}.json")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as fh:
            fh.write(json.dumps({"Records": records}, indent=1) + "\n")
    print(f"wrote {len(CASES)} cases under testdata/rules/")


if __name__ == "__main__":
    main()
