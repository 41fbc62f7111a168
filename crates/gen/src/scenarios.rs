//! The ten MFA situations, each a timeline of records around its own users, anchored at the end
//! of the archive (E). Shapes follow CLOUDTRAIL-FACTS.md; every scenario draws from its own
//! seeded stream so combining scenarios never changes any one of them.

use super::Scenario;
use super::rng::{Rng, TAG_SCENARIO, hash_str, mix_parts};
use super::shapes::{
    self, BROWSER_UAS, FINANCE_V1_DOC, MFA_POLICY_DOC, MSG_BAD_CODE, MSG_BAD_SERIAL, Rec, denial_message,
    push_credentials,
};
use serde_json::json;
use std::collections::BTreeSet;

const H: i64 = 3600;
const M: i64 = 60;
const ADMIN: &str = "ops-admin";
const UA_CLI_GST: &str =
    "aws-cli/2.15.30 Python/3.11.8 Linux/6.5.0 exe/x86_64.ubuntu.22 prompt/off command/sts.get-session-token";
const UA_CLI: &str = "aws-cli/2.15.30 Python/3.11.8 Linux/6.5.0 exe/x86_64.ubuntu.22 prompt/off";
const UA_IAM_CONSOLE: &str = "console.amazonaws.com";

/// One scenario record, placed by the planner into the us-east-1 file of its 5-minute slot
/// (or, with `late_key`, into a file delivered at that key time).
#[derive(Debug, Clone)]
pub struct ScenEvent {
    pub account: usize,
    pub time: i64,
    pub json: String,
    pub late_key: Option<i64>,
}

/// What the scenarios need to know about the archive.
pub struct World<'a> {
    pub seed: u64,
    pub since: i64,
    pub end: i64,
    pub accounts: &'a [String],
}

/// How a scenario user is authenticated for an API call.
#[derive(Debug, Clone, Copy)]
enum Sn {
    /// Long-term AKIA keys: no sessionContext, so no MFA in the request context.
    Keys,
    /// Console session started at `start`; `mfa` is its mfaAuthenticated.
    Console { start: i64, mfa: bool },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Gst {
    Ok,
    BadCode,
    BadSerial,
}

/// An API a scenario user calls; `{acct}` in templates is the account id.
struct Api {
    source: &'static str,
    name: &'static str,
    action: &'static str,
    resource: &'static str,
    code: &'static str,
    request: Option<&'static str>,
    host: &'static str,
}

const APIS: [Api; 8] = [
    Api {
        source: "s3.amazonaws.com",
        name: "ListBuckets",
        action: "s3:ListAllMyBuckets",
        resource: "*",
        code: "AccessDenied",
        request: Some("{\"Host\":\"s3.amazonaws.com\"}"),
        host: "s3.amazonaws.com",
    },
    Api {
        source: "ec2.amazonaws.com",
        name: "DescribeInstances",
        action: "ec2:DescribeInstances",
        resource: "*",
        code: "Client.UnauthorizedOperation",
        request: Some("{\"instancesSet\":{},\"filterSet\":{}}"),
        host: "ec2.us-east-1.amazonaws.com",
    },
    Api {
        source: "iam.amazonaws.com",
        name: "ListUsers",
        action: "iam:ListUsers",
        resource: "arn:aws:iam::{acct}:user/",
        code: "AccessDenied",
        request: None,
        host: "iam.amazonaws.com",
    },
    Api {
        source: "dynamodb.amazonaws.com",
        name: "ListTables",
        action: "dynamodb:ListTables",
        resource: "arn:aws:dynamodb:us-east-1:{acct}:table/*",
        code: "AccessDeniedException",
        request: None,
        host: "dynamodb.us-east-1.amazonaws.com",
    },
    Api {
        source: "kms.amazonaws.com",
        name: "ListKeys",
        action: "kms:ListKeys",
        resource: "*",
        code: "AccessDeniedException",
        request: None,
        host: "kms.us-east-1.amazonaws.com",
    },
    Api {
        source: "lambda.amazonaws.com",
        name: "ListFunctions20150331",
        action: "lambda:ListFunctions",
        resource: "*",
        code: "AccessDeniedException",
        request: None,
        host: "lambda.us-east-1.amazonaws.com",
    },
    Api {
        source: "s3.amazonaws.com",
        name: "GetBucketAcl",
        action: "s3:GetBucketAcl",
        resource: "arn:aws:s3:::finance-reports-{acct}",
        code: "AccessDenied",
        request: Some(
            "{\"bucketName\":\"finance-reports-{acct}\",\"Host\":\"finance-reports-{acct}.s3.us-east-1.amazonaws.com\",\"acl\":\"\"}",
        ),
        host: "finance-reports-{acct}.s3.us-east-1.amazonaws.com",
    },
    Api {
        source: "logs.amazonaws.com",
        name: "DescribeLogGroups",
        action: "logs:DescribeLogGroups",
        resource: "arn:aws:logs:us-east-1:{acct}:log-group::log-stream:",
        code: "AccessDeniedException",
        request: Some("{\"limit\":50}"),
        host: "logs.us-east-1.amazonaws.com",
    },
];

struct B<'w> {
    w: &'w World<'w>,
    rng: Rng,
    out: Vec<ScenEvent>,
    /// ops-admin console sign-ins needed by admin actions: (account, session start).
    admin_logins: &'w mut BTreeSet<(usize, i64)>,
}

