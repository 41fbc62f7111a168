//! Record shapes shared by the background and the scenarios: one writer, so every record has
//! the field order CloudTrail itself delivers (not the alphabetical order of re-serialized
//! samples), and the MFA-relevant fields follow CLOUDTRAIL-FACTS.md.

use super::rng::{BASE32, Rng, UPPER_ALNUM, mix_parts};
use super::time::push_iso;

pub const US_EAST_1: &str = "us-east-1";
pub const LOGIN_TO: &str = "https://console.aws.amazon.com/console/home";
pub const MSG_BAD_CODE: &str = "MultiFactorAuthentication failed with invalid MFA one time pass code. ";
pub const MSG_BAD_SERIAL: &str = "MultiFactorAuthentication failed, unable to validate MFA code.  Please verify your MFA serial number is valid and associated with this user.";
pub const BROWSER_UAS: [&str; 4] = [
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 Safari/537.36 Edg/123.0.2420.81",
    "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4_1) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15",
];

/// Appends `s` as a JSON string literal.
pub fn push_json_str(out: &mut String, s: &str) {
    out.push('"');
    if s.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20) {
        for c in s.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                c if (c as u32) < 0x20 => {
                    out.push_str("\\u00");
                    let v = c as u32;
                    out.push(char::from(b"0123456789abcdef"[(v >> 4) as usize]));
                    out.push(char::from(b"0123456789abcdef"[(v & 15) as usize]));
                }
                c => out.push(c),
            }
        }
    } else {
        out.push_str(s);
    }
    out.push('"');
}

/// One CloudTrail record. Fragments (`identity`, `request`, ...) are JSON text; `None` means the
/// field is absent, except `request`/`response`, which CloudTrail writes as `null`.
#[derive(Debug, Clone)]
pub struct Rec<'a> {
    pub version: &'a str,
    pub identity: &'a str,
    pub time: i64,
    pub source: &'a str,
    pub name: &'a str,
    pub region: &'a str,
    pub ip: &'a str,
    pub agent: &'a str,
    pub error_code: Option<&'a str>,
    pub error_message: Option<&'a str>,
    pub request: Option<&'a str>,
    pub response: Option<&'a str>,
    pub additional: Option<&'a str>,
    pub request_id: Option<&'a str>,
    pub event_id: &'a str,
    pub read_only: bool,
    pub resources: Option<&'a str>,
    pub event_type: &'a str,
    pub recipient: &'a str,
    pub shared_event_id: Option<&'a str>,
    pub from_console: bool,
    /// `clientProvidedHostHeader`; `None` means no tlsDetails (calls made by AWS services).
    pub tls_host: Option<&'a str>,
    /// TLS 1.2 (older SDK agents) instead of 1.3.
    pub tls12: bool,
}

impl<'a> Rec<'a> {
    /// A successful AwsApiCall with the usual defaults; callers override what differs.
    pub fn api(identity: &'a str, time: i64, source: &'a str, name: &'a str) -> Self {
        Rec {
            version: "1.09",
            identity,
            time,
            source,
            name,
            region: US_EAST_1,
            ip: "AWS Internal",
            agent: "AWS Internal",
            error_code: None,
            error_message: None,
            request: None,
            response: None,
            additional: None,
            request_id: None,
            event_id: "",
            read_only: true,
            resources: None,
            event_type: "AwsApiCall",
            recipient: "",
            shared_event_id: None,
            from_console: false,
            tls_host: None,
            tls12: false,
        }
    }

