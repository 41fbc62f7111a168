//! Event classes (DESIGN §5): which records are MFA-relevant and what they
//! say. Everything else is counted and dropped.

use super::record::Record;
use crate::event::{DenyKind, EventClass, EventRow, HIDDEN_USER, Outcome, ROOT, ROOT_USER_PARAM};
use crate::time::parse_event_time;

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
    s.get().filter(|v| !v.is_empty()).map(str::to_owned)
}

/// Why a parsed record could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reject {
    /// Not MFA-relevant: counted and dropped.
    Irrelevant,
    /// Relevant, but without a usable eventTime (missing or unreadable).
    NoTime(String),
}

/// Policy types of AccessDenied messages, by prefix of the words after "explicit deny in a(n)/the".
/// "sessions policy" is how one AWS doc example spells it; newer messages append the policy's
/// ARN, which a prefix match ignores. `mfatrail sql` emits the same table.
pub const DENY_KINDS: [(&str, DenyKind); 9] = [
    ("identity-based polic", DenyKind::Identity),
    ("service control polic", DenyKind::Scp),
    ("resource control polic", DenyKind::Rcp),
    ("resource-based polic", DenyKind::Resource),
    ("permissions boundary", DenyKind::Boundary),
    ("session polic", DenyKind::Session),
    ("sessions polic", DenyKind::Session),
    ("VPC endpoint polic", DenyKind::Vpce),
    ("role trust polic", DenyKind::Trust),
];

/// What a trust-policy denial of `sts:AssumeRole` says (the pre-filter's marker is in it).
pub const ASSUME_ROLE_DENIED: &str = "AssumeRole on resource";

/// The articles between "explicit deny" and the policy type.
pub const DENY_ARTICLES: [&str; 3] = ["in an ", "in a ", "in the "];

/// IAM events kept, and their class (anything else from IAM is dropped unless denied).
pub const IAM_EVENTS: &[(&str, EventClass)] = &[
    ("CreateVirtualMFADevice", EventClass::DeviceCreated),
    ("EnableMFADevice", EventClass::DeviceEnabled),
    ("DeactivateMFADevice", EventClass::DeviceDeactivated),
    ("DeleteVirtualMFADevice", EventClass::DeviceDeleted),
    ("ResyncMFADevice", EventClass::DeviceResynced),
    ("CreateUser", EventClass::UserCreated),
    ("PutUserPolicy", EventClass::PolicyChange),
    ("DeleteUserPolicy", EventClass::PolicyChange),
    ("AttachUserPolicy", EventClass::PolicyChange),
    ("DetachUserPolicy", EventClass::PolicyChange),
    ("PutGroupPolicy", EventClass::PolicyChange),
    ("DeleteGroupPolicy", EventClass::PolicyChange),
    ("AttachGroupPolicy", EventClass::PolicyChange),
    ("DetachGroupPolicy", EventClass::PolicyChange),
    ("PutRolePolicy", EventClass::PolicyChange),
    ("DeleteRolePolicy", EventClass::PolicyChange),
    ("AttachRolePolicy", EventClass::PolicyChange),
    ("DetachRolePolicy", EventClass::PolicyChange),
    ("CreateRole", EventClass::PolicyChange),
    ("UpdateAssumeRolePolicy", EventClass::PolicyChange),
    ("CreatePolicy", EventClass::PolicyChange),
    ("CreatePolicyVersion", EventClass::PolicyChange),
    ("SetDefaultPolicyVersion", EventClass::PolicyChange),
    ("DeletePolicyVersion", EventClass::PolicyChange),
    ("AddUserToGroup", EventClass::PolicyChange),
    ("RemoveUserFromGroup", EventClass::PolicyChange),
];

