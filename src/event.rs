//! The event model: one kept CloudTrail event (`EventRow`), its class and
//! outcome, the principals it is about, and a plain time range.
//!
//! This module is the leaf of the crate: it imports nothing of mfatrail, so
//! every stage (parse, frame, index, rules, report) can share it without
//! cycles. Data flows one way: source → decode → parse → frame/index → rules
//! → report (`scripts/check-layers.sh` enforces it).

use serde::{Serialize, Serializer};

/// Milliseconds since the Unix epoch, UTC.
pub type Millis = i64;

pub const SECOND: Millis = 1_000;
pub const MINUTE: Millis = 60 * SECOND;
pub const HOUR: Millis = 60 * MINUTE;

/// The user name CloudTrail writes when the name typed at sign-in does not exist.
pub const HIDDEN_USER: &str = "HIDDEN_DUE_TO_SECURITY_REASONS";
/// `requestParameters.userName` of IAM calls on the root user's MFA device.
pub const ROOT_USER_PARAM: &str = "AWS ROOT USER";
/// Principal name of the root user.
pub const ROOT: &str = "root";

/// RFC 3339 with a `Z`, second precision unless milliseconds are present.
pub fn format_millis(ms: Millis) -> String {
    match chrono::DateTime::from_timestamp_millis(ms) {
        Some(dt) if ms % 1000 == 0 => dt.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        Some(dt) => dt.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        None => format!("@{ms}ms"),
    }
}

/// Lower-cased (ASCII): IAM user, group and role names are unique case-insensitively.
pub fn lc(s: &str) -> String {
    s.to_ascii_lowercase()
}

/// The account of an ARN (`arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`), when it names a
/// 12-digit account.
pub fn arn_account(arn: &str) -> Option<&str> {
    let acct = arn.strip_prefix("arn:")?.split(':').nth(3)?;
    (acct.len() == 12 && acct.bytes().all(|b| b.is_ascii_digit())).then_some(acct)
}

/// The last path segment of an ARN's resource (`…:role/path/Admin` → `Admin`), or the text
/// itself when it is not an ARN.
pub fn arn_name(s: &str) -> &str {
    let resource = match s.strip_prefix("arn:") {
        Some(rest) => rest.splitn(5, ':').nth(4).unwrap_or(rest),
        None => s,
    };
    resource.rsplit('/').next().unwrap_or(resource)
}

/// An inclusive time range; `None` ends are open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TimeRange {
    pub since: Option<Millis>,
    pub until: Option<Millis>,
}

impl TimeRange {
    pub const OPEN: TimeRange = TimeRange {
        since: None,
        until: None,
    };

    pub fn between(since: Millis, until: Millis) -> TimeRange {
        TimeRange {
            since: Some(since),
            until: Some(until),
        }
    }

    pub fn contains(&self, t: Millis) -> bool {
        self.since.is_none_or(|s| t >= s) && self.until.is_none_or(|e| t <= e)
    }
}

