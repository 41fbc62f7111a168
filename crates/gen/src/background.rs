//! Background noise: the everyday management events of a busy account, with real shapes and
//! sizes, so the analyzer has to find the scenarios among ordinary traffic (large service
//! AssumeRole share, KMS, EC2 Describe*, monitoring polls, ...). About 2 % of it is MFA-relevant
//! but benign: MFA sign-ins, GetSessionToken with a serial, password failures and plain denials.
//! Background principals never fail MFA and are never explicitly denied.

use super::rng::{Rng, TAG_ACCOUNT, UPPER_ALNUM, hash_str, mix_parts};
use super::shapes::{self, BROWSER_UAS, Rec, US_EAST_1, denial_message, push_credentials, push_json_str};
use super::time::{push_iso, push_java};
use std::fmt::Write as _;

/// What a principal is, which decides its identity block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// IAM user signing in to the console, always with MFA.
    Human,
    /// IAM user with long-term keys (automation).
    ServiceUser,
    /// IAM role sessions.
    Role,
}

/// How a role session is named.
#[derive(Debug, Clone, Copy)]
enum Sess {
    Fixed(&'static str),
    Instance,
    TaskHex,
    Email(&'static str),
    Nanos,
}

// Capabilities: which background event kinds a principal performs.
const C_EC2: u32 = 1;
const C_S3: u32 = 1 << 1;
const C_KMS: u32 = 1 << 2;
const C_LAMBDA: u32 = 1 << 3;
const C_LOGS: u32 = 1 << 4;
const C_MON: u32 = 1 << 5;
const C_SSM: u32 = 1 << 6;
const C_DDB: u32 = 1 << 7;
const C_IAM: u32 = 1 << 8;
const C_GCI: u32 = 1 << 9;
const C_ASSUME: u32 = 1 << 10;
const C_DENY: u32 = 1 << 11;
const C_GST: u32 = 1 << 12;
const C_LOGSTREAM: u32 = 1 << 13;
const C_SSM_AGENT: u32 = 1 << 14;

const UA_CONSOLE: &str = "AWS Internal";
const UA_CLI: &str = "aws-cli/2.15.30 Python/3.11.8 Linux/6.5.0 exe/x86_64.ubuntu.22 prompt/off";
const UA_BOTO_LAMBDA: &str = "Boto3/1.34.84 md/Botocore#1.34.84 ua/2.0 os/linux#5.10.213-201.855.amzn2.x86_64 md/arch#x86_64 lang/python#3.12.2 exec-env/AWS_Lambda_python3.12";
const UA_NODE_LAMBDA: &str =
    "aws-sdk-nodejs/3.540.0 linux/v20.12.0 exec-env/AWS_Lambda_nodejs20.x api/dynamodb#3.540.0";
const UA_JAVA_ECS: &str = "aws-sdk-java/2.25.28 Linux/5.10.214-202.855.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/17.0.10+7-LTS Java/17.0.10 vendor/Amazon.com_Inc. exec-env/AWS_ECS_FARGATE";
const UA_GO: &str = "aws-sdk-go-v2/1.26.1 os/linux lang/go#1.22.2 md/GOOS#linux md/GOARCH#amd64";
const UA_TERRAFORM: &str = "APN/1.0 HashiCorp/1.0 Terraform/1.8.2 (+https://www.terraform.io) terraform-provider-aws/5.46.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go/1.51.21 (go1.22.2; linux; amd64)";
const UA_DATADOG: &str = "aws-sdk-go/1.44.327 (go1.20.8; linux; amd64) Datadog/Integration";
const UA_SSM_AGENT: &str = "aws-sdk-go/1.44.260 (go1.20.11; linux; amd64) amazon-ssm-agent/3.3.40.0";
const UA_BACKUP: &str = "backup.amazonaws.com";
const UA_CONFIG: &str = "config.amazonaws.com";

struct PDef {
    name: &'static str,
    kind: Kind,
    path: &'static str,
    sess: Sess,
    agent: &'static str,
    /// AWS service that assumes this role (service AssumeRole events), if any.
    service: Option<&'static str>,
    caps: u32,
}

const fn p(
    name: &'static str,
    kind: Kind,
    path: &'static str,
    sess: Sess,
    agent: &'static str,
    service: Option<&'static str>,
    caps: u32,
) -> PDef {
    PDef {
        name,
        kind,
        path,
        sess,
        agent,
        service,
        caps,
    }
}

/// The ~25 background principals of every account (same names, account-specific ids).
#[rustfmt::skip]
const PRINCIPALS: &[PDef] = &[
    p("maria.garcia", Kind::Human, "/", Sess::Nanos, UA_CONSOLE, None, C_EC2 | C_S3 | C_IAM | C_LAMBDA | C_DENY),
    p("li.wei", Kind::Human, "/", Sess::Nanos, UA_CONSOLE, None, C_EC2 | C_S3 | C_MON | C_GST | C_IAM),
    p("sam.okafor", Kind::Human, "/", Sess::Nanos, UA_CONSOLE, None, C_EC2 | C_DDB | C_LOGS | C_DENY),
    p("priya.nair", Kind::Human, "/", Sess::Nanos, UA_CONSOLE, None, C_S3 | C_KMS | C_IAM),
    p("tom.becker", Kind::Human, "/", Sess::Nanos, UA_CONSOLE, None, C_EC2 | C_SSM | C_GST | C_DENY),
    p("ana.souza", Kind::Human, "/", Sess::Nanos, UA_CONSOLE, None, C_LAMBDA | C_LOGS | C_MON),
    p("ci-runner", Kind::ServiceUser, "/automation/", Sess::Nanos, UA_GO, None, C_S3 | C_GCI | C_ASSUME | C_EC2 | C_DENY),
    p("backup-svc", Kind::ServiceUser, "/automation/", Sess::Nanos, UA_CLI, None, C_S3 | C_DDB | C_GCI),
    p("legacy-reporting", Kind::ServiceUser, "/", Sess::Nanos, UA_BOTO_LAMBDA, None, C_S3 | C_MON | C_GCI | C_DENY),
    p("s3-sync-agent", Kind::ServiceUser, "/automation/", Sess::Nanos, UA_CLI, None, C_S3 | C_KMS | C_GCI),
    p("monitoring-exporter", Kind::ServiceUser, "/", Sess::Nanos, UA_GO, None, C_MON | C_EC2 | C_GCI),
    p("lambda-orders-exec", Kind::Role, "/service-role/", Sess::Fixed("orders-api"), UA_NODE_LAMBDA, Some("lambda.amazonaws.com"), C_DDB | C_KMS | C_LOGSTREAM | C_SSM | C_GCI),
    p("lambda-thumbnailer-exec", Kind::Role, "/service-role/", Sess::Fixed("thumbnailer"), UA_BOTO_LAMBDA, Some("lambda.amazonaws.com"), C_S3 | C_KMS | C_LOGSTREAM),
    p("lambda-invoice-worker-exec", Kind::Role, "/service-role/", Sess::Fixed("invoice-worker"), UA_BOTO_LAMBDA, Some("lambda.amazonaws.com"), C_DDB | C_KMS | C_LOGSTREAM | C_DENY),
    p("ecs-api-task-role", Kind::Role, "/", Sess::TaskHex, UA_JAVA_ECS, Some("ecs-tasks.amazonaws.com"), C_DDB | C_KMS | C_SSM | C_S3 | C_GCI),
    p("eks-node-group-role", Kind::Role, "/", Sess::Instance, UA_GO, Some("ec2.amazonaws.com"), C_EC2 | C_GCI),
    p("ec2-app-instance-role", Kind::Role, "/", Sess::Instance, UA_SSM_AGENT, Some("ec2.amazonaws.com"), C_SSM_AGENT | C_KMS | C_GCI | C_LOGS),
    p("ssm-managed-instance-role", Kind::Role, "/", Sess::Instance, UA_SSM_AGENT, Some("ec2.amazonaws.com"), C_SSM_AGENT),
    p("DatadogIntegrationRole", Kind::Role, "/", Sess::Fixed("DatadogAWSIntegration"), UA_DATADOG, None, C_MON | C_EC2 | C_LAMBDA | C_DDB | C_LOGS | C_S3 | C_IAM | C_DENY),
    p("github-actions-deploy", Kind::Role, "/", Sess::Fixed("GitHubActions"), UA_TERRAFORM, None, C_EC2 | C_S3 | C_LAMBDA | C_IAM | C_GCI | C_DENY),
    p("terraform-plan", Kind::Role, "/", Sess::Nanos, UA_TERRAFORM, None, C_EC2 | C_S3 | C_IAM | C_DDB | C_KMS | C_GCI),
    p("AWSServiceRoleForConfig", Kind::Role, "/aws-service-role/config.amazonaws.com/", Sess::Fixed("AWSConfig-Describe"), UA_CONFIG, Some("config.amazonaws.com"), C_EC2 | C_IAM | C_S3 | C_LAMBDA | C_DDB),
    p("backup-vault-role", Kind::Role, "/service-role/", Sess::Fixed("AWSBackup-backup-vault-role"), UA_BACKUP, Some("backup.amazonaws.com"), C_DDB | C_EC2 | C_KMS),
    p("AWSReservedSSO_AdministratorAccess_3f1a2b4c5d6e7f80", Kind::Role, "/aws-reserved/sso.amazonaws.com/", Sess::Email("jane.doe@example.com"), UA_CONSOLE, None, C_EC2 | C_S3 | C_IAM | C_LAMBDA | C_LOGS | C_ASSUME),
    p("AWSReservedSSO_ReadOnlyAccess_9e8d7c6b5a493827", Kind::Role, "/aws-reserved/sso.amazonaws.com/", Sess::Email("kenji.sato@example.com"), UA_CONSOLE, None, C_EC2 | C_S3 | C_MON | C_DDB | C_DENY),
];

/// Roles other principals assume (AssumeRole by users and SSO sessions).
const ASSUMABLE: &[&str] = &["terraform-plan", "github-actions-deploy", "DatadogIntegrationRole"];

/// One principal of one account, with its stable identifiers.
#[derive(Debug)]
pub struct Principal {
    def: usize,
    name: &'static str,
    kind: Kind,
    pid: String,
    arn: String,
    key: String,
    ip: String,
    agent: &'static str,
    serial: String,
    console_ua: &'static str,
    phase: i64,
}

/// Per-account background world: principals and the resources they touch.
#[derive(Debug)]
pub struct Pool {
    seed: u64,
    pub account: String,
    principals: Vec<Principal>,
    by_cap: Vec<(u32, Vec<usize>)>,
    humans: Vec<usize>,
    service_roles: Vec<usize>,
    buckets: Vec<String>,
    instances: Vec<String>,
    vpcs: Vec<String>,
    volumes: Vec<String>,
    kms_keys: Vec<String>,
    secrets: Vec<String>,
}

const FUNCTIONS: [&str; 4] = ["orders-api", "thumbnailer", "invoice-worker", "auth-authorizer"];
const TABLES: [&str; 4] = ["orders", "sessions", "inventory", "audit-events"];
const PARAMS: [&str; 4] = [
    "/prod/orders/db_host",
    "/prod/orders/db_user",
    "/prod/api/feature_flags",
    "/shared/datadog/api_key",
];
const LOG_GROUPS: [&str; 4] = [
    "/aws/lambda/orders-api",
    "/aws/lambda/thumbnailer",
    "/ecs/api",
    "/aws/eks/prod/cluster",
];
const HUMAN_NETS: [u8; 6] = [81, 93, 178, 185, 213, 73];
const AWS_NETS: [u8; 6] = [3, 18, 34, 44, 52, 54];

impl Pool {
    pub fn new(seed: u64, account: &str) -> Pool {
        let mut rng = Rng::from_parts(&[seed, TAG_ACCOUNT, hash_str(account)]);
        let mut principals = Vec::with_capacity(PRINCIPALS.len());
        for (i, d) in PRINCIPALS.iter().enumerate() {
            let (pid, arn, key) = match d.kind {
                Kind::Human | Kind::ServiceUser => (
                    shapes::principal_id(seed, account, d.name, "AIDA"),
                    format!("arn:aws:iam::{account}:user{}{}", d.path, d.name),
                    shapes::akia(seed, account, d.name),
                ),
                Kind::Role => (
                    shapes::principal_id(seed, account, d.name, "AROA"),
                    format!("arn:aws:iam::{account}:role{}{}", d.path, d.name),
                    String::new(),
                ),
            };
            let nets: &[u8] = if d.kind == Kind::Human { &HUMAN_NETS } else { &AWS_NETS };
            let ip = format!(
                "{}.{}.{}.{}",
                rng.pick(nets),
                rng.below(256),
                rng.below(256),
                1 + rng.below(254)
            );
            principals.push(Principal {
                def: i,
                name: d.name,
                kind: d.kind,
                pid,
                arn,
                key,
                ip,
                agent: d.agent,
                serial: format!("arn:aws:iam::{account}:mfa/{}", d.name),
                console_ua: BROWSER_UAS[i % BROWSER_UAS.len()],
                phase: rng.range_i64(0, 3600),
            });
        }
        let caps = [
            C_EC2,
            C_S3,
            C_KMS,
            C_LAMBDA,
            C_LOGS,
            C_MON,
            C_SSM,
            C_DDB,
            C_IAM,
            C_GCI,
            C_ASSUME,
            C_DENY,
            C_GST,
            C_LOGSTREAM,
            C_SSM_AGENT,
        ];
        let by_cap = caps
            .iter()
            .map(|&c| {
                (
                    c,
                    (0..PRINCIPALS.len()).filter(|&i| PRINCIPALS[i].caps & c != 0).collect(),
                )
            })
            .collect();
        let humans = (0..PRINCIPALS.len())
            .filter(|&i| PRINCIPALS[i].kind == Kind::Human)
            .collect();
        let service_roles = (0..PRINCIPALS.len())
            .filter(|&i| PRINCIPALS[i].service.is_some())
            .collect();
        let buckets = [
            "prod-assets",
            "data-lake-raw",
            "app-backups",
            "static-site",
            "athena-results",
        ]
        .iter()
        .map(|b| format!("{b}-{account}"))
        .collect();
        let mut ids = |prefix: &str, n: usize, len: usize| -> Vec<String> {
            (0..n)
                .map(|_| {
                    let mut s = String::from(prefix);
                    rng.push_hex(&mut s, len);
                    s
                })
                .collect()
        };
        let instances = ids("i-0", 8, 16);
        let vpcs = ids("vpc-0", 2, 16);
        let volumes = ids("vol-0", 6, 16);
        let kms_keys = (0..3).map(|_| rng.uuid()).collect();
        let secrets = ["prod/orders/db", "prod/api/stripe", "shared/datadog"]
            .iter()
            .map(|s| format!("{s}-{}", rng.chars(super::rng::ALNUM, 6)))
            .collect();
        Pool {
            seed,
            account: account.to_string(),
            principals,
            by_cap,
            humans,
            service_roles,
            buckets,
            instances,
            vpcs,
            volumes,
            kms_keys,
            secrets,
        }
    }

    fn with_cap(&self, rng: &mut Rng, cap: u32) -> &Principal {
        let list = self
            .by_cap
            .iter()
            .find(|(c, _)| *c == cap)
            .map(|(_, l)| l.as_slice())
            .unwrap_or(&[]);
        if list.is_empty() {
            return &self.principals[0];
        }
        &self.principals[*rng.pick(list)]
    }
}

/// The identity of one call: JSON block plus what other fields derive from it.
struct Caller {
    identity: String,
    arn: String,
    ip: String,
    agent: &'static str,
    from_console: bool,
}

/// Session start for a principal at `t`: sessions renew hourly, at a per-principal phase.
fn session_start(p: &Principal, t: i64) -> i64 {
    t - (t + p.phase).rem_euclid(3600)
}

fn session_name(pool: &Pool, p: &Principal, start: i64) -> String {
    match PRINCIPALS[p.def].sess {
        Sess::Fixed(s) | Sess::Email(s) => s.to_string(),
        Sess::Instance => {
            let i = (mix_parts(&[pool.seed, p.def as u64, start as u64]) % pool.instances.len() as u64) as usize;
            pool.instances[i].clone()
        }
        Sess::TaskHex => {
            let mut r = Rng::from_parts(&[pool.seed, p.def as u64, start as u64, 7]);
            r.hex(32)
        }
        Sess::Nanos => format!(
            "aws-go-sdk-{}{:09}",
            start,
            mix_parts(&[pool.seed, start as u64]) % 1_000_000_000
        ),
    }
}

fn caller(pool: &Pool, p: &Principal, t: i64) -> Caller {
    let acct = &pool.account;
    match p.kind {
        Kind::ServiceUser => Caller {
            identity: shapes::user_longterm_identity(acct, &p.pid, p.name, &p.key),
            arn: p.arn.clone(),
            ip: p.ip.clone(),
            agent: p.agent,
            from_console: false,
        },
        Kind::Human => {
            let start = session_start(p, t);
            let key = shapes::session_key(pool.seed, acct, p.name, start);
            Caller {
                identity: shapes::user_console_identity(acct, &p.pid, p.name, &key, start, true),
                arn: p.arn.clone(),
                ip: p.ip.clone(),
                agent: UA_CONSOLE,
                from_console: true,
            }
        }
        Kind::Role => {
            let start = session_start(p, t);
            let sess = session_name(pool, p, start);
            let key = shapes::session_key(pool.seed, acct, p.name, start);
            let sts_arn = format!("arn:aws:sts::{acct}:assumed-role/{}/{sess}", p.name);
            let mut s = String::with_capacity(600);
            s.push_str("{\"type\":\"AssumedRole\",\"principalId\":\"");
            s.push_str(&p.pid);
            s.push(':');
            s.push_str(&sess);
            s.push_str("\",\"arn\":\"");
            s.push_str(&sts_arn);
            s.push_str("\",\"accountId\":\"");
            s.push_str(acct);
            s.push_str("\",\"accessKeyId\":\"");
            s.push_str(&key);
            s.push_str("\",\"sessionContext\":{\"sessionIssuer\":{\"type\":\"Role\",\"principalId\":\"");
            s.push_str(&p.pid);
            s.push_str("\",\"arn\":\"");
            s.push_str(&p.arn);
            s.push_str("\",\"accountId\":\"");
            s.push_str(acct);
            s.push_str("\",\"userName\":\"");
            s.push_str(p.name);
            s.push_str("\"},\"webIdFederationData\":{},\"attributes\":{\"creationDate\":\"");
            push_iso(&mut s, start);
            s.push_str("\",\"mfaAuthenticated\":\"false\"}");
            if matches!(PRINCIPALS[p.def].sess, Sess::Instance) {
                s.push_str(",\"ec2RoleDelivery\":\"2.0\"");
            }
            s.push_str("}}");
            let sso = matches!(PRINCIPALS[p.def].sess, Sess::Email(_));
            Caller {
                identity: s,
                arn: sts_arn,
                ip: p.ip.clone(),
                agent: if sso {
                    BROWSER_UAS[p.def % BROWSER_UAS.len()]
                } else {
                    p.agent
                },
                from_console: false,
            }
        }
    }
}

/// Background event kinds with their weights in us-east-1 and in the other regions. IAM, STS
/// and sign-in are global services and only appear in us-east-1.
#[derive(Debug, Clone, Copy)]
enum Ev {
    AssumeRoleService,
    AssumeRoleUser,
    GetCallerIdentity,
    KmsDecrypt,
    KmsGenerateDataKey,
    Ec2Describe,
    S3Bucket,
    Lambda,
    Logs,
    Monitoring,
    Ssm,
    Dynamodb,
    IamRead,
    ConsoleLoginMfa,
    GetSessionTokenMfa,
    PasswordFailure,
    PlainDenial,
}

const EVENTS: [Ev; 17] = [
    Ev::AssumeRoleService,
    Ev::AssumeRoleUser,
    Ev::GetCallerIdentity,
    Ev::KmsDecrypt,
    Ev::KmsGenerateDataKey,
    Ev::Ec2Describe,
    Ev::S3Bucket,
    Ev::Lambda,
    Ev::Logs,
    Ev::Monitoring,
    Ev::Ssm,
    Ev::Dynamodb,
    Ev::IamRead,
    Ev::ConsoleLoginMfa,
    Ev::GetSessionTokenMfa,
    Ev::PasswordFailure,
    Ev::PlainDenial,
];
const W_EAST: [u32; 17] = [300, 110, 90, 80, 40, 80, 50, 30, 50, 60, 50, 30, 60, 14, 10, 4, 10];
const W_OTHER: [u32; 17] = [0, 0, 0, 130, 70, 180, 70, 60, 110, 130, 120, 70, 0, 0, 0, 0, 10];

/// Per-file context.
pub struct Ctx<'a> {
    pub pool: &'a Pool,
    pub region: &'a str,
}

/// Appends one background record with eventTime `t`.
pub fn write_record(rng: &mut Rng, cx: &Ctx, t: i64, out: &mut String) {
    let east = cx.region == US_EAST_1;
    let ev = EVENTS[rng.weighted(if east { &W_EAST } else { &W_OTHER })];
    let mut eid = String::with_capacity(36);
    rng.push_uuid(&mut eid);
    let mut rid = String::with_capacity(36);
    rng.push_uuid(&mut rid);
    match ev {
        Ev::AssumeRoleService => assume_role_service(rng, cx, t, &eid, &rid, out),
        Ev::AssumeRoleUser => assume_role_user(rng, cx, t, &eid, &rid, out),
        Ev::GetCallerIdentity => {
            let p = cx.pool.with_cap(rng, C_GCI);
            let c = caller(cx.pool, p, t);
            let mut r = base(cx, &c, t, "sts.amazonaws.com", "GetCallerIdentity", &eid);
            r.version = "1.08";
            r.request_id = Some(&rid);
            r.tls_host = Some("sts.amazonaws.com");
            r.write(out);
        }
        Ev::KmsDecrypt | Ev::KmsGenerateDataKey => kms(rng, cx, t, &eid, &rid, matches!(ev, Ev::KmsDecrypt), out),
        Ev::Ec2Describe => ec2(rng, cx, t, &eid, &rid, out),
        Ev::S3Bucket => s3(rng, cx, t, &eid, out),
        Ev::Lambda => lambda(rng, cx, t, &eid, &rid, out),
        Ev::Logs => logs(rng, cx, t, &eid, &rid, out),
        Ev::Monitoring => monitoring(rng, cx, t, &eid, &rid, out),
        Ev::Ssm => ssm(rng, cx, t, &eid, &rid, out),
        Ev::Dynamodb => dynamodb(rng, cx, t, &eid, &rid, out),
        Ev::IamRead => iam_read(rng, cx, t, &eid, &rid, out),
        Ev::ConsoleLoginMfa | Ev::PasswordFailure => {
            console_login(rng, cx, t, &eid, matches!(ev, Ev::ConsoleLoginMfa), out)
        }
        Ev::GetSessionTokenMfa => get_session_token(rng, cx, t, &eid, &rid, out),
        Ev::PlainDenial => plain_denial(rng, cx, t, &eid, &rid, out),
    }
}

fn base<'a>(cx: &'a Ctx, c: &'a Caller, t: i64, source: &'a str, name: &'a str, eid: &'a str) -> Rec<'a> {
    let mut r = Rec::api(&c.identity, t, source, name);
    r.region = cx.region;
    r.ip = &c.ip;
    r.agent = c.agent;
    r.event_id = eid;
    r.recipient = &cx.pool.account;
    r.from_console = c.from_console;
    r
}