/// Builds the records of `scenarios` (duplicates must already be removed).
pub fn build(w: &World, scenarios: &[Scenario]) -> Vec<ScenEvent> {
    let mut logins = BTreeSet::new();
    let mut all = Vec::new();
    for &s in scenarios {
        let mut b = B {
            w,
            rng: Rng::from_parts(&[w.seed, TAG_SCENARIO, s as u64]),
            out: Vec::new(),
            admin_logins: &mut logins,
        };
        match s {
            Scenario::DeviceDeleted => device_deleted(&mut b),
            Scenario::GroupMfaNoDevice => group_mfa_no_device(&mut b),
            Scenario::ClockDrift => clock_drift(&mut b),
            Scenario::AccountWide => account_wide(&mut b),
            Scenario::OrgMultiAccount => org_multi_account(&mut b),
            Scenario::ManagedPolicyVersion => managed_policy_version(&mut b),
            Scenario::Extend48h => extend_48h(&mut b),
            Scenario::NegativeControl => negative_control(&mut b),
            Scenario::LateDelivery => late_delivery(&mut b),
            Scenario::TwoDevicesOneRemoved => two_devices_one_removed(&mut b),
        }
        all.append(&mut b.out);
    }
    for &(a, start) in &logins {
        let mut b = B {
            w,
            rng: Rng::from_parts(&[w.seed, TAG_SCENARIO, 0xad, a as u64, start as u64]),
            out: Vec::new(),
            admin_logins: &mut BTreeSet::new(),
        };
        let serial = b.mfa_arn(a, ADMIN);
        b.console_login(a, ADMIN, start, true, Some(&serial));
        all.append(&mut b.out);
    }
    all
}