/// IAM user names (and role and group names) are unique case-insensitively
/// within an account.
pub fn same_user(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// What a kept record says (DESIGN §5). Everything else is counted and dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventClass {
    /// A failed MFA step that is about the code or the device: STS GetSessionToken/AssumeRole
    /// failing on MultiFactorAuthentication (or GetSessionToken denied with a serial given),
    /// CheckMfa failure, a console sign-in failure that names the device.
    MfaFailure,
    /// A console sign-in failure of a user with MFA (MFAUsed=Yes) that names no device:
    /// CloudTrail does not say whether the password or the code was wrong.
    ConsoleFailureAmbiguous,
    /// A successful MFA step (console MFAUsed=Yes, CheckMfa, STS with a serial).
    MfaSuccess,
    /// Console sign-in failing at the password stage (MFAUsed=No).
    LoginFailure,
    /// IAM user or root console sign-in that succeeded without MFA.
    LoginSuccessNoMfa,
    /// Console sign-in of a role, SSO or federated principal: no MFA information.
    FederatedLogin,
    /// Explicit deny in an identity-based policy (or an untyped explicit deny) for an IAM user
    /// or root without MFA (mfaAuthenticated=false, or long-term AKIA keys).
    MfaRequiredDenied,
    /// The same kind of deny for a caller whose session had MFA (MultiFactorAuthAge, or unrelated).
    ExplicitDenyWithMfa,
    /// An explicit deny from a service control, resource control, resource-based, permissions
    /// boundary or session policy, or for a caller whose MFA state is unknown (role sessions):
    /// counted, never evidence of an MFA requirement.
    ExplicitDenyOther,
    /// sts:AssumeRole denied by the role's trust policy (no MFA text): an MFA failure only when
    /// the trust policy known at that time requires MFA.
    AssumeRoleDenied,
    /// IAM Identity Center sign-in: a failed credential verification (password or MFA).
    IdentityCenterFailure,
    /// IAM Identity Center sign-in: a successful credential verification or user authentication.
    IdentityCenterSuccess,
    DeviceCreated,
    DeviceEnabled,
    DeviceDeactivated,
    DeviceDeleted,
    DeviceResynced,
    /// IAM policy, trust policy or group membership change (failed calls keep outcome=Failure).
    PolicyChange,
    /// iam:CreateUser: the user's history starts in the data read.
    UserCreated,
}

impl EventClass {
    pub const ALL: [EventClass; 19] = [
        EventClass::MfaFailure,
        EventClass::ConsoleFailureAmbiguous,
        EventClass::MfaSuccess,
        EventClass::LoginFailure,
        EventClass::LoginSuccessNoMfa,
        EventClass::FederatedLogin,
        EventClass::MfaRequiredDenied,
        EventClass::ExplicitDenyWithMfa,
        EventClass::ExplicitDenyOther,
        EventClass::AssumeRoleDenied,
        EventClass::IdentityCenterFailure,
        EventClass::IdentityCenterSuccess,
        EventClass::DeviceCreated,
        EventClass::DeviceEnabled,
        EventClass::DeviceDeactivated,
        EventClass::DeviceDeleted,
        EventClass::DeviceResynced,
        EventClass::PolicyChange,
        EventClass::UserCreated,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventClass::MfaFailure => "mfa_failure",
            EventClass::ConsoleFailureAmbiguous => "console_failure_ambiguous",
            EventClass::MfaSuccess => "mfa_success",
            EventClass::LoginFailure => "login_failure",
            EventClass::LoginSuccessNoMfa => "login_success_no_mfa",
            EventClass::FederatedLogin => "federated_login",
            EventClass::MfaRequiredDenied => "mfa_required_denied",
            EventClass::ExplicitDenyWithMfa => "explicit_deny_with_mfa",
            EventClass::ExplicitDenyOther => "explicit_deny_other",
            EventClass::AssumeRoleDenied => "assume_role_denied",
            EventClass::IdentityCenterFailure => "identity_center_failure",
            EventClass::IdentityCenterSuccess => "identity_center_success",
            EventClass::DeviceCreated => "device_created",
            EventClass::DeviceEnabled => "device_enabled",
            EventClass::DeviceDeactivated => "device_deactivated",
            EventClass::DeviceDeleted => "device_deleted",
            EventClass::DeviceResynced => "device_resynced",
            EventClass::PolicyChange => "policy_change",
            EventClass::UserCreated => "user_created",
        }
    }

    pub fn parse(s: &str) -> Option<EventClass> {
        EventClass::ALL.into_iter().find(|c| c.as_str() == s)
    }

    pub fn is_device(self) -> bool {
        matches!(
            self,
            EventClass::DeviceCreated
                | EventClass::DeviceEnabled
                | EventClass::DeviceDeactivated
                | EventClass::DeviceDeleted
                | EventClass::DeviceResynced
        )
    }

    /// A failed MFA attempt of the caller (certain or ambiguous console).
    pub fn is_mfa_attempt_failure(self) -> bool {
        matches!(self, EventClass::MfaFailure | EventClass::ConsoleFailureAmbiguous)
    }
}

