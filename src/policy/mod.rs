//! IAM policy analysis: does a policy document logged by CloudTrail (PutUserPolicy,
//! PutGroupPolicy, PutRolePolicy, CreatePolicy, CreatePolicyVersion) make MFA a requirement,
//! for which actions, and does it fall into one of the known MFA-condition pitfalls?
//!
//! Rules D3 and D6 need this, and the answer hinges on AWS condition semantics for *absent*
//! keys, so the analysis does not pattern-match condition shapes: it evaluates a statement's MFA
//! conditions in the request contexts that matter and compares the outcomes.
//! - MFA session: `aws:MultiFactorAuthPresent` "true", `aws:MultiFactorAuthAge` set (fresh or stale).
//! - Session without MFA (console or STS): "false", age absent.
//! - Long-term access key (AKIA): both keys absent.
//!
//! An absent key never matches `Bool` or a Numeric operator, always matches `…IfExists` and
//! negated operators, and matches `Null` "true". Conditions in a statement are ANDed and values
//! of one key are ORed, so statements with several conditions come out right by construction.

mod eval;
mod glob;
mod pitfalls;
#[cfg(test)]
mod tests;

use serde_json::{Map, Value};
use std::fmt;

/// Why a policy document could not be analysed at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyError {
    /// Not JSON, neither as written nor after percent-decoding; carries the parser's reason.
    NotJson(String),
    /// JSON, but without a usable `Statement` (missing, or neither an object nor an array).
    NoStatement,
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotJson(reason) => write!(f, "policy document is not JSON: {reason}"),
            Self::NoStatement => f.write_str("policy document has no Statement"),
        }
    }
}

impl std::error::Error for PolicyError {}

/// A parsed policy: only what MFA analysis needs (statements with their actions and MFA conditions).
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub statements: Vec<Statement>,
}

/// One statement. Statements without a valid `Effect` are dropped; `index` keeps the position in
/// the document so evidence points at the right one.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub index: usize,
    pub sid: Option<String>,
    pub effect: Effect,
    pub actions: Actions,
    /// Conditions on `aws:MultiFactorAuthPresent` / `aws:MultiFactorAuthAge`; others only narrow
    /// a statement and are not kept.
    pub mfa: Vec<MfaCondition>,
    /// The statement as compact JSON, for evidence.
    pub text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Allow,
    Deny,
}

/// `Action` or `NotAction` patterns as written. A statement with neither is `Action([])`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actions {
    Action(Vec<String>),
    NotAction(Vec<String>),
}

/// One condition on an MFA key, e.g. `"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}`.
#[derive(Debug, Clone, PartialEq)]
pub struct MfaCondition {
    /// The operator as written, e.g. `boolifexists`.
    pub operator: String,
    /// Without `IfExists`; canonical spelling for Bool, Null and Numeric operators.
    pub base_operator: String,
    pub if_exists: bool,
    pub key: MfaKey,
    /// Lowercase strings: `true` → "true", `3600` → "3600", "TRUE" → "true" (no trimming, so a
    /// stray space stays visible to the NonBooleanValue check).
    pub values: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MfaKey {
    /// `aws:MultiFactorAuthPresent`
    Present,
    /// `aws:MultiFactorAuthAge`
    Age,
}

/// Who makes a request, as MFA conditions see it (the request contexts of `eval`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Caller {
    /// Temporary credentials without MFA: a console session or STS credentials.
    NoMfaSession,
    /// Long-term access keys (AKIA…): the MFA keys are absent from the request.
    LongTermKey,
    /// An MFA session authenticated long ago (an `aws:MultiFactorAuthAge` limit).
    StaleMfa,
}

impl Caller {
    pub const ALL: [Caller; 3] = [Caller::NoMfaSession, Caller::LongTermKey, Caller::StaleMfa];
    pub fn as_str(self) -> &'static str {
        match self {
            Caller::NoMfaSession => "session_without_mfa",
            Caller::LongTermKey => "long_term_key",
            Caller::StaleMfa => "stale_mfa_session",
        }
    }
}