fn regional_host(service: &str, region: &str) -> String {
    format!("{service}.{region}.amazonaws.com")
}

fn assume_role_service(rng: &mut Rng, cx: &Ctx, t: i64, eid: &str, rid: &str, out: &mut String) {
    let pool = cx.pool;
    let p = &pool.principals[*rng.pick(&pool.service_roles)];
    let service = PRINCIPALS[p.def].service.unwrap_or("lambda.amazonaws.com");
    let start = session_start(p, t);
    let sess = session_name(pool, p, start);
    let identity = format!("{{\"type\":\"AWSService\",\"invokedBy\":\"{service}\"}}");
    let req = format!("{{\"roleArn\":\"{}\",\"roleSessionName\":\"{sess}\"}}", p.arn);
    let mut resp = String::with_capacity(1200);
    resp.push('{');
    let hours = if service == "ec2.amazonaws.com" {
        6
    } else {
        1 + rng.below(12) as i64
    };
    let len = 300 + rng.below(200) as usize;
    push_credentials(rng, &mut resp, t + hours * 3600, len);
    resp.push('}');
    let res = format!(
        "[{{\"accountId\":\"{}\",\"type\":\"AWS::IAM::Role\",\"ARN\":\"{}\"}}]",
        pool.account, p.arn
    );
    let mut shared = String::with_capacity(36);
    rng.push_uuid(&mut shared);
    let mut r = Rec::api(&identity, t, "sts.amazonaws.com", "AssumeRole");
    r.version = "1.08";
    r.ip = service;
    r.agent = service;
    r.request = Some(&req);
    r.response = Some(&resp);
    r.request_id = Some(rid);
    r.event_id = eid;
    r.resources = Some(&res);
    r.recipient = &pool.account;
    r.shared_event_id = Some(&shared);
    r.write(out);
}