/// The policy type an explicit-deny message names (`… with an explicit deny in a service
/// control policy`). Only identity-based policies (and older messages that name no type) can be
/// an MFA requirement of the caller's own policies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DenyKind {
    Identity,
    Scp,
    Rcp,
    Resource,
    Boundary,
    Session,
    Vpce,
    Trust,
    /// "with an explicit deny" and nothing after it (older messages).
    Untyped,
    /// A type this mfatrail does not know.
    Other,
    /// An AccessDenied that is not an explicit deny ("no identity-based policy allows").
    None,
}

impl DenyKind {
    pub const ALL: [DenyKind; 11] = [
        DenyKind::Identity,
        DenyKind::Scp,
        DenyKind::Rcp,
        DenyKind::Resource,
        DenyKind::Boundary,
        DenyKind::Session,
        DenyKind::Vpce,
        DenyKind::Trust,
        DenyKind::Untyped,
        DenyKind::Other,
        DenyKind::None,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            DenyKind::Identity => "identity",
            DenyKind::Scp => "scp",
            DenyKind::Rcp => "rcp",
            DenyKind::Resource => "resource",
            DenyKind::Boundary => "boundary",
            DenyKind::Session => "session",
            DenyKind::Vpce => "vpce",
            DenyKind::Trust => "trust",
            DenyKind::Untyped => "untyped",
            DenyKind::Other => "other",
            DenyKind::None => "none",
        }
    }
    pub fn parse(s: &str) -> Option<DenyKind> {
        DenyKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
    /// The caller's identity-based policies (or an untyped older message): the only denies
    /// that can be the caller's MFA requirement.
    pub fn is_identity(self) -> bool {
        matches!(self, DenyKind::Identity | DenyKind::Untyped)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Outcome {
    Success,
    Failure,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "Success",
            Outcome::Failure => "Failure",
        }
    }
    pub fn parse(s: &str) -> Option<Outcome> {
        match s {
            "Success" => Some(Outcome::Success),
            "Failure" => Some(Outcome::Failure),
            _ => None,
        }
    }
}

/// Which kind of principal an event is about. The MFA-device rules are about IAM users and root.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PrincipalKind {
    IamUser,
    Root,
    /// An assumed-role session: the role and the session name, never "a user".
    RoleSession,
    /// An IAM Identity Center user: not an IAM user (its MFA lives in Identity Center).
    IdentityCenterUser,
}

impl PrincipalKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PrincipalKind::IamUser => "iam_user",
            PrincipalKind::Root => "root",
            PrincipalKind::RoleSession => "role_session",
            PrincipalKind::IdentityCenterUser => "identity_center_user",
        }
    }
    /// IAM users and root own MFA devices that CloudTrail shows.
    pub fn has_iam_devices(self) -> bool {
        matches!(self, PrincipalKind::IamUser | PrincipalKind::Root)
    }
}

/// A principal: names are unique (case-insensitively) only within an account and a kind.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Principal {
    pub kind: PrincipalKind,
    /// The account the principal lives in ("" when the data does not say).
    pub account: String,
    /// User name, `root`, `role/session`, or the Identity Center user name, as first seen.
    pub name: String,
}

impl Principal {
    pub fn new(kind: PrincipalKind, account: &str, name: &str) -> Principal {
        Principal {
            kind,
            account: account.to_owned(),
            name: name.to_owned(),
        }
    }
    /// The key that identifies the principal (case-insensitive name).
    pub fn key(&self) -> PrincipalKey {
        PrincipalKey {
            kind: self.kind,
            account: self.account.clone(),
            name: self.name.to_ascii_lowercase(),
        }
    }
    /// The name a human recognises, with the account when it is known.
    pub fn label(&self) -> String {
        if self.account.is_empty() {
            self.name.clone()
        } else {
            format!("{} ({})", self.name, self.account)
        }
    }
}