impl B<'_> {
    fn e(&self) -> i64 {
        self.w.end
    }

    fn acct(&self, a: usize) -> &str {
        &self.w.accounts[a]
    }

    fn mfa_arn(&self, a: usize, name: &str) -> String {
        format!("arn:aws:iam::{}:mfa/{name}", self.acct(a))
    }

    fn pid(&self, a: usize, name: &str) -> String {
        shapes::principal_id(self.w.seed, self.acct(a), name, "AIDA")
    }

    /// A user's stable home IP (a few users share a provider range, as offices do).
    fn ip(&self, a: usize, name: &str) -> String {
        let h = mix_parts(&[self.w.seed, hash_str(self.acct(a)), hash_str(name), 0x1f]);
        let nets = [82u8, 91, 145, 176, 188, 212];
        format!(
            "{}.{}.{}.{}",
            nets[(h % 6) as usize],
            (h >> 8) & 0xff,
            (h >> 16) & 0xff,
            1 + (h >> 24) % 254
        )
    }

    fn browser(&self, name: &str) -> &'static str {
        BROWSER_UAS[shapes::name_pick(self.w.seed, name, BROWSER_UAS.len())]
    }

    fn push(&mut self, a: usize, time: i64, json: String) {
        self.out.push(ScenEvent {
            account: a,
            time,
            json,
            late_key: None,
        });
    }

    fn ids(&mut self) -> (String, String) {
        (self.rng.uuid(), self.rng.uuid())
    }

    /// ConsoleLogin; returns the session start for later calls from that session.
    fn console_login(&mut self, a: usize, user: &str, t: i64, success: bool, mfa: Option<&str>) -> i64 {
        let acct = self.acct(a).to_string();
        let identity = shapes::login_identity(&acct, &self.pid(a, user), user, success);
        let add = shapes::login_additional(mfa);
        let ip = self.ip(a, user);
        let (eid, _) = self.ids();
        let mut r = Rec::api(&identity, t, "signin.amazonaws.com", "ConsoleLogin");
        r.version = "1.08";
        r.ip = &ip;
        r.agent = self.browser(user);
        r.event_type = "AwsConsoleSignIn";
        r.read_only = false;
        r.event_id = &eid;
        r.recipient = &acct;
        r.response = Some(if success {
            "{\"ConsoleLogin\":\"Success\"}"
        } else {
            "{\"ConsoleLogin\":\"Failure\"}"
        });
        if !success {
            r.error_message = Some("Failed authentication");
        }
        r.additional = Some(&add);
        r.tls_host = Some("signin.aws.amazon.com");
        let mut s = String::with_capacity(1100);
        r.write(&mut s);
        self.push(a, t, s);
        t
    }

    /// GetSessionToken from the CLI with the user's long-term keys.
    fn gst(&mut self, a: usize, user: &str, t: i64, serial: Option<&str>, outcome: Gst) {
        let acct = self.acct(a).to_string();
        let key = shapes::akia(self.w.seed, &acct, user);
        let identity = shapes::user_longterm_identity(&acct, &self.pid(a, user), user, &key);
        let req = match serial {
            Some(s) => json!({"durationSeconds": 43200, "serialNumber": s}),
            None => json!({"durationSeconds": 43200}),
        }
        .to_string();
        let mut resp = String::new();
        if outcome == Gst::Ok {
            resp.push('{');
            let len = 420 + self.rng.below(80) as usize;
            push_credentials(&mut self.rng, &mut resp, t + 43_200, len);
            resp.push('}');
        }
        let ip = self.ip(a, user);
        let (eid, rid) = self.ids();
        let mut r = Rec::api(&identity, t, "sts.amazonaws.com", "GetSessionToken");
        r.version = "1.08";
        r.ip = &ip;
        r.agent = UA_CLI_GST;
        r.request = Some(&req);
        r.response = if outcome == Gst::Ok { Some(&resp) } else { None };
        match outcome {
            Gst::Ok => {}
            Gst::BadCode => {
                r.error_code = Some("AccessDenied");
                r.error_message = Some(MSG_BAD_CODE);
            }
            Gst::BadSerial => {
                r.error_code = Some("AccessDenied");
                r.error_message = Some(MSG_BAD_SERIAL);
            }
        }
        r.request_id = Some(&rid);
        r.event_id = &eid;
        r.recipient = &acct;
        r.tls_host = Some("sts.amazonaws.com");
        let mut s = String::with_capacity(1400);
        r.write(&mut s);
        self.push(a, t, s);
    }

    fn identity(&self, a: usize, user: &str, sn: Sn) -> String {
        let acct = self.acct(a);
        let pid = self.pid(a, user);
        match sn {
            Sn::Keys => shapes::user_longterm_identity(acct, &pid, user, &shapes::akia(self.w.seed, acct, user)),
            Sn::Console { start, mfa } => {
                let key = shapes::session_key(self.w.seed, acct, user, start);
                shapes::user_console_identity(acct, &pid, user, &key, start, mfa)
            }
        }
    }

    /// An IAM write by `user` (ops-admin for lifecycle and policy changes); `body` is
    /// (requestParameters, responseElements).
    fn iam_call(&mut self, a: usize, user: &str, sn: Sn, t: i64, name: &str, body: (String, Option<String>)) -> String {
        let (req, resp) = body;
        let acct = self.acct(a).to_string();
        let identity = self.identity(a, user, sn);
        let ip = self.ip(a, user);
        let (eid, rid) = self.ids();
        let mut r = Rec::api(&identity, t, "iam.amazonaws.com", name);
        r.ip = &ip;
        r.agent = if self.rng.below(2) == 0 {
            UA_IAM_CONSOLE
        } else {
            "AWS Internal"
        };
        r.request = Some(&req);
        r.response = resp.as_deref();
        r.request_id = Some(&rid);
        r.event_id = &eid;
        r.read_only = false;
        r.recipient = &acct;
        r.from_console = matches!(sn, Sn::Console { .. });
        r.tls_host = Some("iam.amazonaws.com");
        let mut s = String::with_capacity(1200 + req.len());
        r.write(&mut s);
        s
    }

    /// ops-admin acting in the console, signed in with MFA shortly before the hour's work.
    fn admin_json(
        &mut self,
        a: usize,
        t: i64,
        name: &str,
        req: serde_json::Value,
        resp: Option<serde_json::Value>,
    ) -> String {
        let start = (t.div_euclid(H) * H - 3 * M).max(self.w.since).min(t - 1);
        self.admin_logins.insert((a, start));
        self.iam_call(
            a,
            ADMIN,
            Sn::Console { start, mfa: true },
            t,
            name,
            (req.to_string(), resp.map(|v| v.to_string())),
        )
    }

    fn admin(&mut self, a: usize, t: i64, name: &str, req: serde_json::Value, resp: Option<serde_json::Value>) {
        let s = self.admin_json(a, t, name, req, resp);
        self.push(a, t, s);
    }

    fn enable(&mut self, a: usize, t: i64, user: &str, serial: &str) {
        self.admin(
            a,
            t,
            "EnableMFADevice",
            json!({"userName": user, "serialNumber": serial}),
            None,
        );
    }

    fn deactivate(&mut self, a: usize, t: i64, user: &str, serial: &str) {
        self.admin(
            a,
            t,
            "DeactivateMFADevice",
            json!({"userName": user, "serialNumber": serial}),
            None,
        );
    }

    fn delete_virtual(&mut self, a: usize, t: i64, serial: &str) {
        self.admin(a, t, "DeleteVirtualMFADevice", json!({"serialNumber": serial}), None);
    }

    /// A call to `APIS[api]`: success, or a denial (`explicit` picks the MFA-policy wording).
    fn call(&mut self, a: usize, user: &str, sn: Sn, t: i64, api: usize, denied: Option<bool>) {
        let api = &APIS[api % APIS.len()];
        let acct = self.acct(a).to_string();
        let identity = self.identity(a, user, sn);
        let ip = self.ip(a, user);
        let (eid, mut rid) = self.ids();
        let req = api.request.map(|r| r.replace("{acct}", &acct));
        let host = api.host.replace("{acct}", &acct);
        let principal_arn = format!("arn:aws:iam::{acct}:user/{user}");
        let msg = denied.map(|explicit| {
            denial_message(
                &principal_arn,
                api.action,
                &api.resource.replace("{acct}", &acct),
                explicit,
                api.source == "ec2.amazonaws.com",
            )
        });
        let mut add = None;
        if api.source == "s3.amazonaws.com" {
            let mut s = String::from(
                "{\"SignatureVersion\":\"SigV4\",\"CipherSuite\":\"TLS_AES_128_GCM_SHA256\",\"bytesTransferredIn\":0,\"AuthenticationMethod\":\"AuthHeader\",\"x-amz-id-2\":\"",
            );
            self.rng.push_b64(&mut s, 76);
            s.push_str(if denied.is_some() {
                "\",\"bytesTransferredOut\":243}"
            } else {
                "\",\"bytesTransferredOut\":1184}"
            });
            add = Some(s);
            rid = self.rng.chars(super::rng::UPPER_ALNUM, 16);
        }
        let mut r = Rec::api(&identity, t, api.source, api.name);
        r.version = if api.source == "lambda.amazonaws.com" || api.source == "dynamodb.amazonaws.com" {
            "1.08"
        } else {
            "1.09"
        };
        r.ip = &ip;
        r.agent = match sn {
            Sn::Keys => UA_CLI,
            Sn::Console { .. } => "AWS Internal",
        };
        r.from_console = matches!(sn, Sn::Console { .. });
        if let Some(m) = &msg {
            r.error_code = Some(api.code);
            r.error_message = Some(m);
        }
        r.request = req.as_deref();
        r.additional = add.as_deref();
        r.request_id = Some(&rid);
        r.event_id = &eid;
        r.recipient = &acct;
        r.tls_host = Some(&host);
        let mut s = String::with_capacity(1300);
        r.write(&mut s);
        self.push(a, t, s);
    }

    fn jitter(&mut self, max_secs: i64) -> i64 {
        self.rng.range_i64(0, max_secs.max(1))
    }
}