/// How a statement makes MFA a requirement.
#[derive(Debug, Clone, PartialEq)]
pub struct Requirement {
    pub kind: RequirementKind,
    /// Whether calls signed with long-term access keys (MFA keys absent) are held to it.
    pub applies_to_long_term_keys: bool,
    /// Oldest MFA authentication accepted, from an `aws:MultiFactorAuthAge` condition.
    pub max_age_seconds: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequirementKind {
    /// A Deny that applies when MFA is missing.
    DenyWithoutMfa,
    /// An Allow that grants only with MFA (optionally only recent MFA).
    AllowOnlyWithMfa,
    /// A Deny that applies when MFA authentication is older than `max_age_seconds`.
    DenyStaleMfa,
}

/// A known way an MFA condition fails to do what its author meant.
#[derive(Debug, Clone, PartialEq)]
pub struct Pitfall {
    pub kind: PitfallKind,
    /// `Statement::index` of the statement that shows it.
    pub statement: usize,
    /// One sentence an analyst can act on.
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PitfallKind {
    BoolNeverAppliesToLongTermKeys,
    LocksOutSelfService,
    AllowOnMfaFalse,
    NonBooleanValue,
    AgeWithoutNullGuard,
}

impl PitfallKind {
    /// Stable snake_case id for reports.
    pub fn id(&self) -> &'static str {
        match self {
            Self::BoolNeverAppliesToLongTermKeys => "bool_never_applies_to_long_term_keys",
            Self::LocksOutSelfService => "locks_out_self_service",
            Self::AllowOnMfaFalse => "allow_on_mfa_false",
            Self::NonBooleanValue => "non_boolean_value",
            Self::AgeWithoutNullGuard => "age_without_null_guard",
        }
    }
}

/// Actions a user without MFA needs to register, enable or resync a device. `sts:GetSessionToken`
/// is deliberately not here: AWS states policies cannot control it ("Permissions for
/// GetSessionToken", IAM User Guide), so a Deny on it blocks nothing.
pub const SELF_SERVICE_ACTIONS: [&str; 5] = [
    "iam:CreateVirtualMFADevice",
    "iam:EnableMFADevice",
    "iam:ResyncMFADevice",
    "iam:ListMFADevices",
    "iam:GetUser",
];

const PRESENT_KEY: &str = "aws:MultiFactorAuthPresent";
const AGE_KEY: &str = "aws:MultiFactorAuthAge";
/// Longest Sid or value quoted in a message, so hostile input cannot blow up a report.
const MAX_QUOTE: usize = 64;

/// Parses a policy document: JSON first, then percent-decoded JSON (the IAM Get APIs return
/// URL-encoded documents), and one level of JSON-in-a-JSON-string.
pub fn parse_policy(text: &str) -> Result<Policy, PolicyError> {
    let mut value = parse_json_lenient(text)?;
    if let Value::String(inner) = &value {
        value = parse_json_lenient(inner)?;
    }
    let root = value.as_object().ok_or(PolicyError::NoStatement)?;
    let statements = match get_ci(root, "Statement") {
        Some(single @ Value::Object(_)) => parse_statement(0, single).into_iter().collect(),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .filter_map(|(i, s)| parse_statement(i, s))
            .collect(),
        _ => return Err(PolicyError::NoStatement),
    };
    Ok(Policy { statements })
}

/// serde_json, whose recursion limit (128) keeps hostile nesting from overflowing the stack.
fn parse_json_lenient(text: &str) -> Result<Value, PolicyError> {
    let text = text.trim_start_matches('\u{feff}');
    match serde_json::from_str(text) {
        Ok(v) => Ok(v),
        Err(first) if text.contains(['%', '+']) => serde_json::from_str(&form_decode(text))
            .map_err(|second| PolicyError::NotJson(format!("{first}; after percent-decoding: {second}"))),
        Err(first) => Err(PolicyError::NotJson(first.to_string())),
    }
}

/// Form decoding: `+` to a space, then `decode`. The IAM Get APIs and some exporters encode
/// policy documents this way.
pub fn form_decode(text: &str) -> String {
    percent_decode(&text.replace('+', " "))
}

/// Percent-decoding, the one decoder of policy documents in the crate: `%XX` to a byte
/// (malformed escapes kept as written), invalid UTF-8 replaced; `+` stays `+` (RFC 3986, as
/// botocore's `unquote` leaves the documents of `get-account-authorization-details`).
pub fn percent_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

/// Policy element names are case-insensitive in practice; prefer the exact spelling.
fn get_ci<'a>(obj: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    obj.get(key)
        .or_else(|| obj.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v))
}