    pub fn write(&self, out: &mut String) {
        out.push_str("{\"eventVersion\":\"");
        out.push_str(self.version);
        out.push_str("\",\"userIdentity\":");
        out.push_str(self.identity);
        out.push_str(",\"eventTime\":\"");
        push_iso(out, self.time);
        out.push_str("\",\"eventSource\":\"");
        out.push_str(self.source);
        out.push_str("\",\"eventName\":\"");
        out.push_str(self.name);
        out.push_str("\",\"awsRegion\":\"");
        out.push_str(self.region);
        out.push_str("\",\"sourceIPAddress\":");
        push_json_str(out, self.ip);
        out.push_str(",\"userAgent\":");
        push_json_str(out, self.agent);
        if let Some(code) = self.error_code {
            out.push_str(",\"errorCode\":");
            push_json_str(out, code);
        }
        if let Some(msg) = self.error_message {
            out.push_str(",\"errorMessage\":");
            push_json_str(out, msg);
        }
        out.push_str(",\"requestParameters\":");
        out.push_str(self.request.unwrap_or("null"));
        out.push_str(",\"responseElements\":");
        out.push_str(self.response.unwrap_or("null"));
        if let Some(a) = self.additional {
            out.push_str(",\"additionalEventData\":");
            out.push_str(a);
        }
        if let Some(r) = self.request_id {
            out.push_str(",\"requestID\":\"");
            out.push_str(r);
            out.push('"');
        }
        out.push_str(",\"eventID\":\"");
        out.push_str(self.event_id);
        out.push_str("\",\"readOnly\":");
        out.push_str(if self.read_only { "true" } else { "false" });
        if let Some(r) = self.resources {
            out.push_str(",\"resources\":");
            out.push_str(r);
        }
        out.push_str(",\"eventType\":\"");
        out.push_str(self.event_type);
        out.push_str("\",\"managementEvent\":true,\"recipientAccountId\":\"");
        out.push_str(self.recipient);
        out.push('"');
        if let Some(s) = self.shared_event_id {
            out.push_str(",\"sharedEventID\":\"");
            out.push_str(s);
            out.push('"');
        }
        out.push_str(",\"eventCategory\":\"Management\"");
        if self.from_console {
            out.push_str(",\"sessionCredentialFromConsole\":\"true\"");
        }
        if let Some(host) = self.tls_host {
            if self.tls12 {
                out.push_str(",\"tlsDetails\":{\"tlsVersion\":\"TLSv1.2\",\"cipherSuite\":\"ECDHE-RSA-AES128-GCM-SHA256\",\"clientProvidedHostHeader\":\"");
            } else {
                out.push_str(",\"tlsDetails\":{\"tlsVersion\":\"TLSv1.3\",\"cipherSuite\":\"TLS_AES_128_GCM_SHA256\",\"clientProvidedHostHeader\":\"");
            }
            out.push_str(host);
            out.push_str("\"}");
        }
        out.push('}');
    }
}

/// Stable per-principal identifiers (principalId, long-term access key), derived from the seed,
/// the account and the name so they agree across files and threads.
pub fn stable_id(seed: u64, account: &str, name: &str, prefix: &str, alphabet: &[u8], n: usize) -> String {
    let mut rng = Rng::from_parts(&[
        seed,
        super::rng::TAG_IDENT,
        super::rng::hash_str(account),
        super::rng::hash_str(name),
        super::rng::hash_str(prefix),
    ]);
    let mut s = String::with_capacity(prefix.len() + n);
    s.push_str(prefix);
    rng.push_chars(&mut s, alphabet, n);
    s
}

/// `AIDA…` (users) / `AROA…` (roles): 21 characters as IAM issues them.
pub fn principal_id(seed: u64, account: &str, name: &str, prefix: &str) -> String {
    stable_id(seed, account, name, prefix, UPPER_ALNUM, 17)
}

/// Long-term access key id, `AKIA` + 16 base32 characters.
pub fn akia(seed: u64, account: &str, name: &str) -> String {
    stable_id(seed, account, name, "AKIA", BASE32, 16)
}

/// A temporary key id for a session, stable for the same (principal, session start).
pub fn session_key(seed: u64, account: &str, name: &str, start: i64) -> String {
    let mut rng = Rng::from_parts(&[
        seed,
        super::rng::TAG_SESSION,
        super::rng::hash_str(account),
        super::rng::hash_str(name),
        start as u64,
    ]);
    let mut s = String::with_capacity(20);
    s.push_str("ASIA");
    rng.push_chars(&mut s, BASE32, 16);
    s
}

/// IAMUser calling with long-term keys: no sessionContext, so `aws:MultiFactorAuthPresent` is
/// absent from its requests.
pub fn user_longterm_identity(account: &str, pid: &str, name: &str, key: &str) -> String {
    format!(
        "{{\"type\":\"IAMUser\",\"principalId\":\"{pid}\",\"arn\":\"arn:aws:iam::{account}:user/{name}\",\"accountId\":\"{account}\",\"accessKeyId\":\"{key}\",\"userName\":\"{name}\"}}"
    )
}

