#!/usr/bin/env python3
"""Writes testdata/rules/<rule>/<case>.json: small hand-written CloudTrail files, one situation
each, for the per-rule tests (tests/e2e/rules.rs). Each case says in its name what must or
must not confirm; the shapes come from shared/CLOUDTRAIL-FACTS.md (see cloudtrail_shapes.py),
not from `mfatrail gen`. Deterministic: run it again and git diff shows nothing.
"""

import datetime as dt
import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from cloudtrail_shapes import *  # noqa: E402,F403

ROOT = os.path.join(os.path.dirname(__file__), "..", "testdata", "rules")
D0 = dt.datetime(2026, 11, 20, 9, 0, 0)  # a Friday morning
CASES = {}


def case(rule, name):
    def wrap(f):
        CASES[(rule, name)] = f
        return f
    return wrap


def m(minutes):
    return at(D0, minutes)


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


@case("d4", "wrong_codes_only_must_not_fire")
def _(ids):
    """Three invalid codes in a row, no resync, no success between: a wrong code reads the same."""
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
        out.append(r)
    r = gst(ids, m(5), u, dev, "ok")
    r["userAgent"] = xss
    out.append(r)
    out.append(put_group_policy(ids, m(-30), "</table><script>window.__mfatrail_pwned=1</script>", "x|y", doc(READ_ONLY)))
    out.append(add_user_to_group(ids, m(-29), u, "</table><script>window.__mfatrail_pwned=1</script>"))
    return out


def main():
    for (rule, name), f in sorted(CASES.items()):
        ids = Ids(f"{rule}/{name}")
        records = sorted(f(ids), key=lambda r: r["eventTime"])
        path = os.path.join(ROOT, rule, f"{name}.json")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as fh:
            fh.write(json.dumps({"Records": records}, indent=1) + "\n")
    print(f"wrote {len(CASES)} cases under testdata/rules/")


if __name__ == "__main__":
    main()