/// A string or an array of strings; anything else contributes nothing.
fn string_list(value: &Value) -> Vec<String> {
    match value {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
        _ => Vec::new(),
    }
}

fn parse_statement(index: usize, value: &Value) -> Option<Statement> {
    let obj = value.as_object()?;
    let effect = match get_ci(obj, "Effect").and_then(Value::as_str) {
        Some(e) if e.eq_ignore_ascii_case("Allow") => Effect::Allow,
        Some(e) if e.eq_ignore_ascii_case("Deny") => Effect::Deny,
        _ => return None,
    };
    let non_null = |key| get_ci(obj, key).filter(|v| !v.is_null());
    let actions = match (non_null("Action"), non_null("NotAction")) {
        (Some(a), _) => Actions::Action(string_list(a)),
        (None, Some(n)) => Actions::NotAction(string_list(n)),
        (None, None) => Actions::Action(Vec::new()),
    };
    Some(Statement {
        index,
        sid: get_ci(obj, "Sid").and_then(Value::as_str).map(str::to_owned),
        effect,
        actions,
        mfa: get_ci(obj, "Condition").map(parse_conditions).unwrap_or_default(),
        text: value.to_string(),
    })
}

/// `{ operator: { key: value | [values] } }`, keeping only the MFA keys.
fn parse_conditions(condition: &Value) -> Vec<MfaCondition> {
    let Some(operators) = condition.as_object() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (operator, body) in operators {
        let Some(body) = body.as_object() else {
            continue;
        };
        for (key, values) in body {
            let key = if key.eq_ignore_ascii_case(PRESENT_KEY) {
                MfaKey::Present
            } else if key.eq_ignore_ascii_case(AGE_KEY) {
                MfaKey::Age
            } else {
                continue;
            };
            let (base_operator, if_exists) = split_operator(operator);
            out.push(MfaCondition {
                operator: operator.clone(),
                base_operator,
                if_exists,
                key,
                values: normalise_values(values),
            });
        }
    }
    out
}

/// Operators this module evaluates, in their canonical spelling.
const KNOWN_OPERATORS: [&str; 8] = [
    "Bool",
    "Null",
    "NumericEquals",
    "NumericNotEquals",
    "NumericLessThan",
    "NumericLessThanEquals",
    "NumericGreaterThan",
    "NumericGreaterThanEquals",
];

/// `BoolIfExists` → ("Bool", true); unknown operators (e.g. `ForAnyValue:Bool`) keep their spelling.
fn split_operator(operator: &str) -> (String, bool) {
    const SUFFIX: &str = "IfExists";
    let split = operator.len().checked_sub(SUFFIX.len()).and_then(|at| {
        let (stem, suffix) = (operator.get(..at)?, operator.get(at..)?);
        suffix.eq_ignore_ascii_case(SUFFIX).then_some(stem)
    });
    let (stem, if_exists) = split.map_or((operator, false), |stem| (stem, true));
    let base = KNOWN_OPERATORS
        .iter()
        .find(|k| k.eq_ignore_ascii_case(stem))
        .map_or_else(|| stem.to_owned(), |k| (*k).to_owned());
    (base, if_exists)
}

