//! Event classes (DESIGN §5): which records are MFA-relevant and what they
//! say. Everything else is counted and dropped.

use serde::Serialize;

use super::record::Record;
use crate::time::{Millis, parse_event_time};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventClass {
    /// A failed MFA step: console sign-in with MFAUsed=Yes, CheckMfa failure,
    /// STS call failing on MultiFactorAuthentication or with a serial given.
    MfaFailure,
    /// A successful MFA step (console MFAUsed=Yes, CheckMfa, STS with serial).
    MfaSuccess,
    /// Console sign-in failing at the password stage.
    LoginFailure,
    /// IAM user console sign-in that succeeded without MFA.
    LoginSuccessNoMfa,
    /// Console sign-in of a federated/SSO/role principal: no MFA information.
    FederatedLogin,
    /// Explicit deny for a caller without MFA (mfaAuthenticated=false or AKIA keys).
    MfaRequiredDenied,
    /// Explicit deny for a caller whose session had MFA.
    ExplicitDenyWithMfa,
    DeviceCreated,
    DeviceEnabled,
    DeviceDeactivated,
    DeviceDeleted,
    DeviceResynced,
    /// IAM policy / group membership change (failed calls keep outcome=Failure).
    PolicyChange,
    /// iam:CreateUser: lets D3 know a user was created in the data read.
    UserCreated,
}