/// IAMUser console session (temporary ASIA key); `mfa` is the session's mfaAuthenticated.
pub fn user_console_identity(account: &str, pid: &str, name: &str, key: &str, start: i64, mfa: bool) -> String {
    let mut s = String::with_capacity(420);
    s.push_str("{\"type\":\"IAMUser\",\"principalId\":\"");
    s.push_str(pid);
    s.push_str("\",\"arn\":\"arn:aws:iam::");
    s.push_str(account);
    s.push_str(":user/");
    s.push_str(name);
    s.push_str("\",\"accountId\":\"");
    s.push_str(account);
    s.push_str("\",\"accessKeyId\":\"");
    s.push_str(key);
    s.push_str("\",\"userName\":\"");
    s.push_str(name);
    s.push_str(
        "\",\"sessionContext\":{\"sessionIssuer\":{},\"webIdFederationData\":{},\"attributes\":{\"creationDate\":\"",
    );
    push_iso(&mut s, start);
    s.push_str("\",\"mfaAuthenticated\":\"");
    s.push_str(if mfa { "true" } else { "false" });
    s.push_str("\"}}}");
    s
}

/// ConsoleLogin identity: with `arn` on success; on failure no arn and `accessKeyId:""`.
pub fn login_identity(account: &str, pid: &str, name: &str, success: bool) -> String {
    if success {
        format!(
            "{{\"type\":\"IAMUser\",\"principalId\":\"{pid}\",\"arn\":\"arn:aws:iam::{account}:user/{name}\",\"accountId\":\"{account}\",\"userName\":\"{name}\"}}"
        )
    } else {
        format!(
            "{{\"type\":\"IAMUser\",\"principalId\":\"{pid}\",\"accountId\":\"{account}\",\"accessKeyId\":\"\",\"userName\":\"{name}\"}}"
        )
    }
}

/// additionalEventData of ConsoleLogin; `MFAIdentifier` only when MFA was used.
pub fn login_additional(mfa_serial: Option<&str>) -> String {
    match mfa_serial {
        Some(serial) => format!(
            "{{\"LoginTo\":\"{LOGIN_TO}\",\"MobileVersion\":\"No\",\"MFAUsed\":\"Yes\",\"MFAIdentifier\":\"{serial}\"}}"
        ),
        None => {
            format!("{{\"LoginTo\":\"{LOGIN_TO}\",\"MobileVersion\":\"No\",\"MFAUsed\":\"No\"}}")
        }
    }
}

/// An STS session token: opaque base64 of the length real tokens have.
pub fn push_session_token(rng: &mut Rng, out: &mut String, len: usize) {
    out.push_str("IQoJb3JpZ2luX2Vj");
    rng.push_b64(out, len.saturating_sub(16));
}

/// `{"credentials":{...}}` as STS returns it (expiration in the Java format with a comma).
pub fn push_credentials(rng: &mut Rng, out: &mut String, expires: i64, token_len: usize) {
    out.push_str("\"credentials\":{\"accessKeyId\":\"ASIA");
    rng.push_chars(out, BASE32, 16);
    out.push_str("\",\"sessionToken\":\"");
    push_session_token(rng, out, token_len);
    out.push_str("\",\"expiration\":\"");
    super::time::push_java(out, expires, true);
    out.push_str("\"}");
}

/// The denial text AWS writes; `explicit` selects the MFA-policy wording over the plain one.
pub fn denial_message(principal_arn: &str, action: &str, resource: &str, explicit: bool, ec2: bool) -> String {
    let prefix = if ec2 {
        "You are not authorized to perform this operation. "
    } else {
        ""
    };
    if explicit {
        format!(
            "{prefix}User: {principal_arn} is not authorized to perform: {action} on resource: {resource} with an explicit deny in an identity-based policy"
        )
    } else {
        format!(
            "{prefix}User: {principal_arn} is not authorized to perform: {action} on resource: {resource} because no identity-based policy allows the {action} action"
        )
    }
}