/// Identity of a principal for maps: kind, account and lower-cased name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PrincipalKey {
    pub kind: PrincipalKind,
    pub account: String,
    pub name: String,
}

/// One kept event: a row of the frame (DESIGN §4).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventRow {
    #[serde(serialize_with = "ser_time")]
    pub event_time: Millis,
    pub event_source: String,
    pub event_name: String,
    pub class: EventClass,
    pub outcome: Outcome,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub identity_type: Option<String>,
    /// IAM user (or Identity Center user) name; `root` for root; None for role sessions.
    pub user_name: Option<String>,
    /// AssumedRole: the role (session issuer) and the session name.
    pub role_name: Option<String>,
    pub session_name: Option<String>,
    pub principal_arn: Option<String>,
    pub account_id: Option<String>,
    pub access_key_id: Option<String>,
    pub recipient_account_id: Option<String>,
    pub aws_region: Option<String>,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
    pub mfa_used: Option<bool>,
    pub mfa_authenticated: Option<bool>,
    /// The IAM user an IAM call acts on (requestParameters.userName; `root` for the root user).
    pub target_user: Option<String>,
    /// The role an STS or IAM call acts on (AssumeRole's roleArn, or the role name of IAM role calls).
    pub target_role: Option<String>,
    pub mfa_serial: Option<String>,
    /// MfaType of CheckMfa, CredentialType of Identity Center sign-in steps.
    pub credential_type: Option<String>,
    /// Denies: the action named by the message (`s3:ListAllMyBuckets`).
    pub denied_action: Option<String>,
    /// Denies: the policy type the message names (identity, scp, rcp, resource, boundary,
    /// session) or `untyped` for messages that name none.
    pub deny_policy: Option<String>,
    pub policy_arn: Option<String>,
    pub group_name: Option<String>,
    pub policy_name: Option<String>,
    pub policy_document: Option<String>,
    pub policy_version: Option<String>,
    pub set_as_default: Option<bool>,
    pub event_id: String,
    pub request_id: Option<String>,
    pub source_object: String,
}

fn ser_time<S: Serializer>(t: &Millis, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_millis(*t))
}

/// Serializes a time as RFC 3339 text (for `#[serde(serialize_with)]`).
pub fn serialize_millis<S: Serializer>(t: &Millis, s: S) -> Result<S::Ok, S::Error> {
    ser_time(t, s)
}

impl EventRow {
    /// The account the event belongs to: the recipient (owner of the trail data), else the caller's.
    pub fn account(&self) -> Option<&str> {
        self.recipient_account_id
            .as_deref()
            .or(self.account_id.as_deref())
            .filter(|a| !a.is_empty())
    }

    /// The caller's account (its principal lives there), else the recipient.
    pub fn caller_account(&self) -> &str {
        self.account_id
            .as_deref()
            .filter(|a| !a.is_empty())
            .or(self.account())
            .unwrap_or("")
    }

    pub fn succeeded(&self) -> bool {
        self.outcome == Outcome::Success
    }

    /// The policy type a deny names (None: not a deny).
    pub fn deny_kind(&self) -> Option<DenyKind> {
        self.deny_policy.as_deref().and_then(DenyKind::parse)
    }