fn assume_role_user(rng: &mut Rng, cx: &Ctx, t: i64, eid: &str, rid: &str, out: &mut String) {
    let pool = cx.pool;
    let p = pool.with_cap(rng, C_ASSUME);
    let c = caller(pool, p, t);
    let target_name = *rng.pick(ASSUMABLE);
    let Some(target) = pool.principals.iter().find(|x| x.name == target_name) else {
        return;
    };
    let sess = if p.kind == Kind::Role {
        format!("{}-{}", p.name.split('_').next().unwrap_or("sso"), t)
    } else {
        format!("{}-{t}", p.name)
    };
    let req = format!(
        "{{\"roleArn\":\"{}\",\"roleSessionName\":\"{sess}\",\"durationSeconds\":3600}}",
        target.arn
    );
    let mut resp = String::with_capacity(1200);
    resp.push('{');
    let len = 300 + rng.below(160) as usize;
    push_credentials(rng, &mut resp, t + 3600, len);
    let _ = write!(
        resp,
        ",\"assumedRoleUser\":{{\"assumedRoleId\":\"{}:{sess}\",\"arn\":\"arn:aws:sts::{}:assumed-role/{}/{sess}\"}}}}",
        target.pid, pool.account, target.name
    );
    let res = format!(
        "[{{\"accountId\":\"{}\",\"type\":\"AWS::IAM::Role\",\"ARN\":\"{}\"}}]",
        pool.account, target.arn
    );
    let mut r = base(cx, &c, t, "sts.amazonaws.com", "AssumeRole", eid);
    r.version = "1.08";
    r.request = Some(&req);
    r.response = Some(&resp);
    r.request_id = Some(rid);
    r.resources = Some(&res);
    r.tls_host = Some("sts.amazonaws.com");
    r.write(out);
}