/// 1: the device was deactivated and deleted; the CLI keeps sending its serial, the console
/// falls back to password-only and the MFA policy denies.
fn device_deleted(b: &mut B) {
    let (a, u, e) = (0, "alice", b.e());
    let serial = b.mfa_arn(a, u);
    b.enable(a, e - 40 * H, u, &serial);
    for (login, calls) in [(e - 20 * H, 2), (e - 10 * H, 1)] {
        let start = b.console_login(a, u, login, true, Some(&serial));
        for k in 0..calls {
            let t = login + 4 * M + k * 5 * M + b.jitter(50);
            b.call(a, u, Sn::Console { start, mfa: true }, t, k as usize, None);
        }
    }
    b.gst(a, u, e - 9 * H, Some(&serial), Gst::Ok);
    b.deactivate(a, e - 5 * H, u, &serial);
    b.delete_virtual(a, e - 5 * H + M, &serial);
    for i in 0..6 {
        let t = e - 4 * H + i * 36 * M;
        b.gst(a, u, t, Some(&serial), Gst::BadSerial);
    }
    let start = b.console_login(a, u, e - 3 * H, true, None);
    for i in 0..8 {
        let t = e - 3 * H + 3 * M + i * 15 * M + b.jitter(60);
        b.call(
            a,
            u,
            Sn::Console { start, mfa: false },
            t,
            [0, 1, 2, 3, 4, 5, 7, 6][i as usize],
            Some(true),
        );
    }
}