/// The AWS sample "self-manage MFA only" policy, pretty-printed as a console user pastes it.
pub const MFA_POLICY_DOC: &str = "{\n    \"Version\": \"2012-10-17\",\n    \"Statement\": [\n        {\n            \"Sid\": \"AllowManageOwnVirtualMFADevice\",\n            \"Effect\": \"Allow\",\n            \"Action\": [\n                \"iam:CreateVirtualMFADevice\",\n                \"iam:EnableMFADevice\",\n                \"iam:GetUser\",\n                \"iam:ListMFADevices\",\n                \"iam:ListVirtualMFADevices\",\n                \"iam:ResyncMFADevice\"\n            ],\n            \"Resource\": [\n                \"arn:aws:iam::*:mfa/${aws:username}\",\n                \"arn:aws:iam::*:user/${aws:username}\"\n            ]\n        },\n        {\n            \"Sid\": \"DenyAllExceptListedIfNoMFA\",\n            \"Effect\": \"Deny\",\n            \"NotAction\": [\n                \"iam:CreateVirtualMFADevice\",\n                \"iam:EnableMFADevice\",\n                \"iam:GetUser\",\n                \"iam:ListMFADevices\",\n                \"iam:ListVirtualMFADevices\",\n                \"iam:ResyncMFADevice\",\n                \"sts:GetSessionToken\"\n            ],\n            \"Resource\": \"*\",\n            \"Condition\": {\n                \"BoolIfExists\": {\n                    \"aws:MultiFactorAuthPresent\": \"false\"\n                }\n            }\n        }\n    ]\n}";

/// FinanceAccess v1: plain read access, no MFA condition.
pub const FINANCE_V1_DOC: &str = "{\n    \"Version\": \"2012-10-17\",\n    \"Statement\": [\n        {\n            \"Sid\": \"FinanceRead\",\n            \"Effect\": \"Allow\",\n            \"Action\": [\n                \"s3:ListAllMyBuckets\",\n                \"s3:GetBucketAcl\",\n                \"s3:GetObject\",\n                \"s3:ListBucket\",\n                \"ec2:Describe*\"\n            ],\n            \"Resource\": \"*\"\n        }\n    ]\n}";

/// Hash of a name into a small stable number (for picking per-name variants).
pub fn name_pick(seed: u64, name: &str, n: usize) -> usize {
    (mix_parts(&[seed, super::rng::hash_str(name)]) % n.max(1) as u64) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_is_valid_json_with_expected_fields() {
        let ident = login_identity("123456789012", "AIDAEXAMPLE", "alice", false);
        let add = login_additional(Some("arn:aws:iam::123456789012:mfa/alice"));
        let mut r = Rec::api(&ident, 1_700_000_000, "signin.amazonaws.com", "ConsoleLogin");
        r.event_type = "AwsConsoleSignIn";
        r.error_message = Some("Failed authentication");
        r.response = Some("{\"ConsoleLogin\":\"Failure\"}");
        r.additional = Some(&add);
        r.event_id = "e";
        r.recipient = "123456789012";
        r.tls_host = Some("signin.aws.amazon.com");
        let mut s = String::new();
        r.write(&mut s);
        let v: serde_json::Value = serde_json::from_str(&s).expect("valid JSON");
        assert_eq!(v["requestParameters"], serde_json::Value::Null);
        assert!(v.get("errorCode").is_none());
        assert!(v["userIdentity"].get("arn").is_none());
        assert_eq!(v["userIdentity"]["accessKeyId"], "");
        assert_eq!(v["additionalEventData"]["MFAUsed"], "Yes");
        assert_eq!(v["eventTime"], "2023-11-14T22:13:20Z");
    }

    #[test]
    fn policy_documents_parse_and_escape() {
        let v: serde_json::Value = serde_json::from_str(MFA_POLICY_DOC).expect("policy JSON");
        assert_eq!(
            v["Statement"][1]["Condition"]["BoolIfExists"]["aws:MultiFactorAuthPresent"],
            "false"
        );
        let mut quoted = String::new();
        push_json_str(&mut quoted, MFA_POLICY_DOC);
        let back: String = serde_json::from_str(&quoted).expect("string literal");
        assert_eq!(back, MFA_POLICY_DOC);
        let f: serde_json::Value = serde_json::from_str(FINANCE_V1_DOC).expect("policy JSON");
        assert!(f["Statement"][0].get("Condition").is_none());
    }
}