fn kms(rng: &mut Rng, cx: &Ctx, t: i64, eid: &str, rid: &str, decrypt: bool, out: &mut String) {
    let pool = cx.pool;
    let p = pool.with_cap(rng, C_KMS);
    let mut c = caller(pool, p, t);
    let acct = &pool.account;
    let region = cx.region;
    let key_arn = format!("arn:aws:kms:{region}:{acct}:key/{}", rng.pick(&pool.kms_keys));
    // A third of the calls are made on the caller's behalf by an AWS service.
    let via = if rng.below(3) == 0 {
        Some(*rng.pick(&["secretsmanager.amazonaws.com", "s3.amazonaws.com", "ssm.amazonaws.com"]))
    } else {
        None
    };
    let req = if decrypt {
        match via {
            Some("secretsmanager.amazonaws.com") => {
                let mut v = String::new();
                rng.push_uuid(&mut v);
                format!(
                    "{{\"encryptionContext\":{{\"SecretARN\":\"arn:aws:secretsmanager:{region}:{acct}:secret:{}\",\"SecretVersionId\":\"{v}\"}},\"encryptionAlgorithm\":\"SYMMETRIC_DEFAULT\"}}",
                    rng.pick(&pool.secrets)
                )
            }
            Some("ssm.amazonaws.com") => format!(
                "{{\"encryptionContext\":{{\"PARAMETER_ARN\":\"arn:aws:ssm:{region}:{acct}:parameter{}\"}},\"encryptionAlgorithm\":\"SYMMETRIC_DEFAULT\"}}",
                rng.pick(&PARAMS)
            ),
            _ => format!(
                "{{\"encryptionContext\":{{\"aws:lambda:FunctionArn\":\"arn:aws:lambda:{region}:{acct}:function:{}\"}},\"encryptionAlgorithm\":\"SYMMETRIC_DEFAULT\"}}",
                rng.pick(&FUNCTIONS)
            ),
        }
    } else {
        let mut obj = String::new();
        rng.push_hex(&mut obj, 12);
        format!(
            "{{\"keyId\":\"{key_arn}\",\"encryptionContext\":{{\"aws:s3:arn\":\"arn:aws:s3:::{}/uploads/2024/{obj}.parquet\"}},\"keySpec\":\"AES_256\"}}",
            rng.pick(&pool.buckets)
        )
    };
    let res = format!("[{{\"accountId\":\"{acct}\",\"type\":\"AWS::KMS::Key\",\"ARN\":\"{key_arn}\"}}]");
    if let Some(svc) = via {
        c.identity.pop();
        c.identity.push_str(",\"invokedBy\":\"");
        c.identity.push_str(svc);
        c.identity.push_str("\"}");
        c.ip = svc.to_string();
        c.agent = match svc {
            "s3.amazonaws.com" => "s3.amazonaws.com",
            "ssm.amazonaws.com" => "ssm.amazonaws.com",
            _ => "secretsmanager.amazonaws.com",
        };
    }
    let host = regional_host("kms", region);
    let mut r = base(
        cx,
        &c,
        t,
        "kms.amazonaws.com",
        if decrypt { "Decrypt" } else { "GenerateDataKey" },
        eid,
    );
    r.version = "1.08";
    r.request = Some(&req);
    r.request_id = Some(rid);
    r.resources = Some(&res);
    r.tls_host = if via.is_some() { None } else { Some(&host) };
    r.write(out);
}