/// 2: a new user joins a group whose inline policy requires MFA and never sets up a device.
fn group_mfa_no_device(b: &mut B) {
    let (a, u, e) = (0, "bob", b.e());
    let acct = b.acct(a).to_string();
    b.admin(
        a,
        e - 40 * H,
        "PutGroupPolicy",
        json!({"groupName": "engineers", "policyName": "RequireMFA", "policyDocument": MFA_POLICY_DOC}),
        None,
    );
    let t = e - 8 * H;
    let pid = b.pid(a, u);
    b.admin(
        a,
        t,
        "CreateUser",
        json!({"userName": u}),
        Some(json!({"user": {"path": "/", "userName": u, "userId": pid, "arn": format!("arn:aws:iam::{acct}:user/{u}"), "createDate": super::time::java(t, false)}})),
    );
    b.admin(
        a,
        t + 2 * M,
        "CreateLoginProfile",
        json!({"userName": u, "passwordResetRequired": true}),
        Some(json!({"loginProfile": {"userName": u, "createDate": super::time::java(t + 2 * M, false), "passwordResetRequired": true}})),
    );
    b.admin(
        a,
        t + 3 * M,
        "AddUserToGroup",
        json!({"groupName": "engineers", "userName": u}),
        None,
    );
    for (login, first, step) in [(e - 7 * H, 2 * M, 11 * M), (e - 3 * H, 3 * M, 12 * M)] {
        let start = b.console_login(a, u, login, true, None);
        for i in 0..5 {
            let t = login + first + i * step + b.jitter(45);
            b.call(
                a,
                u,
                Sn::Console { start, mfa: false },
                t,
                (i as usize * 3 + 1) % 8,
                Some(true),
            );
        }
    }
}