/// The policy type an AccessDenied message names. AWS's messages read "… with an explicit
/// deny in a service control policy" (and the like); older ones say only "with an explicit
/// deny". `None`: not an explicit deny at all.
pub fn deny_policy(msg: &str) -> Option<DenyKind> {
    let at = msg.find("explicit deny")?;
    let rest = msg[at + "explicit deny".len()..].trim_start();
    let Some(kind) = DENY_ARTICLES.iter().find_map(|a| rest.strip_prefix(a)) else {
        return Some(DenyKind::Untyped);
    };
    Some(
        DENY_KINDS
            .iter()
            .find(|(p, _)| kind.starts_with(p))
            .map_or(DenyKind::Other, |(_, k)| *k),
    )
}

/// The action an AccessDenied message names ("… not authorized to perform: s3:GetObject …").
pub fn denied_action(msg: &str) -> Option<&str> {
    let at = msg.find("perform: ")? + "perform: ".len();
    let action = msg[at..].split(|c: char| c.is_whitespace() || c == ',').next()?;
    action.contains(':').then_some(action)
}

/// The IAM action of an API call, from its event source (`s3.amazonaws.com` + `ListBuckets`).
fn action_of(source: &str, name: &str) -> Option<String> {
    let svc = source.strip_suffix(".amazonaws.com")?;
    (!svc.is_empty() && !name.is_empty()).then(|| format!("{svc}:{name}"))
}