fn ec2(rng: &mut Rng, cx: &Ctx, t: i64, eid: &str, rid: &str, out: &mut String) {
    let pool = cx.pool;
    let p = pool.with_cap(rng, C_EC2);
    let c = caller(pool, p, t);
    let (name, req) = match rng.below(7) {
        0 => (
            "DescribeInstances",
            "{\"instancesSet\":{},\"filterSet\":{}}".to_string(),
        ),
        1 => (
            "DescribeInstances",
            format!(
                "{{\"instancesSet\":{{\"items\":[{{\"instanceId\":\"{}\"}}]}},\"filterSet\":{{}}}}",
                rng.pick(&pool.instances)
            ),
        ),
        2 => (
            "DescribeSecurityGroups",
            format!(
                "{{\"securityGroupSet\":{{}},\"securityGroupIdSet\":{{}},\"filterSet\":{{\"items\":[{{\"name\":\"vpc-id\",\"valueSet\":{{\"items\":[{{\"value\":\"{}\"}}]}}}}]}}}}",
                rng.pick(&pool.vpcs)
            ),
        ),
        3 => (
            "DescribeVolumes",
            format!(
                "{{\"volumeSet\":{{\"items\":[{{\"volumeId\":\"{}\"}}]}},\"filterSet\":{{}}}}",
                rng.pick(&pool.volumes)
            ),
        ),
        4 => (
            "DescribeNetworkInterfaces",
            format!(
                "{{\"networkInterfaceIdSet\":{{}},\"filterSet\":{{\"items\":[{{\"name\":\"attachment.instance-id\",\"valueSet\":{{\"items\":[{{\"value\":\"{}\"}}]}}}}]}}}}",
                rng.pick(&pool.instances)
            ),
        ),
        5 => ("DescribeVpcs", "{\"vpcSet\":{},\"filterSet\":{}}".to_string()),
        _ => ("DescribeRegions", "{\"regionSet\":{},\"allRegions\":false}".to_string()),
    };
    let host = regional_host("ec2", cx.region);
    let mut r = base(cx, &c, t, "ec2.amazonaws.com", name, eid);
    r.request = Some(&req);
    r.request_id = Some(rid);
    r.tls_host = Some(&host);
    r.write(out);
}