/// 3: an active device whose codes drift: failures interleaved with successes, then a resync.
fn clock_drift(b: &mut B) {
    let (a, u, e) = (0, "carol", b.e());
    let serial = b.mfa_arn(a, u);
    b.admin(
        a,
        e - 30 * H,
        "CreateVirtualMFADevice",
        json!({"virtualMFADeviceName": u, "path": "/"}),
        Some(json!({"virtualMFADevice": {"serialNumber": serial}})),
    );
    b.enable(a, e - 30 * H + M, u, &serial);
    for k in 0..=12 {
        let mut t = e - 28 * H + k * 2 * H + b.jitter(20 * M) - 10 * M;
        if k == 12 {
            t = t.min(e - 4 * H);
        }
        if k % 2 == 0 {
            b.console_login(a, u, t, true, Some(&serial));
        } else {
            b.gst(a, u, t, Some(&serial), Gst::Ok);
        }
    }
    // F = failure, S = success; c = console, s = sts.
    let pattern = [
        "Fs", "Fs", "Sc", "Fc", "Fs", "Ss", "Fs", "Fs", "Fc", "Sc", "Fs", "Fs", "Ss", "Fc", "Fs",
    ];
    let mut session = e - 3 * H;
    for (i, p) in pattern.iter().enumerate() {
        let t = e - 3 * H + i as i64 * 8 * M + b.jitter(3 * M);
        match *p {
            "Fs" => b.gst(a, u, t, Some(&serial), Gst::BadCode),
            "Ss" => b.gst(a, u, t, Some(&serial), Gst::Ok),
            "Fc" => {
                b.console_login(a, u, t, false, Some(&serial));
            }
            _ => session = b.console_login(a, u, t, true, Some(&serial)),
        }
    }
    let t = e - 50 * M;
    let s = b.iam_call(
        a,
        u,
        Sn::Console {
            start: session,
            mfa: true,
        },
        t,
        "ResyncMFADevice",
        (json!({"userName": u, "serialNumber": serial}).to_string(), None),
    );
    b.push(a, t, s);
    b.console_login(a, u, e - 40 * M, true, Some(&serial));
    b.gst(a, u, e - 20 * M, Some(&serial), Gst::Ok);
}