/// Classifies a record; `Ok(row)` when it is kept.
pub fn classify(r: &Record, source_object: &str) -> Result<EventRow, Reject> {
    let source = r.event_source.get().unwrap_or("");
    let name = r.event_name.get().unwrap_or("");
    let err_code = r.error_code.get().filter(|c| !c.is_empty());
    let err_msg = r.error_message.get().filter(|m| !m.is_empty());
    let ident = &r.user_identity;
    let id_type = ident.kind.get();
    let mfa_auth = yes(ident.session_context.attributes.mfa_authenticated.get());
    let access_key = ident.access_key_id.get();
    let req = &r.request;
    let serial_req = req.serial_number.get().filter(|s| !s.is_empty());
    let failed = err_code.is_some() || err_msg.is_some();
    let human = matches!(id_type, Some("IAMUser") | Some("Root"));
    let msg = err_msg.unwrap_or("");
    let mfa_text = msg.contains("MultiFactorAuthentication");
    let denied = failed && err_code.is_none_or(is_denial_code);
    let mut credential_type = r.additional.mfa_type.get().or(r.additional.credential_type.get());

    let (class, outcome) = match (source, name) {
        ("signin.amazonaws.com", "ConsoleLogin") => {
            let outcome = match r.response.console_login.get() {
                Some(s) if s.eq_ignore_ascii_case("success") => Outcome::Success,
                Some(_) => Outcome::Failure,
                None if failed => Outcome::Failure,
                None => Outcome::Success,
            };
            let mfa_used = yes(r.additional.mfa_used.get());
            let names_device = r.additional.mfa_identifier.get().is_some_and(|s| !s.is_empty());
            let class = match (outcome, mfa_used) {
                // The device was identified: the failure is at the MFA step.
                (Outcome::Failure, Some(true)) if names_device => EventClass::MfaFailure,
                // "Failed authentication" with MFAUsed=Yes: the password or the code (CLOUDTRAIL-FACTS §1).
                (Outcome::Failure, Some(true)) => EventClass::ConsoleFailureAmbiguous,
                (Outcome::Failure, _) => EventClass::LoginFailure,
                (Outcome::Success, Some(true)) => EventClass::MfaSuccess,
                (Outcome::Success, _) if !(human || id_type.is_none()) => EventClass::FederatedLogin,
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
        // IAM Identity Center sign-in steps: not IAM users; kept and listed apart.
        ("signin.amazonaws.com", "CredentialVerification" | "CredentialChallenge" | "UserAuthentication") => {
            let verdict = r
                .service_details
                .credential_verification
                .get()
                .or(r.service_details.user_authentication.get());
            credential_type = credential_type.or(r.service_details.credential_type.get());
            match (name, verdict) {
                ("CredentialChallenge", _) => return Err(Reject::Irrelevant),
                ("UserAuthentication", _) if !failed => (EventClass::IdentityCenterSuccess, Outcome::Success),
                (_, Some(v)) if v.eq_ignore_ascii_case("success") && !failed => {
                    (EventClass::IdentityCenterSuccess, Outcome::Success)
                }
                _ => (EventClass::IdentityCenterFailure, Outcome::Failure),
            }
        }
        // STS: only failures about the code or the device are MFA failures.
        ("sts.amazonaws.com", "GetSessionToken" | "AssumeRole") if failed && mfa_text => {
            (EventClass::MfaFailure, Outcome::Failure)
        }
        ("sts.amazonaws.com", "GetSessionToken") if denied && serial_req.is_some() && deny_policy(msg).is_none() => {
            // GetSessionToken is not governed by IAM policies: with a serial, a denial is the code.
            (EventClass::MfaFailure, Outcome::Failure)
        }
        // A trust policy's refusal reads "… not authorized to perform: sts:AssumeRole on
        // resource: …" (CLOUDTRAIL-FACTS §3); only that text is kept, as the byte pre-filter
        // keeps it, so a full parse and the pre-filter keep the same records.
        ("sts.amazonaws.com", "AssumeRole")
            if denied && human && deny_policy(msg).is_none() && msg.contains(ASSUME_ROLE_DENIED) =>
        {
            (EventClass::AssumeRoleDenied, Outcome::Failure)
        }
        ("sts.amazonaws.com", "GetSessionToken" | "AssumeRole") if !failed && serial_req.is_some() => {
            (EventClass::MfaSuccess, Outcome::Success)
        }
        _ if denied && deny_policy(msg).is_some() => {
            let identity = deny_policy(msg).is_some_and(DenyKind::is_identity);
            let long_term = access_key.is_some_and(|k| k.starts_with("AKIA"));
            let class = match (identity, human, mfa_auth) {
                (true, true, Some(true)) => EventClass::ExplicitDenyWithMfa,
                (true, true, Some(false)) => EventClass::MfaRequiredDenied,
                (true, true, None) if long_term => EventClass::MfaRequiredDenied,
                _ => EventClass::ExplicitDenyOther,
            };
            (class, Outcome::Failure)
        }
        ("iam.amazonaws.com", n) => {
            let class = IAM_EVENTS
                .iter()
                .find(|(e, _)| *e == n)
                .map(|(_, c)| *c)
                .ok_or(Reject::Irrelevant)?;
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

    let issuer = &ident.session_context.issuer;
    let (user_name, role_name, session_name) = match id_type {
        Some("AssumedRole") => {
            let arn = ident.arn.get().unwrap_or("");
            // arn:aws:sts::ACCT:assumed-role/ROLE/SESSION
            let mut parts = arn.split_once(":assumed-role/").map(|(_, r)| r.splitn(2, '/'));
            let from_arn_role = parts.as_mut().and_then(|p| p.next()).filter(|s| !s.is_empty());
            let session = parts.as_mut().and_then(|p| p.next()).filter(|s| !s.is_empty());
            let role = issuer.user_name.get().filter(|s| !s.is_empty()).or(from_arn_role);
            (None, role, session)
        }
        Some("Root") => (
            Some(ident.user_name.get().filter(|u| !u.is_empty()).unwrap_or(ROOT)),
            None,
            None,
        ),
        // Identity Center users of the newer shape may carry only their identity store id.
        Some("IdentityCenterUser") => (
            ident
                .user_name
                .get()
                .filter(|u| !u.is_empty())
                .or(ident.on_behalf_of.user_id.get()),
            None,
            None,
        ),
        _ if matches!(
            class,
            EventClass::IdentityCenterFailure | EventClass::IdentityCenterSuccess
        ) =>
        {
            (
                ident
                    .user_name
                    .get()
                    .filter(|u| !u.is_empty())
                    .or(r.additional.user_name.get())
                    .or(ident.on_behalf_of.user_id.get()),
                None,
                None,
            )
        }
        _ => (ident.user_name.get(), None, None),
    };
    let user_name = match id_type {
        Some("Root") => Some(ROOT),
        _ => user_name,
    };

    let mfa_serial = serial_req
        .or_else(|| r.response.virtual_mfa_device.serial_number.get())
        .or_else(|| r.additional.mfa_identifier.get())
        .filter(|s| !s.is_empty())
        .map(str::to_owned);

    let target_user = req
        .user_name
        .get()
        .or(r.response.user.user_name.get())
        .filter(|u| !u.is_empty())
        .map(|u| if u == ROOT_USER_PARAM { ROOT } else { u })
        .map(str::to_owned);
    let target_role = req
        .role_arn
        .get()
        .or(req.role_name.get())
        .filter(|s| !s.is_empty())
        .map(str::to_owned);

    let policy_version = req.version_id.get().or(r.response.policy_version.version_id.get());
    // CreatePolicy makes v1 the default; SetDefaultPolicyVersion does what it says.
    let set_as_default =
        yes(req.set_as_default.get()).or(matches!(name, "CreatePolicy" | "SetDefaultPolicyVersion").then_some(true));
    let document = req.policy_document.get().or(req.assume_role_policy_document.get());
    let is_deny = matches!(
        class,
        EventClass::MfaRequiredDenied
            | EventClass::ExplicitDenyWithMfa
            | EventClass::ExplicitDenyOther
            | EventClass::AssumeRoleDenied
    );

    Ok(EventRow {
        event_time,
        event_source: source.to_owned(),
        event_name: name.to_owned(),
        class,
        outcome,
        error_code: err_code.map(str::to_owned),
        error_message: err_msg.map(str::to_owned),
        identity_type: id_type.map(str::to_owned),
        user_name: user_name.filter(|u| !u.is_empty()).map(str::to_owned),
        role_name: role_name.map(str::to_owned),
        session_name: session_name.map(str::to_owned),
        principal_arn: owned(&ident.arn),
        account_id: owned(&ident.account_id),
        access_key_id: access_key.filter(|k| !k.is_empty()).map(str::to_owned),
        recipient_account_id: owned(&r.recipient_account_id),
        aws_region: owned(&r.aws_region),
        source_ip: owned(&r.source_ip),
        user_agent: owned(&r.user_agent),
        mfa_used: yes(r.additional.mfa_used.get()),
        mfa_authenticated: mfa_auth,
        target_user,
        target_role,
        mfa_serial,
        credential_type: credential_type.filter(|c| !c.is_empty()).map(str::to_owned),
        denied_action: is_deny
            .then(|| {
                denied_action(msg)
                    .map(str::to_owned)
                    .or_else(|| action_of(source, name))
            })
            .flatten(),
        deny_policy: is_deny.then(|| deny_policy(msg).unwrap_or(DenyKind::None).as_str().to_owned()),
        policy_arn: req.policy_arn.get().or(r.response.policy.arn.get()).map(str::to_owned),
        group_name: owned(&req.group_name),
        policy_name: owned(&req.policy_name),
        policy_document: document.map(decode_policy_document),
        policy_version: policy_version.map(str::to_owned).or_else(|| {
            (name == "CreatePolicy").then(|| r.response.policy.default_version_id.get().unwrap_or("v1").to_owned())
        }),
        set_as_default,
        event_id: r.event_id.get().unwrap_or("").to_owned(),
        request_id: owned(&r.request_id),
        source_object: source_object.to_owned(),
    })
}

/// Whether a user name is a real principal (not masked or empty).
pub fn is_real_user(name: &str) -> bool {
    !name.is_empty() && name != HIDDEN_USER
}

/// Policy documents are JSON text in CloudTrail, but the IAM Get APIs (and
/// some exporters) percent-encode them: decode when it is not JSON already.
pub fn decode_policy_document(doc: &str) -> String {
    let t = doc.trim_start();
    if t.starts_with('{') || !t.contains('%') {
        return doc.to_owned();
    }
    crate::policy::form_decode(doc)
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
            // Console sign-in failing with MFAUsed=Yes: the AWS doc example names no device, and
            // CloudTrail does not say whether the password or the code was wrong.
            (
                format!(
                    r#"{{{T},{USER},"eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","responseElements":{{"ConsoleLogin":"Failure"}},"additionalEventData":{{"MFAUsed":"Yes"}},"errorMessage":"Failed authentication"}}"#
                ),
                Ok(ConsoleFailureAmbiguous),
            ),
            // Naming the device (MFAIdentifier, compared case-insensitively for MFAUsed): the MFA step failed.
            (
                format!(
                    r#"{{{T},{USER},"eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","responseElements":{{"ConsoleLogin":"Failure"}},"additionalEventData":{{"MFAUsed":"YES","MFAIdentifier":"arn:aws:iam::1:mfa/a"}},"errorMessage":"Failed authentication"}}"#
                ),
                Ok(MfaFailure),
            ),
            // Root console sign-in without MFA.
            (
                format!(
                    r#"{{{T},"userIdentity":{{"type":"Root","arn":"arn:aws:iam::1:root","accountId":"1","accessKeyId":""}},"eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","responseElements":{{"ConsoleLogin":"Success"}},"additionalEventData":{{"MFAUsed":"No"}}}}"#
                ),
                Ok(LoginSuccessNoMfa),
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
            // AssumeRole denied without an MFA text: the trust policy said no (MFA only if it requires it).
            (
                format!(
                    r#"{{{T},{USER},"eventSource":"sts.amazonaws.com","eventName":"AssumeRole","requestParameters":{{"roleArn":"r","serialNumber":"arn:aws:iam::1:mfa/a"}},"errorCode":"AccessDenied","errorMessage":"User: x is not authorized to perform: sts:AssumeRole on resource: r"}}"#
                ),
                Ok(AssumeRoleDenied),
            ),
            // AssumeRole with a wrong code: the calling user's MFA failure.
            (
                format!(
                    r#"{{{T},{USER},"eventSource":"sts.amazonaws.com","eventName":"AssumeRole","requestParameters":{{"roleArn":"r","serialNumber":"arn:aws:iam::1:mfa/a"}},"errorCode":"AccessDenied","errorMessage":"MultiFactorAuthentication failed with invalid MFA one time pass code. "}}"#
                ),
                Ok(MfaFailure),
            ),
            // STS failures that are not about the code or the device are not MFA failures.
            (
                format!(
                    r#"{{{T},{USER},"eventSource":"sts.amazonaws.com","eventName":"GetSessionToken","requestParameters":{{"serialNumber":"arn:aws:iam::1:mfa/a"}},"errorCode":"Throttling","errorMessage":"Rate exceeded"}}"#
                ),
                Err(Reject::Irrelevant),
            ),
            (
                format!(
                    r#"{{{T},{USER},"eventSource":"sts.amazonaws.com","eventName":"GetSessionToken","requestParameters":{{"serialNumber":"arn:aws:iam::1:mfa/a"}},"errorCode":"AccessDenied","errorMessage":"User: x is not authorized to perform: sts:GetSessionToken with an explicit deny in a service control policy"}}"#
                ),
                Ok(ExplicitDenyOther),
            ),
            // A role session's failed AssumeRole (role chaining) is not a user's trust denial.
            (
                format!(
                    r#"{{{T},"userIdentity":{{"type":"AssumedRole","arn":"arn:aws:sts::1:assumed-role/ci/run"}},"eventSource":"sts.amazonaws.com","eventName":"AssumeRole","requestParameters":{{"roleArn":"r"}},"errorCode":"AccessDenied","errorMessage":"User: x is not authorized to perform: sts:AssumeRole on resource: r"}}"#
                ),
                Err(Reject::Irrelevant),
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
            // Where the deny came from: only identity-based (or untyped) denies mean MFA.
            (
                format!(
                    r#"{{{T},"userIdentity":{{"type":"IAMUser","userName":"a","accessKeyId":"AKIAX"}},"eventSource":"ec2.amazonaws.com","eventName":"RunInstances","errorCode":"Client.UnauthorizedOperation","errorMessage":"You are not authorized to perform this operation. User: u is not authorized to perform: ec2:RunInstances with an explicit deny in a service control policy"}}"#
                ),
                Ok(ExplicitDenyOther),
            ),
            (
                format!(
                    r#"{{{T},"userIdentity":{{"type":"IAMUser","userName":"a","accessKeyId":"ASIAX","sessionContext":{{"attributes":{{"mfaAuthenticated":"false"}}}}}},"eventSource":"s3.amazonaws.com","eventName":"PutObject","errorCode":"AccessDenied","errorMessage":"User: u is not authorized to perform: s3:PutObject on resource: arn:aws:s3:::b/k with an explicit deny in a resource-based policy"}}"#
                ),
                Ok(ExplicitDenyOther),
            ),
            (
                format!(
                    r#"{{{T},"userIdentity":{{"type":"IAMUser","userName":"a","accessKeyId":"AKIAX"}},"eventSource":"s3.amazonaws.com","eventName":"ListBuckets","errorCode":"AccessDenied","errorMessage":"User: u is not authorized to perform: s3:ListAllMyBuckets with an explicit deny"}}"#
                ),
                Ok(MfaRequiredDenied),
            ),
            // A role session's identity-policy deny: not an IAM user's MFA requirement.
            (
                format!(
                    r#"{{{T},"userIdentity":{{"type":"AssumedRole","arn":"arn:aws:sts::1:assumed-role/AWSReservedSSO_Admin_1/alice","sessionContext":{{"sessionIssuer":{{"userName":"AWSReservedSSO_Admin_1"}},"attributes":{{"mfaAuthenticated":"false"}}}}}},"eventSource":"s3.amazonaws.com","eventName":"ListBuckets","errorCode":"AccessDenied","errorMessage":"User: u is not authorized to perform: s3:ListAllMyBuckets with an explicit deny in an identity-based policy"}}"#
                ),
                Ok(ExplicitDenyOther),
            ),
            // IAM Identity Center sign-in steps.
            (
                format!(
                    r#"{{{T},"userIdentity":{{"type":"Unknown","userName":"jdoe","accountId":"1"}},"eventSource":"signin.amazonaws.com","eventName":"CredentialVerification","additionalEventData":{{"CredentialType":"TOTP"}},"serviceEventDetails":{{"CredentialVerification":"Failure"}},"errorMessage":"Failed authentication"}}"#
                ),
                Ok(IdentityCenterFailure),
            ),
            (
                format!(
                    r#"{{{T},"userIdentity":{{"type":"IdentityCenterUser","onBehalfOf":{{"userId":"94482488-3041-7026-18f3-be45837cd0e4"}},"accountId":"1"}},"eventSource":"signin.amazonaws.com","eventName":"CredentialVerification","additionalEventData":{{"CredentialType":"WEBAUTHN"}},"serviceEventDetails":{{"CredentialVerification":"Success"}}}}"#
                ),
                Ok(IdentityCenterSuccess),
            ),
            (
                format!(
                    r#"{{{T},"userIdentity":{{"type":"Unknown","userName":"jdoe","accountId":"1"}},"eventSource":"signin.amazonaws.com","eventName":"CredentialChallenge","additionalEventData":{{"CredentialType":"TOTP"}},"serviceEventDetails":{{"CredentialChallenge":"Success"}}}}"#
                ),
                Err(Reject::Irrelevant),
            ),
            // Trust policy changes.
            (
                format!(
                    r#"{{{T},{USER},"eventSource":"iam.amazonaws.com","eventName":"UpdateAssumeRolePolicy","requestParameters":{{"roleName":"Admin","policyDocument":"{{}}"}}}}"#
                ),
                Ok(PolicyChange),
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
    fn deny_policy_types() {
        let m = |tail: &str| {
            deny_policy(&format!(
                "User: u is not authorized to perform: s3:GetObject on resource: b{tail}"
            ))
        };
        assert_eq!(
            m(" with an explicit deny in an identity-based policy"),
            Some(DenyKind::Identity)
        );
        assert_eq!(
            m(" with an explicit deny in a service control policy: arn:aws:organizations::1:policy/o-1/p-1"),
            Some(DenyKind::Scp)
        );
        assert_eq!(
            m(" with an explicit deny in a resource control policy"),
            Some(DenyKind::Rcp)
        );
        assert_eq!(
            m(" with an explicit deny in a sessions policy"),
            Some(DenyKind::Session)
        );
        assert_eq!(
            m(" with an explicit deny in the role trust policy"),
            Some(DenyKind::Trust)
        );
        assert_eq!(m(" with an explicit deny"), Some(DenyKind::Untyped));
        assert_eq!(
            m(" because no service control policy allows the s3:GetObject action"),
            None
        );
        assert_eq!(
            denied_action("User: u is not authorized to perform: ec2:RunInstances on resource: x"),
            Some("ec2:RunInstances")
        );
    }

    #[test]
    fn identity_center_user_names() {
        let one = |ident: &str, add: &str| {
            let json = format!(
                r#"{{{T},"userIdentity":{ident},"eventSource":"signin.amazonaws.com","eventName":"CredentialVerification","additionalEventData":{add},"serviceEventDetails":{{"CredentialVerification":"Failure"}},"recipientAccountId":"1"}}"#
            );
            let mut buf = json.into_bytes();
            let mut b = simd_json::Buffers::default();
            let r = parse_record(&mut buf, &mut b).unwrap();
            classify(&r, "f#0").unwrap().user_name
        };
        // The failed-password example of the current doc: type Unknown, only additionalEventData.UserName.
        assert_eq!(
            one(
                r#"{"type":"Unknown","arn":"","accountId":"1","accessKeyId":""}"#,
                r#"{"CredentialType":"TOTP","UserName":"bob@example.com"}"#
            )
            .as_deref(),
            Some("bob@example.com")
        );
        assert_eq!(
            one(
                r#"{"type":"IdentityCenterUser","accountId":"1","onBehalfOf":{"userId":"94d00cd8-e9e6"}}"#,
                r#"{"CredentialType":"TOTP"}"#
            )
            .as_deref(),
            Some("94d00cd8-e9e6")
        );
    }

    #[test]
    fn root_device_events_link_to_root() {
        let json = format!(
            r#"{{{T},"userIdentity":{{"type":"Root","arn":"arn:aws:iam::1:root","accountId":"1"}},"eventSource":"iam.amazonaws.com","eventName":"EnableMFADevice","requestParameters":{{"userName":"AWS ROOT USER","serialNumber":"arn:aws:iam::1:mfa/root-account-mfa-device"}}}}"#
        );
        let mut buf = json.into_bytes();
        let mut b = simd_json::Buffers::default();
        let r = parse_record(&mut buf, &mut b).unwrap();
        let row = classify(&r, "f#0").unwrap();
        assert_eq!(row.target_user.as_deref(), Some("root"));
        assert_eq!(row.user_name.as_deref(), Some("root"));
        assert_eq!(row.subject().unwrap().kind, crate::event::PrincipalKind::Root);
    }

    #[test]
    fn policy_documents_are_decoded() {
        assert_eq!(decode_policy_document("{\"a\":1}"), "{\"a\":1}");
        assert_eq!(
            decode_policy_document("%7B%22Version%22%3A%222012-10-17%22%7D"),
            "{\"Version\":\"2012-10-17\"}"
        );
        assert_eq!(crate::policy::form_decode("a+b%2"), "a b%2");
    }
}