fn s3(rng: &mut Rng, cx: &Ctx, t: i64, eid: &str, out: &mut String) {
    let pool = cx.pool;
    let p = pool.with_cap(rng, C_S3);
    let c = caller(pool, p, t);
    let bucket = rng.pick(&pool.buckets).clone();
    let (name, req, host, res) = match rng.below(5) {
        0 => (
            "ListBuckets",
            "{\"Host\":\"s3.amazonaws.com\"}".to_string(),
            "s3.amazonaws.com".to_string(),
            None,
        ),
        k => {
            let (name, sub) = match k {
                1 => ("GetBucketAcl", "acl"),
                2 => ("GetBucketLocation", "location"),
                3 => ("GetBucketVersioning", "versioning"),
                _ => ("GetBucketEncryption", "encryption"),
            };
            let host = format!("{bucket}.s3.{}.amazonaws.com", cx.region);
            (
                name,
                format!("{{\"bucketName\":\"{bucket}\",\"Host\":\"{host}\",\"{sub}\":\"\"}}"),
                host,
                Some(format!(
                    "[{{\"accountId\":\"{}\",\"type\":\"AWS::S3::Bucket\",\"ARN\":\"arn:aws:s3:::{bucket}\"}}]",
                    pool.account
                )),
            )
        }
    };
    let mut add = String::with_capacity(260);
    add.push_str("{\"SignatureVersion\":\"SigV4\",\"CipherSuite\":\"TLS_AES_128_GCM_SHA256\",\"bytesTransferredIn\":0,\"AuthenticationMethod\":\"AuthHeader\",\"x-amz-id-2\":\"");
    rng.push_b64(&mut add, 76);
    let _ = write!(add, "\",\"bytesTransferredOut\":{}}}", 200 + rng.below(4000));
    let mut rid = String::with_capacity(16);
    rng.push_chars(&mut rid, UPPER_ALNUM, 16);
    let mut r = base(cx, &c, t, "s3.amazonaws.com", name, eid);
    r.version = "1.09";
    r.request = Some(&req);
    r.additional = Some(&add);
    r.request_id = Some(&rid);
    r.resources = res.as_deref();
    r.tls_host = Some(&host);
    r.write(out);
}

fn lambda(rng: &mut Rng, cx: &Ctx, t: i64, eid: &str, rid: &str, out: &mut String) {
    let pool = cx.pool;
    let p = pool.with_cap(rng, C_LAMBDA);
    let c = caller(pool, p, t);
    let f = rng.pick(&FUNCTIONS);
    let (name, req) = match rng.below(3) {
        0 => ("ListFunctions20150331", None),
        1 => ("GetFunction20150331v2", Some(format!("{{\"functionName\":\"{f}\"}}"))),
        _ => (
            "ListEventSourceMappings20150331",
            Some(format!(
                "{{\"functionName\":\"arn:aws:lambda:{}:{}:function:{f}\"}}",
                cx.region, pool.account
            )),
        ),
    };
    let host = regional_host("lambda", cx.region);
    let mut r = base(cx, &c, t, "lambda.amazonaws.com", name, eid);
    r.version = "1.08";
    r.request = req.as_deref();
    r.request_id = Some(rid);
    r.tls_host = Some(&host);
    r.write(out);
}

fn logs(rng: &mut Rng, cx: &Ctx, t: i64, eid: &str, rid: &str, out: &mut String) {
    let pool = cx.pool;
    let stream = rng.below(2) == 0;
    let p = pool.with_cap(rng, if stream { C_LOGSTREAM } else { C_LOGS });
    let c = caller(pool, p, t);
    let (name, req, ro) = if stream {
        let mut s = String::new();
        let day = super::time::day_path(t);
        let group = match PRINCIPALS[p.def].sess {
            Sess::Fixed(f) => format!("/aws/lambda/{f}"),
            _ => LOG_GROUPS[0].to_string(),
        };
        let _ = write!(s, "{{\"logGroupName\":\"{group}\",\"logStreamName\":\"{day}/[$LATEST]");
        rng.push_hex(&mut s, 32);
        s.push_str("\"}");
        ("CreateLogStream", s, false)
    } else if rng.below(2) == 0 {
        ("DescribeLogGroups", "{\"limit\":50}".to_string(), true)
    } else {
        (
            "DescribeLogStreams",
            format!(
                "{{\"logGroupName\":\"{}\",\"orderBy\":\"LastEventTime\",\"descending\":true,\"limit\":10}}",
                rng.pick(&LOG_GROUPS)
            ),
            true,
        )
    };
    let host = regional_host("logs", cx.region);
    let mut r = base(cx, &c, t, "logs.amazonaws.com", name, eid);
    r.version = "1.09";
    r.request = Some(&req);
    r.request_id = Some(rid);
    r.read_only = ro;
    r.tls_host = Some(&host);
    r.write(out);
}