/// Users with active devices who all fail console MFA in the same half hour.
fn mass_failure(b: &mut B, users: &[(usize, String)], min_fail: u64, max_fail: u64, recover: bool) {
    let e = b.e();
    for (i, (a, u)) in users.iter().enumerate() {
        let i = i as i64;
        let serial = b.mfa_arn(*a, u);
        b.enable(*a, e - 30 * H + i * 2 * M, u, &serial);
        let t = e - 10 * H + i * 3 * M + b.jitter(60);
        b.console_login(*a, u, t, true, Some(&serial));
        let n = min_fail + b.rng.below(max_fail - min_fail + 1);
        let mut times: Vec<i64> = (0..n).map(|_| e - 2 * H + b.jitter(30 * M)).collect();
        times.sort_unstable();
        for t in times {
            b.console_login(*a, u, t, false, Some(&serial));
        }
        if recover {
            let t = e - H + i * 4 * M + b.jitter(2 * M);
            b.console_login(*a, u, t, true, Some(&serial));
        }
    }
}

/// 4: six users of one account fail MFA at once (suspect the MFA service), then recover.
fn account_wide(b: &mut B) {
    let users: Vec<(usize, String)> = (1..=6).map(|i| (0, format!("team-{i:02}"))).collect();
    mass_failure(b, &users, 2, 4, true);
}

/// 5: the same across the three accounts of an organization trail.
fn org_multi_account(b: &mut B) {
    let users: Vec<(usize, String)> = (1..=6).map(|i| ((i - 1) / 2, format!("org-user-{i}"))).collect();
    mass_failure(b, &users, 2, 3, false);
}

/// 6: a managed policy reaching the user through a group gets a new default version that
/// requires MFA; the user, who has no device and uses access keys, is denied from then on.
fn managed_policy_version(b: &mut B) {
    let (a, u, e) = (0, "dave", b.e());
    let acct = b.acct(a).to_string();
    let arn = format!("arn:aws:iam::{acct}:policy/FinanceAccess");
    let t0 = e - 46 * H;
    let created = super::time::java(t0, false);
    let policy_id = shapes::stable_id(b.w.seed, &acct, "FinanceAccess", "ANPA", super::rng::UPPER_ALNUM, 17);
    b.admin(
        a,
        t0,
        "CreatePolicy",
        json!({"policyName": "FinanceAccess", "policyDocument": FINANCE_V1_DOC, "path": "/"}),
        Some(json!({"policy": {
            "policyName": "FinanceAccess", "policyId": policy_id, "arn": arn, "path": "/",
            "defaultVersionId": "v1", "attachmentCount": 0, "permissionsBoundaryUsageCount": 0,
            "isAttachable": true, "createDate": created, "updateDate": created}})),
    );
    b.admin(
        a,
        e - 45 * H,
        "AddUserToGroup",
        json!({"groupName": "finance", "userName": u}),
        None,
    );
    b.admin(
        a,
        e - 44 * H,
        "AttachGroupPolicy",
        json!({"groupName": "finance", "policyArn": arn}),
        None,
    );
    let ok_apis = [0usize, 6, 1];
    let mut k = 0;
    loop {
        let t = e - 43 * H + k * 2 * H + b.jitter(15 * M);
        if t >= e - 3 * H - 10 * M {
            break;
        }
        b.call(a, u, Sn::Keys, t, ok_apis[k as usize % 3], None);
        k += 1;
    }
    let t = e - 3 * H;
    b.admin(
        a,
        t,
        "CreatePolicyVersion",
        json!({"policyArn": arn, "policyDocument": MFA_POLICY_DOC, "setAsDefault": true}),
        Some(json!({"policyVersion": {"versionId": "v2", "isDefaultVersion": true, "createDate": super::time::java(t, false)}})),
    );
    for i in 0..12 {
        let t = e - 2 * H - 50 * M + i * 140 * M / 11;
        b.call(a, u, Sn::Keys, t, ok_apis[i as usize % 3], Some(true));
    }
}