    /// Who made the call (None for services, federated users and masked user names).
    pub fn actor(&self) -> Option<Principal> {
        let acct = self.caller_account();
        let named = |kind, n: &str| (!n.is_empty() && n != HIDDEN_USER).then(|| Principal::new(kind, acct, n));
        match self.identity_type.as_deref() {
            Some("Root") => Some(Principal::new(PrincipalKind::Root, acct, ROOT)),
            Some("AssumedRole") => {
                let role = self.role_name.as_deref()?;
                let name = match &self.session_name {
                    Some(s) => format!("{role}/{s}"),
                    None => role.to_owned(),
                };
                named(PrincipalKind::RoleSession, &name)
            }
            Some("IdentityCenterUser") => named(PrincipalKind::IdentityCenterUser, self.user_name.as_deref()?),
            // Identity Center sign-in steps carry the user as "Unknown" (older shape).
            Some("Unknown")
                if matches!(
                    self.class,
                    EventClass::IdentityCenterFailure | EventClass::IdentityCenterSuccess
                ) =>
            {
                named(PrincipalKind::IdentityCenterUser, self.user_name.as_deref()?)
            }
            Some("IAMUser") | None => named(PrincipalKind::IamUser, self.user_name.as_deref()?),
            _ => None,
        }
    }