fn monitoring(rng: &mut Rng, cx: &Ctx, t: i64, eid: &str, rid: &str, out: &mut String) {
    let pool = cx.pool;
    let p = pool.with_cap(rng, C_MON);
    let c = caller(pool, p, t);
    let (name, req) = match rng.below(5) {
        0 | 1 => {
            let mut s = String::with_capacity(900);
            s.push_str("{\"metricDataQueries\":[");
            let n = 1 + rng.below(3);
            for q in 0..n {
                if q > 0 {
                    s.push(',');
                }
                let (ns, metric, dim, val) = match rng.below(3) {
                    0 => (
                        "AWS/EC2",
                        "CPUUtilization",
                        "InstanceId",
                        rng.pick(&pool.instances).clone(),
                    ),
                    1 => (
                        "AWS/Lambda",
                        "Duration",
                        "FunctionName",
                        rng.pick(&FUNCTIONS).to_string(),
                    ),
                    _ => (
                        "AWS/DynamoDB",
                        "ConsumedReadCapacityUnits",
                        "TableName",
                        rng.pick(&TABLES).to_string(),
                    ),
                };
                let _ = write!(
                    s,
                    "{{\"id\":\"m{q}\",\"metricStat\":{{\"metric\":{{\"namespace\":\"{ns}\",\"metricName\":\"{metric}\",\"dimensions\":[{{\"name\":\"{dim}\",\"value\":\"{val}\"}}]}},\"period\":60,\"stat\":\"Average\"}},\"returnData\":true}}"
                );
            }
            s.push_str("],\"startTime\":\"");
            push_java(&mut s, t - 600, true);
            s.push_str("\",\"endTime\":\"");
            push_java(&mut s, t, true);
            s.push_str("\"}");
            ("GetMetricData", s)
        }
        2 | 3 => ("DescribeAlarms", "{\"maxRecords\":100}".to_string()),
        _ => (
            "ListMetrics",
            format!(
                "{{\"namespace\":\"{}\"}}",
                rng.pick(&["AWS/EC2", "AWS/Lambda", "AWS/DynamoDB", "AWS/S3"])
            ),
        ),
    };
    let host = regional_host("monitoring", cx.region);
    let mut r = base(cx, &c, t, "monitoring.amazonaws.com", name, eid);
    r.version = "1.09";
    r.request = Some(&req);
    r.request_id = Some(rid);
    r.tls_host = Some(&host);
    r.tls12 = true;
    r.write(out);
}

fn ssm(rng: &mut Rng, cx: &Ctx, t: i64, eid: &str, rid: &str, out: &mut String) {
    let pool = cx.pool;
    let agent = rng.below(2) == 0;
    let p = pool.with_cap(rng, if agent { C_SSM_AGENT } else { C_SSM });
    let c = caller(pool, p, t);
    let region = cx.region;
    let (name, req, ro) = if agent {
        let inst = session_name(pool, p, session_start(p, t));
        let ip = format!("10.0.{}.{}", rng.below(256), 1 + rng.below(254));
        let az = ["a", "b", "c"][rng.index(3)];
        (
            "UpdateInstanceInformation",
            format!(
                "{{\"instanceId\":\"{inst}\",\"agentVersion\":\"3.3.40.0\",\"agentStatus\":\"Active\",\"platformType\":\"Linux\",\"platformName\":\"Amazon Linux\",\"platformVersion\":\"2023\",\"iPAddress\":\"{ip}\",\"computerName\":\"ip-{}.ec2.internal\",\"agentName\":\"amazon-ssm-agent\",\"availabilityZone\":\"{region}{az}\",\"sSMConnectionChannel\":\"ssmmessages\"}}",
                ip.replace('.', "-")
            ),
            false,
        )
    } else if rng.below(3) > 0 {
        (
            "GetParameter",
            format!("{{\"name\":\"{}\",\"withDecryption\":true}}", rng.pick(&PARAMS)),
            true,
        )
    } else {
        (
            "DescribeInstanceInformation",
            format!(
                "{{\"filters\":[{{\"key\":\"InstanceIds\",\"values\":[\"{}\"]}}]}}",
                rng.pick(&pool.instances)
            ),
            true,
        )
    };
    let host = regional_host("ssm", region);
    let mut r = base(cx, &c, t, "ssm.amazonaws.com", name, eid);
    r.version = "1.08";
    r.request = Some(&req);
    r.request_id = Some(rid);
    r.read_only = ro;
    r.tls_host = Some(&host);
    r.tls12 = agent;
    r.write(out);
}

fn dynamodb(rng: &mut Rng, cx: &Ctx, t: i64, eid: &str, rid: &str, out: &mut String) {
    let pool = cx.pool;
    let p = pool.with_cap(rng, C_DDB);
    let c = caller(pool, p, t);
    let table = rng.pick(&TABLES);
    let (name, req) = match rng.below(3) {
        0 => ("ListTables", None),
        1 => ("DescribeTable", Some(format!("{{\"tableName\":\"{table}\"}}"))),
        _ => (
            "DescribeContinuousBackups",
            Some(format!("{{\"tableName\":\"{table}\"}}")),
        ),
    };
    let res = req.as_ref().map(|_| {
        format!(
            "[{{\"accountId\":\"{}\",\"type\":\"AWS::DynamoDB::Table\",\"ARN\":\"arn:aws:dynamodb:{}:{}:table/{table}\"}}]",
            pool.account, cx.region, pool.account
        )
    });
    let host = regional_host("dynamodb", cx.region);
    let mut r = base(cx, &c, t, "dynamodb.amazonaws.com", name, eid);
    r.version = "1.08";
    r.request = req.as_deref();
    r.request_id = Some(rid);
    r.resources = res.as_deref();
    r.tls_host = Some(&host);
    r.write(out);
}

fn iam_read(rng: &mut Rng, cx: &Ctx, t: i64, eid: &str, rid: &str, out: &mut String) {
    let pool = cx.pool;
    let p = pool.with_cap(rng, C_IAM);
    let c = caller(pool, p, t);
    let human = &pool.principals[*rng.pick(&pool.humans)];
    // Console users look at their own user page; others list broadly.
    let subject = if p.kind == Kind::Human { p.name } else { human.name };
    let role = pool.principals[rng.index(pool.principals.len())].name;
    let (name, req) = match rng.below(7) {
        0 => ("GetUser", Some(format!("{{\"userName\":\"{subject}\"}}"))),
        1 => ("ListMFADevices", Some(format!("{{\"userName\":\"{subject}\"}}"))),
        2 => ("ListRoles", None),
        3 => ("GetRole", Some(format!("{{\"roleName\":\"{role}\"}}"))),
        4 => ("ListAttachedRolePolicies", Some(format!("{{\"roleName\":\"{role}\"}}"))),
        5 => (
            "ListPolicies",
            Some("{\"scope\":\"Local\",\"onlyAttached\":false}".to_string()),
        ),
        _ => ("GetAccountSummary", None),
    };
    let mut r = base(cx, &c, t, "iam.amazonaws.com", name, eid);
    r.region = US_EAST_1;
    r.request = req.as_deref();
    r.request_id = Some(rid);
    r.tls_host = Some("iam.amazonaws.com");
    r.write(out);
}