/// 7: the device was removed 36 h before the end; the failures start 32 h later, so the cause
/// lies outside a 24 h window and inside 48 h.
fn extend_48h(b: &mut B) {
    let (a, u, e) = (0, "erin", b.e());
    let serial = b.mfa_arn(a, u);
    b.enable(a, e - 49 * H, u, &serial);
    b.console_login(a, u, e - 45 * H, true, Some(&serial));
    b.gst(a, u, e - 40 * H, Some(&serial), Gst::Ok);
    b.deactivate(a, e - 36 * H, u, &serial);
    b.delete_virtual(a, e - 36 * H + M, &serial);
    for i in 0..5 {
        b.gst(a, u, e - 4 * H + i * 30 * M, Some(&serial), Gst::BadSerial);
    }
}

/// 8: a healthy MFA user with ordinary noise: password typos and plain (non-MFA) denials.
fn negative_control(b: &mut B) {
    let (a, u) = (0, "frank");
    let serial = b.mfa_arn(a, u);
    let (lo, hi) = (b.w.since + H, b.w.end - H);
    let n = ((hi - lo) / (4 * H)).max(12);
    let step = (hi - lo) / n;
    let mut consoles = 0;
    for k in 0..n {
        let t = lo + k * step + b.jitter(step / 4);
        if k % 2 == 0 {
            if consoles < 6 && consoles % 2 == 1 {
                b.console_login(a, u, t - 90, false, None);
            }
            let start = b.console_login(a, u, t, true, Some(&serial));
            if consoles < 6 {
                let api = [2usize, 3, 4, 5, 7, 6][consoles];
                let td = t + 5 * M + b.jitter(M);
                b.call(a, u, Sn::Console { start, mfa: true }, td, api, Some(false));
            }
            consoles += 1;
        } else {
            b.gst(a, u, t, Some(&serial), Gst::Ok);
        }
    }
}

/// 9: the deactivation is written late: its file's key time is after the user's last failure.
fn late_delivery(b: &mut B) {
    let (a, u, e) = (0, "grace", b.e());
    let serial = b.mfa_arn(a, u);
    b.enable(a, e - 30 * H, u, &serial);
    b.console_login(a, u, e - 20 * H, true, Some(&serial));
    b.gst(a, u, e - 20 * H + 20 * M, Some(&serial), Gst::Ok);
    let t = e - 6 * H;
    let json = b.admin_json(
        a,
        t,
        "DeactivateMFADevice",
        json!({"userName": u, "serialNumber": serial}),
        None,
    );
    b.out.push(ScenEvent {
        account: a,
        time: t,
        json,
        late_key: Some(late_key(e)),
    });
    for i in 0..5 {
        b.gst(a, u, e - 5 * H - 30 * M + i * 90 * M / 4, Some(&serial), Gst::BadSerial);
    }
}

/// Key time of the late file in LateDelivery: E-3h+45m, cut to the minute.
pub fn late_key(end: i64) -> i64 {
    (end - 3 * H + 45 * M).div_euclid(M) * M
}

/// 10: one of two devices is removed; the CLI still names it while the console, using the
/// hardware token, keeps working.
fn two_devices_one_removed(b: &mut B) {
    let (a, u, e) = (0, "henry", b.e());
    let phone = b.mfa_arn(a, "henry-phone");
    let hw = "GAHT12345678";
    b.enable(a, e - 40 * H, u, &phone);
    b.enable(a, e - 39 * H, u, hw);
    b.console_login(a, u, e - 30 * H, true, Some(hw));
    b.gst(a, u, e - 20 * H, Some(&phone), Gst::Ok);
    b.console_login(a, u, e - 12 * H, true, Some(&phone));
    b.gst(a, u, e - 8 * H, Some(&phone), Gst::Ok);
    b.console_login(a, u, e - 6 * H, true, Some(hw));
    b.deactivate(a, e - 5 * H, u, &phone);
    b.delete_virtual(a, e - 5 * H + M, &phone);
    for i in 0..6 {
        b.gst(a, u, e - 4 * H + i * 36 * M, Some(&phone), Gst::BadSerial);
    }
    b.console_login(a, u, e - 3 * H, true, Some(hw));
    b.console_login(a, u, e - 2 * H, true, Some(hw));
}