fn normalise_values(value: &Value) -> Vec<String> {
    fn scalar(v: &Value) -> Option<String> {
        match v {
            Value::String(s) => Some(s.to_lowercase()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }
    match value {
        Value::Array(items) => items.iter().filter_map(scalar).collect(),
        other => scalar(other).into_iter().collect(),
    }
}

/// At most MAX_QUOTE characters, on a char boundary.
fn clip(s: &str) -> String {
    match s.char_indices().nth(MAX_QUOTE) {
        Some((at, _)) => format!("{}…", s.get(..at).unwrap_or_default()),
        None => s.to_owned(),
    }
}

impl Policy {
    /// Any statement makes MFA a requirement.
    pub fn requires_mfa(&self) -> bool {
        self.statements.iter().any(|s| s.mfa_requirement().is_some())
    }

    /// A statement that makes MFA a requirement covers `action`.
    pub fn requires_mfa_for(&self, action: &str) -> bool {
        self.statements
            .iter()
            .any(|s| s.actions.matches(action) && s.mfa_requirement().is_some())
    }

    /// A statement holds `caller` to MFA for `action` (see `Statement::requires_mfa_of`).
    pub fn requires_mfa_of(&self, action: &str, caller: Caller) -> bool {
        self.statements
            .iter()
            .any(|s| s.actions.matches(action) && s.requires_mfa_of(caller))
    }

    /// Some statement limits the age of MFA sessions (`aws:MultiFactorAuthAge`).
    pub fn age_limited(&self) -> bool {
        self.mfa_statements().iter().any(|(_, r)| r.max_age_seconds.is_some())
    }

    /// The statements that make MFA a requirement, with how.
    pub fn mfa_statements(&self) -> Vec<(&Statement, Requirement)> {
        self.statements
            .iter()
            .filter_map(|s| s.mfa_requirement().map(|r| (s, r)))
            .collect()
    }

    /// Any condition on an MFA key at all, evaluable or not (D6: "adds an MFA condition").
    pub fn has_mfa_condition(&self) -> bool {
        self.statements.iter().any(|s| !s.mfa.is_empty())
    }

    /// Whether the MFA requirement reaches the work that matters: any of `denied` (the
    /// actions a user was denied for want of MFA, with the kind of caller), or, when nothing
    /// was denied, everyday access (at least two of `EVERYDAY_ACTIONS`, for a session without
    /// MFA or a long-term key). A condition on `ec2:TerminateInstances` alone does not make a
    /// user need MFA to work, and an `aws:MultiFactorAuthAge` limit alone never holds a user
    /// without MFA to it.
    pub fn requires_mfa_for_work(&self, denied: &[(String, Caller)]) -> bool {
        if !denied.is_empty() {
            return denied.iter().any(|(a, c)| self.requires_mfa_of(a, *c));
        }
        [Caller::NoMfaSession, Caller::LongTermKey]
            .iter()
            .any(|&c| EVERYDAY_ACTIONS.iter().filter(|a| self.requires_mfa_of(a, c)).count() >= 2)
    }
}

/// An everyday action: a read nearly every user makes (`List*`, `Describe*`, `Get*`, `Head*`,
/// `sts:GetCallerIdentity`). MFA enforcement denies these; a guardrail does not.
pub fn is_everyday_action(action: &str) -> bool {
    let name = action.split_once(':').map_or(action, |(_, n)| n);
    ["List", "Describe", "Get", "Head", "BatchGet", "Lookup", "Search"]
        .iter()
        .any(|p| name.starts_with(p))
}

/// A destructive action, the kind a guardrail denies (`ec2:TerminateInstances`,
/// `rds:DeleteDBInstance`, `s3:DeleteBucket`, …).
pub fn is_destructive_action(action: &str) -> bool {
    let name = action.split_once(':').map_or(action, |(_, n)| n);
    [
        "Delete",
        "Terminate",
        "Remove",
        "Destroy",
        "Stop",
        "Disable",
        "Deregister",
        "Revoke",
        "Detach",
        "Purge",
    ]
    .iter()
    .any(|p| name.starts_with(p))
}

/// Read-only calls of different services that nearly every user makes: a requirement covering
/// several of them is broad.
pub const EVERYDAY_ACTIONS: [&str; 6] = [
    "s3:ListAllMyBuckets",
    "ec2:DescribeInstances",
    "iam:ListUsers",
    "cloudwatch:GetMetricData",
    "lambda:ListFunctions",
    "logs:DescribeLogGroups",
];