    /// The IAM user (or root) an IAM management call acts on.
    pub fn subject(&self) -> Option<Principal> {
        let t = self.target_user.as_deref()?;
        let acct = self.account().unwrap_or("");
        if t == ROOT {
            return Some(Principal::new(PrincipalKind::Root, acct, ROOT));
        }
        (!t.is_empty()).then(|| Principal::new(PrincipalKind::IamUser, acct, t))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub const ACCT: &str = "111122223333";

    /// A minimal event for rule and index tests: time in minutes, an IAM user caller.
    pub fn ev(min: i64, class: EventClass, user: Option<&str>, target: Option<&str>, serial: Option<&str>) -> EventRow {
        let failure = matches!(
            class,
            EventClass::MfaFailure
                | EventClass::ConsoleFailureAmbiguous
                | EventClass::MfaRequiredDenied
                | EventClass::ExplicitDenyWithMfa
                | EventClass::ExplicitDenyOther
                | EventClass::AssumeRoleDenied
                | EventClass::LoginFailure
        );
        let source = match class {
            EventClass::MfaFailure | EventClass::MfaSuccess => "sts.amazonaws.com",
            EventClass::ConsoleFailureAmbiguous
            | EventClass::LoginFailure
            | EventClass::LoginSuccessNoMfa
            | EventClass::FederatedLogin => "signin.amazonaws.com",
            EventClass::MfaRequiredDenied | EventClass::ExplicitDenyWithMfa | EventClass::ExplicitDenyOther => {
                "s3.amazonaws.com"
            }
            _ => "iam.amazonaws.com",
        };
        let name = match class {
            EventClass::MfaFailure | EventClass::MfaSuccess => "GetSessionToken",
            EventClass::DeviceCreated => "CreateVirtualMFADevice",
            EventClass::DeviceEnabled => "EnableMFADevice",
            EventClass::DeviceDeactivated => "DeactivateMFADevice",
            EventClass::DeviceDeleted => "DeleteVirtualMFADevice",
            EventClass::DeviceResynced => "ResyncMFADevice",
            EventClass::UserCreated => "CreateUser",
            c if source == "signin.amazonaws.com" => {
                let _ = c;
                "ConsoleLogin"
            }
            EventClass::MfaRequiredDenied | EventClass::ExplicitDenyWithMfa | EventClass::ExplicitDenyOther => {
                "ListBuckets"
            }
            c => c.as_str(),
        };
        let is_deny = matches!(
            class,
            EventClass::MfaRequiredDenied | EventClass::ExplicitDenyWithMfa | EventClass::ExplicitDenyOther
        );
        EventRow {
            event_time: min * 60_000,
            event_source: source.into(),
            event_name: name.into(),
            class,
            outcome: if failure { Outcome::Failure } else { Outcome::Success },
            error_code: None,
            error_message: None,
            identity_type: Some("IAMUser".into()),
            user_name: user.map(Into::into),
            role_name: None,
            session_name: None,
            principal_arn: None,
            account_id: Some(ACCT.into()),
            access_key_id: None,
            recipient_account_id: Some(ACCT.into()),
            aws_region: Some("us-east-1".into()),
            source_ip: None,
            user_agent: None,
            mfa_used: None,
            mfa_authenticated: None,
            target_user: target.map(Into::into),
            target_role: None,
            mfa_serial: serial.map(Into::into),
            credential_type: None,
            denied_action: is_deny.then(|| "s3:ListAllMyBuckets".into()),
            deny_policy: is_deny.then(|| "identity".into()),
            policy_arn: None,
            group_name: None,
            policy_name: None,
            policy_document: None,
            policy_version: None,
            set_as_default: None,
            event_id: format!("e{min}-{}", class.as_str()),
            request_id: None,
            source_object: "t.json".into(),
        }
    }

    fn row(identity: &str) -> EventRow {
        EventRow {
            event_time: 0,
            event_source: "signin.amazonaws.com".into(),
            event_name: "ConsoleLogin".into(),
            class: EventClass::MfaFailure,
            outcome: Outcome::Failure,
            error_code: None,
            error_message: None,
            identity_type: Some(identity.into()),
            user_name: Some("Alice".into()),
            role_name: None,
            session_name: None,
            principal_arn: None,
            account_id: Some("111122223333".into()),
            access_key_id: None,
            recipient_account_id: Some("111122223333".into()),
            aws_region: None,
            source_ip: None,
            user_agent: None,
            mfa_used: None,
            mfa_authenticated: None,
            target_user: None,
            target_role: None,
            mfa_serial: None,
            credential_type: None,
            denied_action: None,
            deny_policy: None,
            policy_arn: None,
            group_name: None,
            policy_name: None,
            policy_document: None,
            policy_version: None,
            set_as_default: None,
            event_id: "e".into(),
            request_id: None,
            source_object: "f#0".into(),
        }
    }

    #[test]
    fn principals_are_per_account_and_kind() {
        let a = row("IAMUser").actor().unwrap();
        assert_eq!(a.kind, PrincipalKind::IamUser);
        assert_eq!(
            a.key(),
            Principal::new(PrincipalKind::IamUser, "111122223333", "alice").key()
        );
        assert_ne!(
            a.key(),
            Principal::new(PrincipalKind::IamUser, "444455556666", "alice").key()
        );
        let mut r = row("Root");
        r.user_name = None;
        assert_eq!(r.actor().unwrap().name, ROOT);
        let mut s = row("AssumedRole");
        s.user_name = None;
        s.role_name = Some("GitHubActionsDeploy".into());
        s.session_name = Some("run-42".into());
        let p = s.actor().unwrap();
        assert_eq!(
            (p.kind, p.name.as_str()),
            (PrincipalKind::RoleSession, "GitHubActionsDeploy/run-42")
        );
        let mut h = row("IAMUser");
        h.user_name = Some(HIDDEN_USER.into());
        assert_eq!(h.actor(), None);
        let mut t = row("IAMUser");
        t.target_user = Some(ROOT.into());
        assert_eq!(t.subject().unwrap().kind, PrincipalKind::Root);
    }

    #[test]
    fn arns() {
        assert_eq!(arn_account("arn:aws:iam::111122223333:mfa/alice"), Some("111122223333"));
        assert_eq!(arn_account("arn:aws:iam::1:mfa/alice"), None);
        assert_eq!(arn_account("GAHT12345678"), None);
        assert_eq!(arn_name("arn:aws:iam::111122223333:role/ops/Admin"), "Admin");
        assert_eq!(arn_name("Admin"), "Admin");
        assert_eq!(arn_name("arn:aws:iam::111122223333:root"), "root");
    }

    #[test]
    fn classes_round_trip_and_ranges() {
        for c in EventClass::ALL {
            assert_eq!(EventClass::parse(c.as_str()), Some(c));
        }
        let r = TimeRange::between(10, 20);
        assert!(r.contains(10) && r.contains(20) && !r.contains(21));
        assert!(TimeRange::OPEN.contains(i64::MIN));
        assert_eq!(format_millis(1_500), "1970-01-01T00:00:01.500Z");
    }
}