impl EventClass {
    pub const ALL: [EventClass; 14] = [
        EventClass::MfaFailure,
        EventClass::MfaSuccess,
        EventClass::LoginFailure,
        EventClass::LoginSuccessNoMfa,
        EventClass::FederatedLogin,
        EventClass::MfaRequiredDenied,
        EventClass::ExplicitDenyWithMfa,
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
            EventClass::MfaSuccess => "mfa_success",
            EventClass::LoginFailure => "login_failure",
            EventClass::LoginSuccessNoMfa => "login_success_no_mfa",
            EventClass::FederatedLogin => "federated_login",
            EventClass::MfaRequiredDenied => "mfa_required_denied",
            EventClass::ExplicitDenyWithMfa => "explicit_deny_with_mfa",
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
    pub user_name: Option<String>,
    pub principal_arn: Option<String>,
    pub account_id: Option<String>,
    pub access_key_id: Option<String>,
    pub recipient_account_id: Option<String>,
    pub aws_region: Option<String>,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
    pub mfa_used: Option<bool>,
    pub mfa_authenticated: Option<bool>,
    pub target_user: Option<String>,
    pub mfa_serial: Option<String>,
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

fn ser_time<S: serde::Serializer>(t: &Millis, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&crate::time::format_millis(*t))
}

impl EventRow {
    /// The account the event belongs to: the recipient (owner of the trail
    /// data), else the caller's.
    pub fn account(&self) -> Option<&str> {
        self.recipient_account_id.as_deref().or(self.account_id.as_deref())
    }
    pub fn succeeded(&self) -> bool {
        self.outcome == Outcome::Success
    }
}

/// Error codes that mean "access denied" across service protocols.
pub fn is_denial_code(code: &str) -> bool {
    code.contains("AccessDenied") || code.contains("UnauthorizedOperation") || code == "UnauthorizedAccess"
}

fn yes(s: Option<&str>) -> Option<bool> {
    let s = s?.trim();
    if s.eq_ignore_ascii_case("yes") || s.eq_ignore_ascii_case("true") {
        Some(true)
    } else if s.eq_ignore_ascii_case("no") || s.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

fn owned(s: &super::record::Str) -> Option<String> {
    s.get().map(str::to_owned)
}

/// Why a parsed record could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reject {
    /// Not MFA-relevant: counted and dropped.
    Irrelevant,
    /// Relevant, but without a usable eventTime (missing or unreadable).
    NoTime(String),
}

/// Classifies a record; `Ok(row)` when it is kept.
pub fn classify(r: &Record, source_object: &str) -> Result<EventRow, Reject> {
    let source = r.event_source.get().unwrap_or("");
    let name = r.event_name.get().unwrap_or("");
    let err_code = r.error_code.get();
    let err_msg = r.error_message.get();
    let ident = &r.user_identity;
    let id_type = ident.kind.get();
    let mfa_auth = yes(ident.session_context.attributes.mfa_authenticated.get());
    let access_key = ident.access_key_id.get();
    let req = &r.request;
    let serial_req = req.serial_number.get().filter(|s| !s.is_empty());
    let failed = err_code.is_some() || err_msg.is_some();

    let (class, outcome) = match (source, name) {
        ("signin.amazonaws.com", "ConsoleLogin") => {
            let outcome = match r.response.console_login.get() {
                Some(s) if s.eq_ignore_ascii_case("success") => Outcome::Success,
                Some(_) => Outcome::Failure,
                None if failed => Outcome::Failure,
                None => Outcome::Success,
            };
            let mfa_used = yes(r.additional.mfa_used.get());
            let human = matches!(id_type, Some("IAMUser") | Some("Root") | None);
            let class = match (outcome, mfa_used) {
                (Outcome::Failure, Some(true)) => EventClass::MfaFailure,
                (Outcome::Failure, _) => EventClass::LoginFailure,
                (Outcome::Success, Some(true)) => EventClass::MfaSuccess,
                (Outcome::Success, _) if !human => EventClass::FederatedLogin,
                (Outcome::Success, _) => EventClass::LoginSuccessNoMfa,
            };
            (class, outcome)
        }
        ("signin.amazonaws.com", "CheckMfa") => match r.response.check_mfa.get() {
            Some(s) if s.eq_ignore_ascii_case("success") => (EventClass::MfaSuccess, Outcome::Success),
            Some(_) => (EventClass::MfaFailure, Outcome::Failure),
            None if failed => (EventClass::MfaFailure, Outcome::Failure),
            None => return Err(Reject::Irrelevant),
        },
        ("sts.amazonaws.com", "GetSessionToken" | "AssumeRole")
            if err_msg.is_some_and(|m| m.contains("MultiFactorAuthentication")) || (failed && serial_req.is_some()) =>
        {
            (EventClass::MfaFailure, Outcome::Failure)
        }
        ("sts.amazonaws.com", "GetSessionToken" | "AssumeRole") if serial_req.is_some() => {
            (EventClass::MfaSuccess, Outcome::Success)
        }
        _ if failed && err_code.is_some_and(is_denial_code) && err_msg.is_some_and(|m| m.contains("explicit deny")) => {
            let long_term = access_key.is_some_and(|k| k.starts_with("AKIA"));
            match mfa_auth {
                Some(true) => (EventClass::ExplicitDenyWithMfa, Outcome::Failure),
                Some(false) => (EventClass::MfaRequiredDenied, Outcome::Failure),
                None if long_term => (EventClass::MfaRequiredDenied, Outcome::Failure),
                None => return Err(Reject::Irrelevant),
            }
        }
        ("iam.amazonaws.com", n) => {
            let class = match n {
                "CreateVirtualMFADevice" => EventClass::DeviceCreated,
                "EnableMFADevice" => EventClass::DeviceEnabled,
                "DeactivateMFADevice" => EventClass::DeviceDeactivated,
                "DeleteVirtualMFADevice" => EventClass::DeviceDeleted,
                "ResyncMFADevice" => EventClass::DeviceResynced,
                "CreateUser" => EventClass::UserCreated,
                "PutUserPolicy"
                | "DeleteUserPolicy"
                | "AttachUserPolicy"
                | "DetachUserPolicy"
                | "PutGroupPolicy"
                | "DeleteGroupPolicy"
                | "AttachGroupPolicy"
                | "DetachGroupPolicy"
                | "PutRolePolicy"
                | "DeleteRolePolicy"
                | "AttachRolePolicy"
                | "DetachRolePolicy"
                | "CreatePolicy"
                | "CreatePolicyVersion"
                | "SetDefaultPolicyVersion"
                | "DeletePolicyVersion"
                | "AddUserToGroup"
                | "RemoveUserFromGroup" => EventClass::PolicyChange,
                _ => return Err(Reject::Irrelevant),
            };
            (class, if failed { Outcome::Failure } else { Outcome::Success })
        }
        _ => return Err(Reject::Irrelevant),
    };

    // `p_event_time`: Panther's normalised export keeps the time there.
    let time_text = r
        .event_time
        .get()
        .or(r.p_event_time.get())
        .ok_or_else(|| Reject::NoTime(format!("{name}: no eventTime")))?;
    let event_time = parse_event_time(time_text)
        .ok_or_else(|| Reject::NoTime(format!("{name}: unreadable eventTime {time_text:?}")))?;

    let user_name = match id_type {
        Some("AssumedRole") => ident
            .session_context
            .issuer
            .user_name
            .get()
            .or_else(|| ident.arn.get().and_then(|a| a.rsplit('/').next())),
        Some("Root") => ident.user_name.get().or(Some("root")),
        _ => ident.user_name.get(),
    }
    .map(str::to_owned);

    let mfa_serial = serial_req
        .or_else(|| r.response.virtual_mfa_device.serial_number.get())
        .or_else(|| r.additional.mfa_identifier.get())
        .filter(|s| !s.is_empty())
        .map(str::to_owned);

    let policy_version = req.version_id.get().or(r.response.policy_version.version_id.get());
    // CreatePolicy makes v1 the default; SetDefaultPolicyVersion does what it says.
    let set_as_default =
        yes(req.set_as_default.get()).or(matches!(name, "CreatePolicy" | "SetDefaultPolicyVersion").then_some(true));

    Ok(EventRow {
        event_time,
        event_source: source.to_owned(),
        event_name: name.to_owned(),
        class,
        outcome,
        error_code: err_code.map(str::to_owned),
        error_message: err_msg.map(str::to_owned),
        identity_type: id_type.map(str::to_owned),
        user_name,
        principal_arn: owned(&ident.arn),
        account_id: owned(&ident.account_id),
        access_key_id: access_key.filter(|k| !k.is_empty()).map(str::to_owned),
        recipient_account_id: owned(&r.recipient_account_id),
        aws_region: owned(&r.aws_region),
        source_ip: owned(&r.source_ip),
        user_agent: owned(&r.user_agent),
        mfa_used: yes(r.additional.mfa_used.get()),
        mfa_authenticated: mfa_auth,
        target_user: req
            .user_name
            .get()
            .or(r.response.user.user_name.get())
            .map(str::to_owned),
        mfa_serial,
        policy_arn: req.policy_arn.get().or(r.response.policy.arn.get()).map(str::to_owned),
        group_name: owned(&req.group_name),
        policy_name: owned(&req.policy_name),
        policy_document: req.policy_document.get().map(decode_policy_document),
        policy_version: policy_version.map(str::to_owned).or_else(|| {
            (name == "CreatePolicy").then(|| r.response.policy.default_version_id.get().unwrap_or("v1").to_owned())
        }),
        set_as_default,
        event_id: r.event_id.get().unwrap_or("").to_owned(),
        request_id: owned(&r.request_id),
        source_object: source_object.to_owned(),
    })
}

/// Policy documents are JSON text in CloudTrail, but the IAM Get APIs (and
/// some exporters) percent-encode them: decode when it is not JSON already.
pub fn decode_policy_document(doc: &str) -> String {
    let t = doc.trim_start();
    if t.starts_with('{') || !t.contains('%') {
        return doc.to_owned();
    }
    percent_decode(doc)
}

/// `%XX` to bytes and `+` to a space; invalid escapes are kept as written.
pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let hex = |c: u8| (c as char).to_digit(16);
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => match (hex(b[i + 1]), hex(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::record::parse_record;

    fn class_of(json: &str) -> Result<EventClass, Reject> {
        let mut buf = json.as_bytes().to_vec();
        let mut b = simd_json::Buffers::default();
        let r = parse_record(&mut buf, &mut b).expect("valid JSON");
        classify(&r, "t.json#0").map(|row| row.class)
    }

    const T: &str = r#""eventTime":"2026-11-27T10:00:00Z","eventID":"e1""#;
    const USER: &str =
        r#""userIdentity":{"type":"IAMUser","userName":"alice","accountId":"111122223333","accessKeyId":""}"#;

    /// One row per DESIGN §5 line (and the negative cases next to them).
    #[test]
    fn table() {
        use EventClass::*;
        let cases: Vec<(String, Result<EventClass, Reject>)> = vec![
            // Console sign-in, MFA stage failing (MFAUsed compared case-insensitively).
            (
                format!(
                    r#"{{{T},{USER},"eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","responseElements":{{"ConsoleLogin":"Failure"}},"additionalEventData":{{"MFAUsed":"Yes"}},"errorMessage":"Failed authentication"}}"#
                ),
                Ok(MfaFailure),
            ),
            (
                format!(
                    r#"{{{T},{USER},"eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","responseElements":{{"ConsoleLogin":"Success"}},"additionalEventData":{{"MFAUsed":"YES","MFAIdentifier":"arn:aws:iam::1:mfa/a"}}}}"#
                ),
                Ok(MfaSuccess),
            ),
            (
                format!(
                    r#"{{{T},{USER},"eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","responseElements":{{"ConsoleLogin":"Failure"}},"additionalEventData":{{"MFAUsed":"No"}},"errorMessage":"Failed authentication"}}"#
                ),
                Ok(LoginFailure),
            ),
            (
                format!(
                    r#"{{{T},{USER},"eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","responseElements":{{"ConsoleLogin":"Success"}},"additionalEventData":{{"MFAUsed":"No"}}}}"#
                ),
                Ok(LoginSuccessNoMfa),
            ),
            (
                format!(
                    r#"{{{T},"userIdentity":{{"type":"AssumedRole","arn":"arn:aws:sts::1:assumed-role/SSO/alice","sessionContext":{{"sessionIssuer":{{"userName":"SSO"}}}}}},"eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","responseElements":{{"ConsoleLogin":"Success"}},"additionalEventData":{{"MFAUsed":"No"}}}}"#
                ),
                Ok(FederatedLogin),
            ),
            (
                format!(
                    r#"{{{T},{USER},"eventSource":"signin.amazonaws.com","eventName":"CheckMfa","responseElements":{{"CheckMfa":"Success"}},"additionalEventData":{{"MfaType":"U2F MFA"}}}}"#
                ),
                Ok(MfaSuccess),
            ),
            (
                format!(
                    r#"{{{T},{USER},"eventSource":"signin.amazonaws.com","eventName":"CheckMfa","responseElements":{{"CheckMfa":"Failure"}}}}"#
                ),
                Ok(MfaFailure),
            ),
            // STS.
            (
                format!(
                    r#"{{{T},{USER},"eventSource":"sts.amazonaws.com","eventName":"GetSessionToken","errorCode":"AccessDenied","errorMessage":"MultiFactorAuthentication failed with invalid MFA one time pass code. "}}"#
                ),
                Ok(MfaFailure),
            ),
            (
                format!(
                    r#"{{{T},{USER},"eventSource":"sts.amazonaws.com","eventName":"AssumeRole","requestParameters":{{"roleArn":"r","serialNumber":"arn:aws:iam::1:mfa/a"}},"errorCode":"AccessDenied","errorMessage":"User: x is not authorized to perform: sts:AssumeRole"}}"#
                ),
                Ok(MfaFailure),
            ),
            (
                format!(
                    r#"{{{T},{USER},"eventSource":"sts.amazonaws.com","eventName":"GetSessionToken","requestParameters":{{"serialNumber":"arn:aws:iam::1:mfa/a"}},"responseElements":{{"credentials":{{}}}}}}"#
                ),
                Ok(MfaSuccess),
            ),
            (
                format!(
                    r#"{{{T},{USER},"eventSource":"sts.amazonaws.com","eventName":"AssumeRole","requestParameters":{{"roleArn":"r"}}}}"#
                ),
                Err(Reject::Irrelevant),
            ),
            // Denials: explicit deny without MFA (session false, or long-term keys), with MFA, plain.
            (
                format!(
                    r#"{{{T},"userIdentity":{{"type":"IAMUser","userName":"a","accessKeyId":"ASIAX","sessionContext":{{"attributes":{{"mfaAuthenticated":"false"}}}}}},"eventSource":"s3.amazonaws.com","eventName":"ListBuckets","errorCode":"AccessDenied","errorMessage":"User: u is not authorized to perform: s3:ListAllMyBuckets with an explicit deny in an identity-based policy"}}"#
                ),
                Ok(MfaRequiredDenied),
            ),
            (
                format!(
                    r#"{{{T},"userIdentity":{{"type":"IAMUser","userName":"a","accessKeyId":"AKIAX"}},"eventSource":"ec2.amazonaws.com","eventName":"DescribeInstances","errorCode":"Client.UnauthorizedOperation","errorMessage":"You are not authorized to perform this operation. User: u is not authorized to perform: ec2:DescribeInstances with an explicit deny in an identity-based policy"}}"#
                ),
                Ok(MfaRequiredDenied),
            ),
            (
                format!(
                    r#"{{{T},"userIdentity":{{"type":"IAMUser","userName":"a","accessKeyId":"ASIAX","sessionContext":{{"attributes":{{"mfaAuthenticated":"true"}}}}}},"eventSource":"kms.amazonaws.com","eventName":"Decrypt","errorCode":"AccessDeniedException","errorMessage":"User: u is not authorized to perform: kms:Decrypt with an explicit deny in an identity-based policy"}}"#
                ),
                Ok(ExplicitDenyWithMfa),
            ),
            (
                format!(
                    r#"{{{T},"userIdentity":{{"type":"IAMUser","userName":"a","accessKeyId":"ASIAX","sessionContext":{{"attributes":{{"mfaAuthenticated":"false"}}}}}},"eventSource":"s3.amazonaws.com","eventName":"ListBuckets","errorCode":"AccessDenied","errorMessage":"User: u is not authorized to perform: s3:ListAllMyBuckets because no identity-based policy allows the s3:ListAllMyBuckets action"}}"#
                ),
                Err(Reject::Irrelevant),
            ),
            // IAM lifecycle and policy changes.
            (
                format!(
                    r#"{{{T},{USER},"eventSource":"iam.amazonaws.com","eventName":"CreateVirtualMFADevice","responseElements":{{"virtualMFADevice":{{"serialNumber":"arn:aws:iam::1:mfa/a"}}}}}}"#
                ),
                Ok(DeviceCreated),
            ),
            (
                format!(
                    r#"{{{T},{USER},"eventSource":"iam.amazonaws.com","eventName":"EnableMFADevice","requestParameters":{{"userName":"a","serialNumber":"s"}}}}"#
                ),
                Ok(DeviceEnabled),
            ),
            (
                format!(
                    r#"{{{T},{USER},"eventSource":"iam.amazonaws.com","eventName":"DeactivateMFADevice","requestParameters":{{"userName":"a","serialNumber":"s"}}}}"#
                ),
                Ok(DeviceDeactivated),
            ),
            (
                format!(
                    r#"{{{T},{USER},"eventSource":"iam.amazonaws.com","eventName":"DeleteVirtualMFADevice","requestParameters":{{"serialNumber":"s"}}}}"#
                ),
                Ok(DeviceDeleted),
            ),
            (
                format!(
                    r#"{{{T},{USER},"eventSource":"iam.amazonaws.com","eventName":"ResyncMFADevice","requestParameters":{{"userName":"a","serialNumber":"s"}}}}"#
                ),
                Ok(DeviceResynced),
            ),
            (
                format!(
                    r#"{{{T},{USER},"eventSource":"iam.amazonaws.com","eventName":"PutUserPolicy","requestParameters":{{"userName":"a","policyName":"p","policyDocument":"{{}}"}}}}"#
                ),
                Ok(PolicyChange),
            ),
            (
                format!(
                    r#"{{{T},{USER},"eventSource":"iam.amazonaws.com","eventName":"AddUserToGroup","requestParameters":{{"userName":"a","groupName":"g"}}}}"#
                ),
                Ok(PolicyChange),
            ),
            (
                format!(
                    r#"{{{T},{USER},"eventSource":"iam.amazonaws.com","eventName":"SetDefaultPolicyVersion","requestParameters":{{"policyArn":"p","versionId":"v2"}}}}"#
                ),
                Ok(PolicyChange),
            ),
            (
                format!(
                    r#"{{{T},{USER},"eventSource":"iam.amazonaws.com","eventName":"CreateUser","requestParameters":{{"userName":"bob"}}}}"#
                ),
                Ok(UserCreated),
            ),
            (
                format!(r#"{{{T},{USER},"eventSource":"iam.amazonaws.com","eventName":"ListMFADevices"}}"#),
                Err(Reject::Irrelevant),
            ),
            (
                format!(r#"{{{T},{USER},"eventSource":"ec2.amazonaws.com","eventName":"DescribeInstances"}}"#),
                Err(Reject::Irrelevant),
            ),
            // Relevant but broken time.
            (
                format!(
                    r#"{{"eventTime":"yesterday",{USER},"eventSource":"iam.amazonaws.com","eventName":"EnableMFADevice"}}"#
                ),
                Err(Reject::NoTime(
                    "EnableMFADevice: unreadable eventTime \"yesterday\"".into(),
                )),
            ),
        ];
        for (json, want) in cases {
            assert_eq!(class_of(&json), want, "{json}");
        }
        // Every class has a row above (keeps the table complete when classes are added).
        for c in EventClass::ALL {
            assert_eq!(EventClass::parse(c.as_str()), Some(c));
        }
    }

    #[test]
    fn fields_and_hidden_user_names() {
        let json = format!(
            r#"{{{T},"userIdentity":{{"type":"IAMUser","accountId":"111122223333","accessKeyId":"","userName":"HIDDEN_DUE_TO_SECURITY_REASONS"}},"eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","responseElements":{{"ConsoleLogin":"Failure"}},"additionalEventData":{{"MFAUsed":"No"}},"errorMessage":"No username found in supplied account","recipientAccountId":"111122223333"}}"#
        );
        let mut buf = json.into_bytes();
        let mut b = simd_json::Buffers::default();
        let r = parse_record(&mut buf, &mut b).unwrap();
        let row = classify(&r, "f#3").unwrap();
        assert_eq!(row.user_name.as_deref(), Some("HIDDEN_DUE_TO_SECURITY_REASONS"));
        assert_eq!(row.class, EventClass::LoginFailure);
        assert_eq!(row.access_key_id, None);
        assert_eq!(row.account(), Some("111122223333"));
        assert_eq!(row.source_object, "f#3");
    }

    #[test]
    fn policy_documents_are_decoded() {
        assert_eq!(decode_policy_document("{\"a\":1}"), "{\"a\":1}");
        assert_eq!(
            decode_policy_document("%7B%22Version%22%3A%222012-10-17%22%7D"),
            "{\"Version\":\"2012-10-17\"}"
        );
        assert_eq!(percent_decode("a+b%2"), "a b%2");
    }
}