fn console_login(rng: &mut Rng, cx: &Ctx, t: i64, eid: &str, success: bool, out: &mut String) {
    let pool = cx.pool;
    let p = &pool.principals[*rng.pick(&pool.humans)];
    let identity = shapes::login_identity(&pool.account, &p.pid, p.name, success);
    // Background humans always use MFA when they get in; a failure here is a wrong password,
    // stopped before the MFA step (MFAUsed "No").
    let add = shapes::login_additional(if success { Some(&p.serial) } else { None });
    let mut r = Rec::api(&identity, t, "signin.amazonaws.com", "ConsoleLogin");
    r.version = "1.08";
    r.ip = &p.ip;
    r.agent = p.console_ua;
    r.event_type = "AwsConsoleSignIn";
    r.read_only = false;
    r.event_id = eid;
    r.recipient = &pool.account;
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
    r.write(out);
}

fn get_session_token(rng: &mut Rng, cx: &Ctx, t: i64, eid: &str, rid: &str, out: &mut String) {
    let pool = cx.pool;
    let p = pool.with_cap(rng, C_GST);
    let identity = shapes::user_longterm_identity(&pool.account, &p.pid, p.name, &p.key);
    let mut req = String::with_capacity(100);
    req.push_str("{\"durationSeconds\":43200,\"serialNumber\":");
    push_json_str(&mut req, &p.serial);
    req.push('}');
    let mut resp = String::with_capacity(800);
    resp.push('{');
    let len = 300 + rng.below(120) as usize;
    push_credentials(rng, &mut resp, t + 43_200, len);
    resp.push('}');
    let agent = format!("{UA_CLI} command/sts.get-session-token");
    let mut r = Rec::api(&identity, t, "sts.amazonaws.com", "GetSessionToken");
    r.version = "1.08";
    r.ip = &p.ip;
    r.agent = &agent;
    r.request = Some(&req);
    r.response = Some(&resp);
    r.request_id = Some(rid);
    r.event_id = eid;
    r.recipient = &pool.account;
    r.tls_host = Some("sts.amazonaws.com");
    r.write(out);
}

/// A denial no MFA condition caused: the caller simply lacks an Allow.
fn plain_denial(rng: &mut Rng, cx: &Ctx, t: i64, eid: &str, rid: &str, out: &mut String) {
    let pool = cx.pool;
    let p = pool.with_cap(rng, C_DENY);
    let c = caller(pool, p, t);
    let acct = &pool.account;
    let region = cx.region;
    let east = region == US_EAST_1;
    let pick = if east { rng.below(6) } else { rng.below(4) };
    let bucket = rng.pick(&pool.buckets);
    let (source, name, action, resource, code, req) = match pick {
        0 => (
            "dynamodb.amazonaws.com",
            "DescribeTable",
            "dynamodb:DescribeTable",
            format!("arn:aws:dynamodb:{region}:{acct}:table/{}", rng.pick(&TABLES)),
            "AccessDeniedException",
            None,
        ),
        1 => (
            "kms.amazonaws.com",
            "ListAliases",
            "kms:ListAliases",
            "*".to_string(),
            "AccessDeniedException",
            None,
        ),
        2 => (
            "lambda.amazonaws.com",
            "GetFunction20150331v2",
            "lambda:GetFunction",
            format!("arn:aws:lambda:{region}:{acct}:function:{}", rng.pick(&FUNCTIONS)),
            "AccessDeniedException",
            None,
        ),
        3 => (
            "s3.amazonaws.com",
            "GetBucketPolicy",
            "s3:GetBucketPolicy",
            format!("arn:aws:s3:::{bucket}"),
            "AccessDenied",
            Some(format!(
                "{{\"bucketName\":\"{bucket}\",\"Host\":\"{bucket}.s3.{region}.amazonaws.com\",\"policy\":\"\"}}"
            )),
        ),
        4 => (
            "iam.amazonaws.com",
            "ListUsers",
            "iam:ListUsers",
            format!("arn:aws:iam::{acct}:user/"),
            "AccessDenied",
            None,
        ),
        _ => (
            "iam.amazonaws.com",
            "GetAccountAuthorizationDetails",
            "iam:GetAccountAuthorizationDetails",
            "*".to_string(),
            "AccessDenied",
            Some("{\"filter\":[\"User\",\"Role\",\"Group\",\"LocalManagedPolicy\"]}".to_string()),
        ),
    };
    let msg = denial_message(&c.arn, action, &resource, false, false);
    let req = req.or_else(|| match name {
        "DescribeTable" => Some(format!(
            "{{\"tableName\":\"{}\"}}",
            resource.rsplit('/').next().unwrap_or("orders")
        )),
        "GetFunction20150331v2" => Some(format!(
            "{{\"functionName\":\"{}\"}}",
            resource.rsplit(':').next().unwrap_or("orders-api")
        )),
        _ => None,
    });
    let host = if source == "iam.amazonaws.com" {
        "iam.amazonaws.com".to_string()
    } else {
        regional_host(source.trim_end_matches(".amazonaws.com"), region)
    };
    let mut r = base(cx, &c, t, source, name, eid);
    r.region = if source == "iam.amazonaws.com" {
        US_EAST_1
    } else {
        region
    };
    r.error_code = Some(code);
    r.error_message = Some(&msg);
    r.request = req.as_deref();
    r.request_id = Some(rid);
    r.tls_host = Some(&host);
    r.write(out);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn background_records_parse_and_never_fail_mfa() {
        let pool = Pool::new(7, "123456789012");
        let mut rng = Rng::new(99);
        for region in ["us-east-1", "us-west-2", "eu-west-1"] {
            let cx = Ctx { pool: &pool, region };
            for i in 0..3000 {
                let mut s = String::new();
                write_record(&mut rng, &cx, 1_700_000_000 + i, &mut s);
                let v: serde_json::Value = serde_json::from_str(&s).expect("valid record JSON");
                let msg = v["errorMessage"].as_str().unwrap_or("");
                assert!(!msg.contains("explicit deny"), "{s}");
                assert!(!msg.contains("MultiFactorAuthentication"), "{s}");
                if v["eventName"] == "ConsoleLogin" && v["responseElements"]["ConsoleLogin"] == "Failure" {
                    assert_eq!(v["additionalEventData"]["MFAUsed"], "No");
                }
                if region != "us-east-1" {
                    let src = v["eventSource"].as_str().unwrap_or("");
                    assert!(
                        !["iam.amazonaws.com", "sts.amazonaws.com", "signin.amazonaws.com"].contains(&src),
                        "{s}"
                    );
                }
                if v["eventName"] == "AssumeRole" {
                    assert!(v["requestParameters"].get("serialNumber").is_none());
                }
            }
        }
    }
}
