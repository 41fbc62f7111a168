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
        Err(first) if text.contains(['%', '+']) => serde_json::from_str(&percent_decode(text))
            .map_err(|second| PolicyError::NotJson(format!("{first}; after percent-decoding: {second}"))),
        Err(first) => Err(PolicyError::NotJson(first.to_string())),
    }
}

/// Form decoding: `%XX` to a byte, `+` to a space; malformed escapes are kept as written.
fn percent_decode(text: &str) -> String {
    fn hex(b: u8) -> Option<u8> {
        (b as char).to_digit(16).and_then(|d| u8::try_from(d).ok())
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'%' => {
                let pair = bytes
                    .get(i + 1)
                    .copied()
                    .and_then(hex)
                    .zip(bytes.get(i + 2).copied().and_then(hex));
                if let Some((hi, lo)) = pair {
                    out.push((hi << 4) | lo);
                    i += 3;
                    continue;
                }
                out.push(b);
            }
            b'+' => out.push(b' '),
            _ => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
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

/// The request contexts that tell MFA requirements apart.
#[derive(Debug, Clone, Copy)]
enum Ctx {
    /// Temporary credentials from MFA, authenticated just now.
    MfaFresh,
    /// Temporary credentials from MFA, authenticated arbitrarily long ago.
    MfaStale,
    /// Temporary credentials without MFA (console or STS): Present "false", Age absent.
    NoMfaSession,
    /// Long-term access key: both keys absent.
    LongTermKey,
}

/// A condition's key value in a context.
enum KeyValue {
    Text(&'static str),
    Number(f64),
}

impl Ctx {
    fn value(self, key: MfaKey) -> Option<KeyValue> {
        match (self, key) {
            (Self::MfaFresh | Self::MfaStale, MfaKey::Present) => Some(KeyValue::Text("true")),
            (Self::NoMfaSession, MfaKey::Present) => Some(KeyValue::Text("false")),
            (Self::MfaFresh, MfaKey::Age) => Some(KeyValue::Number(0.0)),
            (Self::MfaStale, MfaKey::Age) => Some(KeyValue::Number(f64::MAX)),
            _ => None,
        }
    }
}

/// Numeric condition values; IAM numbers are plain decimals, so reject inf/NaN.
fn number(value: &str) -> Option<f64> {
    value.parse::<f64>().ok().filter(|n| n.is_finite())
}

impl MfaCondition {
    /// Whether this module knows how AWS evaluates this operator on this key. Others (String
    /// operators, set prefixes, Bool on the age) are ignored like non-MFA conditions.
    fn evaluable(&self) -> bool {
        match (self.base_operator.as_str(), self.key) {
            ("Null", _) | ("Bool", MfaKey::Present) => true,
            (op, MfaKey::Age) => op.starts_with("Numeric") && KNOWN_OPERATORS.contains(&op),
            _ => false,
        }
    }

    /// AWS evaluation of an evaluable condition in `ctx`.
    fn matches(&self, ctx: Ctx) -> bool {
        let op = self.base_operator.as_str();
        let actual = ctx.value(self.key);
        if op == "Null" {
            let absent = actual.is_none();
            return self
                .values
                .iter()
                .any(|v| (v == "true" && absent) || (v == "false" && !absent));
        }
        match actual {
            // Absent key: IfExists and negated operators match, everything else does not.
            None => self.if_exists || op == "NumericNotEquals",
            Some(KeyValue::Text(t)) => op == "Bool" && self.values.iter().any(|v| v == t),
            Some(KeyValue::Number(age)) => {
                let mut numbers = self.values.iter().filter_map(|v| number(v));
                match op {
                    "NumericEquals" => numbers.any(|n| age == n),
                    "NumericNotEquals" => numbers.all(|n| age != n),
                    "NumericLessThan" => numbers.any(|n| age < n),
                    "NumericLessThanEquals" => numbers.any(|n| age <= n),
                    "NumericGreaterThan" => numbers.any(|n| age > n),
                    "NumericGreaterThanEquals" => numbers.any(|n| age >= n),
                    _ => false,
                }
            }
        }
    }

    fn values_display(&self) -> String {
        let quoted: Vec<String> = self.values.iter().map(|v| format!("\"{}\"", clip(v))).collect();
        format!("[{}]", quoted.join(", "))
    }
}

/// Whether a statement's MFA conditions (ANDed) match in each context.
#[derive(Debug, Clone, Copy)]
struct Profile {
    fresh: bool,
    stale: bool,
    session: bool,
    long_term: bool,
}

impl Actions {
    /// IAM action matching: case-insensitive, `*` any run, `?` one character. NotAction matches
    /// every action not listed.
    pub fn matches(&self, action: &str) -> bool {
        let action: Vec<char> = action.chars().flat_map(char::to_lowercase).collect();
        let listed = |patterns: &[String]| patterns.iter().any(|p| wildcard_match(p, &action));
        match self {
            Self::Action(patterns) => listed(patterns),
            Self::NotAction(patterns) => !listed(patterns),
        }
    }
}

/// Iterative glob match with single backtrack point: linear memory, no recursion.
fn wildcard_match(pattern: &str, text: &[char]) -> bool {
    let pattern: Vec<char> = pattern.chars().flat_map(char::to_lowercase).collect();
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while let Some(&c) = text.get(t) {
        match pattern.get(p) {
            Some(&pc) if pc == '?' || pc == c => {
                p += 1;
                t += 1;
            }
            Some('*') => {
                star = Some((p, t));
                p += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    pattern.get(p..).is_some_and(|rest| rest.iter().all(|&c| c == '*'))
}

impl Statement {
    /// Whether this statement makes MFA a requirement, and how (None = it does not).
    ///
    /// A Deny requires MFA when it spares fresh MFA sessions but hits stale ones (DenyStaleMfa)
    /// or callers without MFA (DenyWithoutMfa); an Allow when it grants fresh MFA sessions but
    /// not every kind of caller without MFA (AllowOnlyWithMfa).
    pub fn mfa_requirement(&self) -> Option<Requirement> {
        let p = self.profile()?;
        match self.effect {
            Effect::Deny if p.fresh => None,
            Effect::Deny if p.stale => Some(Requirement {
                kind: RequirementKind::DenyStaleMfa,
                applies_to_long_term_keys: p.long_term,
                max_age_seconds: self.age_limit(),
            }),
            Effect::Deny if p.session || p.long_term => Some(Requirement {
                kind: RequirementKind::DenyWithoutMfa,
                applies_to_long_term_keys: p.long_term,
                max_age_seconds: None,
            }),
            Effect::Deny => None,
            Effect::Allow if !p.fresh || (p.session && p.long_term) => None,
            Effect::Allow => Some(Requirement {
                kind: RequirementKind::AllowOnlyWithMfa,
                applies_to_long_term_keys: !p.long_term,
                max_age_seconds: if p.stale { None } else { self.age_limit() },
            }),
        }
    }

    /// None when the statement has no MFA condition this module can evaluate.
    fn profile(&self) -> Option<Profile> {
        let conditions: Vec<&MfaCondition> = self.mfa.iter().filter(|c| c.evaluable()).collect();
        if conditions.is_empty() {
            return None;
        }
        let all = |ctx| conditions.iter().all(|c| c.matches(ctx));
        Some(Profile {
            fresh: all(Ctx::MfaFresh),
            stale: all(Ctx::MfaStale),
            session: all(Ctx::NoMfaSession),
            long_term: all(Ctx::LongTermKey),
        })
    }

    /// The age bound: a Deny applies above `NumericGreaterThan*` values, an Allow grants below
    /// `NumericLessThan*` values. Values of one key are ORed, conditions ANDed.
    fn age_limit(&self) -> Option<u64> {
        let (prefix, deny) = match self.effect {
            Effect::Deny => ("NumericGreaterThan", true),
            Effect::Allow => ("NumericLessThan", false),
        };
        let per_condition = self
            .mfa
            .iter()
            .filter(|c| c.key == MfaKey::Age && c.base_operator.starts_with(prefix))
            .filter_map(|c| {
                let numbers = c.values.iter().filter_map(|v| number(v));
                if deny {
                    numbers.reduce(f64::min)
                } else {
                    numbers.reduce(f64::max)
                }
            });
        let bound = if deny {
            per_condition.reduce(f64::max)
        } else {
            per_condition.reduce(f64::min)
        }?;
        // Saturating float-to-int cast; negative bounds mean "no age is young enough".
        Some(bound.max(0.0) as u64)
    }

    fn label(&self) -> String {
        match &self.sid {
            Some(sid) => format!("Statement[{}] \"{}\"", self.index, clip(sid)),
            None => format!("Statement[{}]", self.index),
        }
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

    /// Known pitfalls, in statement order.
    pub fn pitfalls(&self) -> Vec<Pitfall> {
        let null_guard = self
            .statements
            .iter()
            .flat_map(|s| &s.mfa)
            .any(|c| c.base_operator == "Null");
        let mut out = Vec::new();
        for s in &self.statements {
            let mut push = |kind, message| {
                out.push(Pitfall {
                    kind,
                    statement: s.index,
                    message,
                })
            };
            let label = s.label();
            let profile = s.profile();
            let requirement = s.mfa_requirement();

            let plain_bool_false = s.mfa.iter().any(|c| {
                c.key == MfaKey::Present
                    && c.base_operator == "Bool"
                    && !c.if_exists
                    && c.values.iter().any(|v| v == "false")
            });
            if s.effect == Effect::Deny
                && plain_bool_false
                && requirement.as_ref().is_some_and(|r| !r.applies_to_long_term_keys)
            {
                push(
                    PitfallKind::BoolNeverAppliesToLongTermKeys,
                    format!(
                        "{label} denies with Bool {PRESENT_KEY} \"false\", which never matches calls \
                         signed with long-term access keys (the key is absent), so MFA is not \
                         enforced on them; use BoolIfExists instead."
                    ),
                );
            }

            let hits_without_mfa = profile.is_some_and(|p| !p.fresh && (p.session || p.long_term));
            if s.effect == Effect::Deny && requirement.is_some() && hits_without_mfa {
                let blocked: Vec<&str> = SELF_SERVICE_ACTIONS
                    .iter()
                    .copied()
                    .filter(|a| s.actions.matches(a))
                    .collect();
                if !blocked.is_empty() {
                    push(
                        PitfallKind::LocksOutSelfService,
                        format!(
                            "{label} denies {} when MFA is absent, so a user without a working MFA \
                             device cannot register, enable or resync one; exempt them (e.g. with \
                             NotAction).",
                            blocked.join(", ")
                        ),
                    );
                }
            }

            if s.effect == Effect::Allow && hits_without_mfa {
                push(
                    PitfallKind::AllowOnMfaFalse,
                    format!(
                        "{label} grants access only when MFA is absent ({PRESENT_KEY} \"false\" or \
                         missing), the opposite of an MFA requirement; condition it on \"true\"."
                    ),
                );
            }

            let non_boolean = s.mfa.iter().find(|c| {
                let checked = (c.base_operator == "Bool" && c.key == MfaKey::Present) || c.base_operator == "Null";
                checked && (c.values.is_empty() || c.values.iter().any(|v| v != "true" && v != "false"))
            });
            if let Some(c) = non_boolean {
                let key = match c.key {
                    MfaKey::Present => PRESENT_KEY,
                    MfaKey::Age => AGE_KEY,
                };
                push(
                    PitfallKind::NonBooleanValue,
                    format!(
                        "{label} compares {key} with {} {} instead of \"true\"/\"false\", so the \
                         condition never matches as intended; fix the value.",
                        clip(&c.operator),
                        c.values_display()
                    ),
                );
            }

            let unguarded_age = s
                .mfa
                .iter()
                .find(|c| c.key == MfaKey::Age && c.base_operator.starts_with("Numeric") && !c.if_exists);
            if let (Effect::Deny, Some(c), false) = (s.effect, unguarded_age, null_guard) {
                push(
                    PitfallKind::AgeWithoutNullGuard,
                    format!(
                        "{label} denies on {AGE_KEY} with {op} but the policy has no Null guard, so \
                         callers without MFA (key absent) are not denied; add a Null condition or \
                         use {op}IfExists.",
                        op = clip(&c.base_operator)
                    ),
                );
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use RequirementKind::{AllowOnlyWithMfa, DenyStaleMfa, DenyWithoutMfa};

    const P: &str = PRESENT_KEY;
    const A: &str = AGE_KEY;

    /// AWS sample "Allows MFA-authenticated IAM users to manage their own MFA device on the
    /// Security credentials page" (my-sec-creds-self-manage-mfa-only), with the caller's
    /// whitespace as CloudTrail keeps it.
    const AWS_SELF_MANAGE_MFA: &str = r#"{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "AllowViewAccountInfo",
            "Effect": "Allow",
            "Action": "iam:ListVirtualMFADevices",
            "Resource": "*"
        },
        {
            "Sid": "AllowManageOwnVirtualMFADevice",
            "Effect": "Allow",
            "Action": [
                "iam:CreateVirtualMFADevice"
            ],
            "Resource": "arn:aws:iam::*:mfa/*"
        },
        {
            "Sid": "AllowManageOwnUserMFA",
            "Effect": "Allow",
            "Action": [
                "iam:DeactivateMFADevice",
                "iam:EnableMFADevice",
                "iam:GetUser",
                "iam:GetMFADevice",
                "iam:ListMFADevices",
                "iam:ResyncMFADevice"
            ],
            "Resource": "arn:aws:iam::*:user/${aws:username}"
        },
        {
            "Sid": "DenyAllExceptListedIfNoMFA",
            "Effect": "Deny",
            "NotAction": [
                "iam:CreateVirtualMFADevice",
                "iam:EnableMFADevice",
                "iam:GetUser",
                "iam:ListMFADevices",
                "iam:ListVirtualMFADevices",
                "iam:ResyncMFADevice",
                "sts:GetSessionToken"
            ],
            "Resource": "*",
            "Condition": {
                "BoolIfExists": {
                    "aws:MultiFactorAuthPresent": "false"
                }
            }
        }
    ]
}"#;

    /// `{"op":{"key":value}}`; `value` is JSON.
    fn cond(op: &str, key: &str, value: &str) -> String {
        format!(r#"{{"{op}":{{"{key}":{value}}}}}"#)
    }

    /// One-statement policy with the given effect, Action JSON and Condition JSON.
    fn policy_with(effect: &str, action: &str, condition: &str) -> Policy {
        let text = format!(
            r#"{{"Version":"2012-10-17","Statement":{{"Effect":"{effect}","Action":{action},"Resource":"*","Condition":{condition}}}}}"#
        );
        match parse_policy(&text) {
            Ok(p) => p,
            Err(e) => panic!("{text}: {e}"),
        }
    }

    /// One statement, Action "*", one condition.
    fn single(effect: &str, op: &str, key: &str, value: &str) -> Policy {
        policy_with(effect, r#""*""#, &cond(op, key, value))
    }

    fn only_statement(policy: &Policy) -> &Statement {
        assert_eq!(policy.statements.len(), 1, "{policy:?}");
        &policy.statements[0]
    }

    fn kinds(policy: &Policy) -> Vec<PitfallKind> {
        policy.pitfalls().iter().map(|p| p.kind).collect()
    }

    fn req(kind: RequirementKind, long_term: bool, max_age: Option<u64>) -> Option<Requirement> {
        Some(Requirement {
            kind,
            applies_to_long_term_keys: long_term,
            max_age_seconds: max_age,
        })
    }

    #[test]
    fn aws_self_manage_mfa_policy() {
        let policy = parse_policy(AWS_SELF_MANAGE_MFA).expect("parses");
        assert_eq!(policy.statements.len(), 4);
        let first = &policy.statements[0].actions;
        assert_eq!(first, &Actions::Action(vec!["iam:ListVirtualMFADevices".into()]));
        let deny = &policy.statements[3];
        assert_eq!(deny.index, 3);
        assert_eq!(deny.sid.as_deref(), Some("DenyAllExceptListedIfNoMFA"));
        assert_eq!(deny.effect, Effect::Deny);
        assert!(matches!(&deny.actions, Actions::NotAction(a) if a.len() == 7));
        let expected = MfaCondition {
            operator: "BoolIfExists".into(),
            base_operator: "Bool".into(),
            if_exists: true,
            key: MfaKey::Present,
            values: vec!["false".into()],
        };
        assert_eq!(deny.mfa, vec![expected]);
        assert_eq!(deny.mfa_requirement(), req(DenyWithoutMfa, true, None));
        assert!(!deny.text.contains('\n'), "compact evidence: {}", deny.text);
        assert!(deny.text.contains("DenyAllExceptListedIfNoMFA"));
        for s in &policy.statements[..3] {
            assert_eq!(s.mfa_requirement(), None, "{:?}", s.sid);
        }
        assert!(policy.requires_mfa());
        assert!(policy.has_mfa_condition());
        let required = policy.mfa_statements();
        assert_eq!(required.len(), 1);
        assert_eq!(required[0].0.index, 3);
        for (action, expected) in [
            ("s3:GetObject", true),
            ("ec2:RunInstances", true),
            ("iam:DeactivateMFADevice", true),
            ("iam:EnableMFADevice", false),
            ("IAM:enablemfadevice", false),
            ("sts:GetSessionToken", false),
            ("iam:ListVirtualMFADevices", false),
        ] {
            assert_eq!(policy.requires_mfa_for(action), expected, "{action}");
        }
        assert_eq!(policy.pitfalls(), Vec::new());
    }

    #[test]
    fn older_aws_sample_without_get_user_locks_out_get_user_only() {
        // The older "BlockMostAccessUnlessSignedInWithMFA" sample does not exempt iam:GetUser.
        let text = r#"{"Version":"2012-10-17","Statement":[
          {"Sid":"AllowUserToDeactivateTheirOwnMFAOnlyWhenUsingMFA","Effect":"Allow",
           "Action":["iam:DeactivateMFADevice"],"Resource":["arn:aws:iam::*:user/${aws:username}"],
           "Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}},
          {"Sid":"BlockMostAccessUnlessSignedInWithMFA","Effect":"Deny",
           "NotAction":["iam:CreateVirtualMFADevice","iam:EnableMFADevice","iam:ListMFADevices",
                        "iam:ListUsers","iam:ListVirtualMFADevices","iam:ResyncMFADevice"],
           "Resource":"*","Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}}]}"#;
        let policy = parse_policy(text).expect("parses");
        let allow = policy.statements[0].mfa_requirement();
        assert_eq!(allow, req(AllowOnlyWithMfa, true, None));
        let pitfalls = policy.pitfalls();
        assert_eq!(pitfalls.len(), 1, "{pitfalls:?}");
        let message = &pitfalls[0].message;
        assert_eq!(pitfalls[0].kind, PitfallKind::LocksOutSelfService);
        assert_eq!(pitfalls[0].statement, 1);
        assert!(message.contains("iam:GetUser"), "{message}");
        assert!(!message.contains("iam:EnableMFADevice"), "{message}");
        assert!(message.contains("BlockMostAccessUnlessSignedInWithMFA"), "{message}");
    }

    #[test]
    fn deny_everything_without_mfa_locks_out_self_service() {
        let policy = single("Deny", "BoolIfExists", P, r#""false""#);
        assert_eq!(kinds(&policy), vec![PitfallKind::LocksOutSelfService]);
        let pitfall = &policy.pitfalls()[0];
        assert_eq!(pitfall.statement, 0);
        for action in SELF_SERVICE_ACTIONS {
            assert!(pitfall.message.contains(action), "{action}: {}", pitfall.message);
        }
        // Policies cannot control sts:GetSessionToken, so it is not reported as blocked.
        assert!(!pitfall.message.contains("sts:GetSessionToken"));
    }

    #[test]
    fn lockout_only_for_deny_that_hits_callers_without_mfa() {
        let stale_guarded = format!(r#"{{"NumericGreaterThan":{{"{A}":"3600"}},"Null":{{"{A}":"false"}}}}"#);
        #[rustfmt::skip]
        let cases = [
            // Only some self-service actions in scope.
            ("Deny", r#""iam:*MFADevice""#, cond("Bool", P, r#""false""#), true),
            // No self-service action in scope.
            ("Deny", r#"["s3:*","ec2:*"]"#, cond("BoolIfExists", P, r#""false""#), false),
            // A stale-MFA deny does not hit callers without MFA ...
            ("Deny", r#""*""#, stale_guarded, false),
            // ... unless IfExists makes it match the absent age.
            ("Deny", r#""*""#, cond("NumericGreaterThanIfExists", A, "3600"), true),
            // An Allow never locks out.
            ("Allow", r#""*""#, cond("Bool", P, r#""true""#), false),
        ];
        for (effect, action, condition, expected) in cases {
            let policy = policy_with(effect, action, &condition);
            let found = kinds(&policy).contains(&PitfallKind::LocksOutSelfService);
            assert_eq!(found, expected, "{effect} {action} {condition}");
        }
    }

    #[test]
    fn requirement_per_condition_form() {
        let t = r#""true""#;
        let f = r#""false""#;
        #[rustfmt::skip]
        let cases: &[(&str, &str, &str, &str, Option<Requirement>)] = &[
            // Bool "false" misses long-term keys (key absent); BoolIfExists catches them.
            ("Deny", "Bool", P, f, req(DenyWithoutMfa, false, None)),
            ("Deny", "BoolIfExists", P, f, req(DenyWithoutMfa, true, None)),
            ("Deny", "BoolIfExists", P, "false", req(DenyWithoutMfa, true, None)),
            // Null "true" matches the absent key.
            ("Deny", "Null", P, t, req(DenyWithoutMfa, true, None)),
            ("Deny", "Null", A, t, req(DenyWithoutMfa, true, None)),
            ("Deny", "Null", A, "true", req(DenyWithoutMfa, true, None)),
            // Keys never get a Bool "true" grant; BoolIfExists "true" grants them (key absent).
            ("Allow", "Bool", P, t, req(AllowOnlyWithMfa, true, None)),
            ("Allow", "Bool", P, "true", req(AllowOnlyWithMfa, true, None)),
            ("Allow", "Bool", P, r#""TRUE""#, req(AllowOnlyWithMfa, true, None)),
            ("Allow", "BoolIfExists", P, t, req(AllowOnlyWithMfa, false, None)),
            ("Allow", "Null", P, f, req(AllowOnlyWithMfa, true, None)),
            ("Allow", "Null", A, f, req(AllowOnlyWithMfa, true, None)),
            // Age limits.
            ("Deny", "NumericGreaterThan", A, r#""3600""#, req(DenyStaleMfa, false, Some(3600))),
            ("Deny", "NumericGreaterThanEquals", A, "7200", req(DenyStaleMfa, false, Some(7200))),
            ("Deny", "NumericGreaterThanIfExists", A, "3600", req(DenyStaleMfa, true, Some(3600))),
            ("Deny", "NumericGreaterThan", A, r#"["3600",900]"#, req(DenyStaleMfa, false, Some(900))),
            ("Allow", "NumericLessThan", A, r#""3600""#, req(AllowOnlyWithMfa, true, Some(3600))),
            ("Allow", "NumericLessThanEquals", A, "3600", req(AllowOnlyWithMfa, true, Some(3600))),
            // Grants every caller without MFA: no requirement.
            ("Allow", "NumericLessThanIfExists", A, "3600", None),
            // Deny MFA users, grant without MFA, or never match: no requirement.
            ("Deny", "Bool", P, t, None),
            ("Deny", "BoolIfExists", P, t, None),
            ("Deny", "Null", P, f, None),
            ("Allow", "Bool", P, f, None),
            ("Allow", "BoolIfExists", P, f, None),
            ("Deny", "Bool", P, r#""yes""#, None),
            ("Deny", "Bool", P, r#"["true","false"]"#, None),
            ("Deny", "StringEquals", "aws:username", r#""alice""#, None),
            ("Deny", "StringEquals", P, f, None),
            ("Deny", "ForAnyValue:Bool", P, f, None),
        ];
        for (effect, op, key, value, expected) in cases {
            let policy = single(effect, op, key, value);
            let statement = only_statement(&policy);
            assert_eq!(&statement.mfa_requirement(), expected, "{effect} {op} {key} {value}");
            assert_eq!(policy.requires_mfa(), expected.is_some(), "{effect} {op} {value}");
        }
    }

    #[test]
    fn conditions_in_a_statement_are_anded() {
        #[rustfmt::skip]
        let cases = [
            // Narrowed by a non-MFA condition: still a requirement.
            (format!(r#"{{"BoolIfExists":{{"{P}":"false"}},"StringLike":{{"aws:username":"a*"}}}}"#),
             req(DenyWithoutMfa, true, None)),
            // Bool needs the key present, Null "true" needs it absent: never matches.
            (format!(r#"{{"Bool":{{"{P}":"false"}},"Null":{{"{P}":"true"}}}}"#), None),
            // BoolIfExists needs no MFA, NumericLessThan needs the age present: never matches.
            (format!(r#"{{"BoolIfExists":{{"{P}":"false"}},"NumericLessThan":{{"{A}":"60"}}}}"#),
             None),
            // Two age bounds that must both hold: the larger one decides.
            (format!(r#"{{"NumericGreaterThan":{{"{A}":"3600"}},"NumericGreaterThanEquals":{{"{A}":"7200"}}}}"#),
             req(DenyStaleMfa, false, Some(7200))),
            ("{}".to_string(), None),
        ];
        for (condition, expected) in cases {
            let policy = policy_with("Deny", r#""*""#, &condition);
            assert_eq!(only_statement(&policy).mfa_requirement(), expected, "{condition}");
        }
    }

    #[test]
    fn condition_names_and_keys_are_case_insensitive() {
        let policy = single("deny", "boolifexists", "AWS:multifactorauthpresent", r#""False""#);
        let s = only_statement(&policy);
        assert_eq!(s.effect, Effect::Deny);
        assert_eq!(s.mfa.len(), 1);
        assert_eq!(s.mfa[0].operator, "boolifexists");
        assert_eq!(s.mfa[0].base_operator, "Bool");
        assert!(s.mfa[0].if_exists);
        assert_eq!(s.mfa[0].key, MfaKey::Present);
        assert_eq!(s.mfa[0].values, vec!["false".to_string()]);
        assert_eq!(s.mfa_requirement(), req(DenyWithoutMfa, true, None));
        let age = single("Deny", "NUMERICGREATERTHAN", "aws:multifactorauthage", "60");
        assert_eq!(age.statements[0].mfa[0].key, MfaKey::Age);
        assert_eq!(age.statements[0].mfa_requirement(), req(DenyStaleMfa, false, Some(60)));
    }

    #[test]
    fn split_operator_forms() {
        #[rustfmt::skip]
        let cases = [
            ("Bool", "Bool", false),
            ("BoolIfExists", "Bool", true),
            ("NULL", "Null", false),
            ("numericgreaterthanequalsifexists", "NumericGreaterThanEquals", true),
            ("ForAnyValue:Bool", "ForAnyValue:Bool", false),
            ("IfExists", "", true),
            ("Ifé", "Ifé", false),
            ("ééééa", "ééééa", false),
        ];
        for (op, base, if_exists) in cases {
            assert_eq!(split_operator(op), (base.to_string(), if_exists), "{op}");
        }
    }

    #[test]
    fn values_are_normalised_to_lowercase_strings() {
        #[rustfmt::skip]
        let cases = [
            ("true", vec!["true"]),
            (r#""true""#, vec!["true"]),
            (r#""TRUE""#, vec!["true"]),
            ("false", vec!["false"]),
            ("3600", vec!["3600"]),
            (r#""3600""#, vec!["3600"]),
            (r#"["True", false, 1, null, {}]"#, vec!["true", "false", "1"]),
            ("null", vec![]),
        ];
        for (raw, expected) in cases {
            let policy = single("Deny", "Bool", P, raw);
            assert_eq!(only_statement(&policy).mfa[0].values, expected, "{raw}");
        }
    }

    #[test]
    fn percent_encoded_document() {
        let encoded = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Deny%22%2C%22Action%22%3A%22s3%3A%2A%22%2C%22Resource%22%3A%22%2A%22%2C%22Condition%22%3A%7B%22BoolIfExists%22%3A%7B%22aws%3AMultiFactorAuthPresent%22%3A%22false%22%7D%7D%2C%22Sid%22%3A%22No+MFA+no+S3%22%7D%5D%7D";
        let policy = parse_policy(encoded).expect("percent-decoded");
        let s = only_statement(&policy);
        assert_eq!(s.sid.as_deref(), Some("No MFA no S3"), "'+' decodes to a space");
        assert_eq!(s.actions, Actions::Action(vec!["s3:*".into()]));
        assert!(policy.requires_mfa_for("s3:PutObject"));
        assert!(!policy.requires_mfa_for("ec2:RunInstances"));
        // The AWS sample, every byte escaped.
        let encoded: String = AWS_SELF_MANAGE_MFA.bytes().map(|b| format!("%{b:02X}")).collect();
        assert_eq!(parse_policy(&encoded), parse_policy(AWS_SELF_MANAGE_MFA));
    }

    #[test]
    fn percent_decode_edges() {
        #[rustfmt::skip]
        let cases = [
            ("%7b%7D", "{}"),
            ("a+b", "a b"),
            ("%2B", "+"),
            ("100%", "100%"),
            ("%zz%4", "%zz%4"),
            ("%E2%9C%93", "✓"),
            ("%FF", "\u{fffd}"),
        ];
        for (raw, decoded) in cases {
            assert_eq!(percent_decode(raw), decoded, "{raw}");
        }
    }

    #[test]
    fn json_string_containing_the_document() {
        let wrapped = serde_json::to_string(AWS_SELF_MANAGE_MFA).expect("string");
        assert_eq!(parse_policy(&wrapped), parse_policy(AWS_SELF_MANAGE_MFA));
    }

    #[test]
    fn statement_object_array_and_lowercase_keys() {
        let object = r#"{"Statement":{"Sid":"One","Effect":"Deny","Action":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"false"}}}}"#;
        let array = r#"{"Statement":[{"Sid":"One","Effect":"Deny","Action":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"false"}}}]}"#;
        let lower = r#"{"statement":[{"sid":"One","effect":"deny","action":"*","resource":"*","condition":{"bool":{"aws:multifactorauthpresent":"false"}}}]}"#;
        let parsed: Vec<Policy> = [object, array, lower]
            .iter()
            .map(|t| parse_policy(t).expect("parses"))
            .collect();
        for p in &parsed {
            let s = only_statement(p);
            assert_eq!(s.sid.as_deref(), Some("One"));
            assert_eq!(s.index, 0);
            assert_eq!(s.actions, Actions::Action(vec!["*".into()]));
            assert_eq!(s.mfa_requirement(), req(DenyWithoutMfa, false, None));
        }
        // Object and one-element array are the same policy.
        assert_eq!(parsed[0], parsed[1]);
        assert_eq!(parsed[2].statements[0].mfa[0].operator, "bool");
    }

    #[test]
    fn action_string_array_and_not_action() {
        let list = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        #[rustfmt::skip]
        let cases = [
            (r#""Action":"iam:GetUser""#, Actions::Action(list(&["iam:GetUser"]))),
            (r#""Action":["iam:GetUser","s3:*"]"#, Actions::Action(list(&["iam:GetUser", "s3:*"]))),
            (r#""NotAction":"iam:GetUser""#, Actions::NotAction(list(&["iam:GetUser"]))),
            (r#""notaction":["iam:GetUser",5]"#, Actions::NotAction(list(&["iam:GetUser"]))),
            (r#""Action":null,"NotAction":"s3:*""#, Actions::NotAction(list(&["s3:*"]))),
            (r#""Resource":"*""#, Actions::Action(vec![])),
        ];
        for (fragment, expected) in cases {
            let text = format!(r#"{{"Statement":{{"Effect":"Allow",{fragment}}}}}"#);
            let policy = parse_policy(&text).expect("parses");
            assert_eq!(only_statement(&policy).actions, expected, "{fragment}");
        }
    }

    #[test]
    fn wildcard_matching() {
        let action = |p: &[&str]| Actions::Action(p.iter().map(|s| s.to_string()).collect());
        let not_action = |p: &[&str]| Actions::NotAction(p.iter().map(|s| s.to_string()).collect());
        #[rustfmt::skip]
        let cases = [
            (action(&["iam:*"]), "iam:EnableMFADevice", true),
            (action(&["iam:*"]), "sts:GetSessionToken", false),
            (action(&["*"]), "anything:AtAll", true),
            (action(&["*"]), "", true),
            (action(&["sts:Get*"]), "sts:GetSessionToken", true),
            (action(&["sts:Get*"]), "sts:AssumeRole", false),
            (action(&["sts:Get*"]), "sts:Get", true),
            (action(&["iam:?etUser"]), "iam:GetUser", true),
            (action(&["iam:?etUser"]), "iam:GGetUser", false),
            (action(&["iam:Get????"]), "iam:GetUser", true),
            (action(&["iam:Get????"]), "iam:GetUsers", false),
            (action(&["IAM:getuser"]), "iam:GetUser", true),
            (action(&["iam:*MFA*"]), "iam:ResyncMFADevice", true),
            (action(&["iam:*MFA*"]), "iam:GetUser", false),
            (action(&["*a*a*a*b"]), "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaac", false),
            (action(&["iam:GetUser"]), "iam:GetUserPolicy", false),
            (action(&["s3:*", "iam:GetUser"]), "iam:GetUser", true),
            (action(&[]), "iam:GetUser", false),
            (not_action(&["iam:*"]), "iam:GetUser", false),
            (not_action(&["iam:*"]), "s3:GetObject", true),
            (not_action(&[]), "s3:GetObject", true),
        ];
        for (actions, name, expected) in cases {
            assert_eq!(actions.matches(name), expected, "{actions:?} vs {name}");
        }
    }

    #[test]
    fn bool_without_if_exists_pitfall() {
        let plain = single("Deny", "Bool", P, r#""false""#);
        let expected = [
            PitfallKind::BoolNeverAppliesToLongTermKeys,
            PitfallKind::LocksOutSelfService,
        ];
        assert_eq!(kinds(&plain), expected);
        assert!(plain.pitfalls()[0].message.contains("long-term access keys"));
        let if_exists = policy_with("Deny", r#""s3:*""#, &cond("BoolIfExists", P, r#""false""#));
        assert_eq!(if_exists.pitfalls(), Vec::new());
        let bool_s3 = policy_with("Deny", r#""s3:*""#, &cond("Bool", P, r#""false""#));
        assert_eq!(kinds(&bool_s3), vec![PitfallKind::BoolNeverAppliesToLongTermKeys]);
        // Bool "false" in an Allow is a different pitfall.
        let allow = single("Allow", "Bool", P, r#""false""#);
        assert_eq!(kinds(&allow), vec![PitfallKind::AllowOnMfaFalse]);
    }

    #[test]
    fn allow_on_mfa_false_pitfall() {
        #[rustfmt::skip]
        let cases = [
            ("Bool", P, r#""false""#, true),
            ("BoolIfExists", P, "false", true),
            ("Null", P, r#""true""#, true),
            ("Null", A, r#""true""#, true),
            ("Bool", P, r#""true""#, false),
            ("StringEquals", "aws:username", r#""bob""#, false),
        ];
        for (op, key, value, expected) in cases {
            let policy = single("Allow", op, key, value);
            let found = kinds(&policy) == vec![PitfallKind::AllowOnMfaFalse];
            assert_eq!(found, expected, "{op} {key} {value}");
        }
    }

    #[test]
    fn non_boolean_value_pitfall() {
        #[rustfmt::skip]
        let cases = [
            ("Bool", P, r#""yes""#, true),
            ("Bool", P, r#""1""#, true),
            ("Bool", P, "1", true),
            ("BoolIfExists", P, r#""True ""#, true),
            ("Bool", P, "[]", true),
            ("Null", A, r#""no""#, true),
            ("Bool", P, r#""TRUE""#, false),
            ("Bool", P, "true", false),
            ("Bool", P, r#""true""#, false),
        ];
        for (op, key, value, expected) in cases {
            let policy = single("Allow", op, key, value);
            let found: Vec<Pitfall> = policy
                .pitfalls()
                .into_iter()
                .filter(|p| p.kind == PitfallKind::NonBooleanValue)
                .collect();
            assert_eq!(found.len(), usize::from(expected), "{op} {value}");
            if let Some(p) = found.first() {
                assert!(p.message.contains("never matches"), "{}", p.message);
            }
        }
        let spaced = single("Deny", "Bool", P, r#""True ""#);
        assert_eq!(kinds(&spaced), vec![PitfallKind::NonBooleanValue]);
        let message = &spaced.pitfalls()[0].message;
        assert!(message.contains(r#"["true "]"#), "{message}");
    }

    #[test]
    fn age_deny_with_and_without_null_guard() {
        let unguarded = single("Deny", "NumericGreaterThan", A, r#""3600""#);
        assert_eq!(kinds(&unguarded), vec![PitfallKind::AgeWithoutNullGuard]);
        assert!(unguarded.pitfalls()[0].message.contains("NumericGreaterThanIfExists"));

        // Guard in the same statement.
        let condition = format!(r#"{{"NumericGreaterThan":{{"{A}":"3600"}},"Null":{{"{A}":"false"}}}}"#);
        let same_statement = policy_with("Deny", r#""*""#, &condition);
        assert_eq!(same_statement.pitfalls(), Vec::new());
        let requirement = only_statement(&same_statement).mfa_requirement();
        assert_eq!(requirement, req(DenyStaleMfa, false, Some(3600)));

        // Guard in another statement of the policy.
        let text = r#"{"Statement":[
          {"Effect":"Deny","Action":"*",
           "Condition":{"NumericGreaterThan":{"aws:MultiFactorAuthAge":"3600"}}},
          {"Effect":"Deny","NotAction":["iam:*","sts:*"],
           "Condition":{"Null":{"aws:MultiFactorAuthPresent":"true"}}}]}"#;
        let guarded = parse_policy(text).expect("parses");
        assert_eq!(guarded.pitfalls(), Vec::new());
        assert_eq!(guarded.mfa_statements().len(), 2);

        // IfExists already matches the absent key; an Allow with an age bound needs no guard.
        for (effect, op) in [("Deny", "NumericGreaterThanIfExists"), ("Allow", "NumericLessThan")] {
            let policy = policy_with(effect, r#""s3:*""#, &cond(op, A, "3600"));
            assert_eq!(policy.pitfalls(), Vec::new(), "{effect} {op}");
        }
    }

    #[test]
    fn policy_without_mfa_conditions() {
        let text = r#"{"Version":"2012-10-17","Statement":[
          {"Effect":"Allow","Action":"s3:*","Resource":"*"},
          {"Effect":"Deny","Action":"ec2:*","Resource":"*",
           "Condition":{"StringNotEquals":{"aws:RequestedRegion":"eu-west-1"}}}]}"#;
        let policy = parse_policy(text).expect("parses");
        assert_eq!(policy.statements.len(), 2);
        assert!(!policy.requires_mfa());
        assert!(!policy.requires_mfa_for("s3:GetObject"));
        assert!(!policy.has_mfa_condition());
        assert!(policy.mfa_statements().is_empty());
        assert!(policy.pitfalls().is_empty());
    }

    #[test]
    fn has_mfa_condition_counts_unevaluable_forms() {
        let policy = single("Allow", "ForAnyValue:StringEquals", P, r#""true""#);
        assert!(policy.has_mfa_condition());
        assert!(!policy.requires_mfa());
    }

    #[test]
    fn invalid_statements_are_skipped_but_keep_their_index() {
        let text = r#"{"Statement":[5,"x",null,{"Effect":"Maybe","Action":"*"},
          {"Sid":7,"Effect":"Deny","Action":"*",
           "Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}}]}"#;
        let policy = parse_policy(text).expect("parses");
        let s = only_statement(&policy);
        assert_eq!(s.index, 4);
        assert_eq!(s.sid, None);
        let pitfalls = policy.pitfalls();
        assert!(!pitfalls.is_empty());
        assert!(pitfalls.iter().all(|p| p.statement == 4), "{pitfalls:?}");
    }

    #[test]
    fn garbage_never_panics() {
        let deep_array = "[".repeat(100_000);
        let deep_object = r#"{"a":"#.repeat(100_000);
        let deep_value = format!("{}{}", "[".repeat(200), "]".repeat(200));
        let deep_condition = format!(
            r#"{{"Statement":{{"Effect":"Deny","Action":"*","Condition":{}}}}}"#,
            cond("Bool", P, &deep_value)
        );
        let huge = format!(
            r#"{{"Statement":{{"Effect":"Deny","Action":"{}","Sid":"{}"}}}}"#,
            "*a".repeat(200_000),
            "s".repeat(1_000_000)
        );
        let not_json = || Err(PolicyError::NotJson(String::new()));
        let no_statement = || Err(PolicyError::NoStatement);
        #[rustfmt::skip]
        let cases: Vec<(&str, Result<(), PolicyError>)> = vec![
            ("", not_json()),
            ("{", not_json()),
            ("%7B", not_json()),
            ("%", not_json()),
            ("+", not_json()),
            ("\u{feff}", not_json()),
            ("\"\"", not_json()),
            (&deep_array, not_json()),
            (&deep_object, not_json()),
            (&deep_condition, not_json()),
            ("[]", no_statement()),
            ("{}", no_statement()),
            ("null", no_statement()),
            ("\"5\"", no_statement()),
            (r#"{"Statement": 5}"#, no_statement()),
            (r#"{"Statement": null}"#, no_statement()),
            (r#"{"Version":"2012-10-17"}"#, no_statement()),
            (r#"{"Statement": []}"#, Ok(())),
            (r#"{"Statement": {}}"#, Ok(())),
            (r#"{"Statement":{"Effect":"Deny","Condition":5}}"#, Ok(())),
            (r#"{"Statement":{"Effect":"Deny","Condition":{"Bool":5,"Null":[1]}}}"#, Ok(())),
            (&huge, Ok(())),
        ];
        for (input, expected) in cases {
            let shown: String = input.chars().take(40).collect();
            let result = parse_policy(input);
            match (&result, &expected) {
                (Err(PolicyError::NotJson(reason)), Err(PolicyError::NotJson(_))) => {
                    assert!(!reason.is_empty(), "{shown}");
                }
                (Err(got), Err(want)) => assert_eq!(got, want, "{shown}"),
                (Ok(policy), Ok(())) => {
                    // Every query on whatever parsed must be total too.
                    assert!(policy.pitfalls().is_empty(), "{shown}");
                    assert!(!policy.requires_mfa(), "{shown}");
                    assert!(!policy.requires_mfa_for("iam:GetUser"), "{shown}");
                }
                _ => panic!("{shown}: got {result:?}, want {expected:?}"),
            }
        }
    }

    #[test]
    fn recursion_limit_is_reported() {
        match parse_policy(&"[".repeat(100_000)) {
            Err(PolicyError::NotJson(reason)) => {
                assert!(reason.contains("recursion limit"), "{reason}")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn pitfall_ids_and_error_display() {
        #[rustfmt::skip]
        let cases = [
            (PitfallKind::BoolNeverAppliesToLongTermKeys, "bool_never_applies_to_long_term_keys"),
            (PitfallKind::LocksOutSelfService, "locks_out_self_service"),
            (PitfallKind::AllowOnMfaFalse, "allow_on_mfa_false"),
            (PitfallKind::NonBooleanValue, "non_boolean_value"),
            (PitfallKind::AgeWithoutNullGuard, "age_without_null_guard"),
        ];
        for (kind, id) in cases {
            assert_eq!(kind.id(), id);
        }
        assert_eq!(PolicyError::NoStatement.to_string(), "policy document has no Statement");
        let not_json = PolicyError::NotJson("eof".into());
        assert_eq!(not_json.to_string(), "policy document is not JSON: eof");
        let boxed: Box<dyn std::error::Error> = Box::new(PolicyError::NoStatement);
        assert!(boxed.to_string().contains("Statement"));
    }

    #[test]
    fn messages_clip_hostile_sids() {
        let text = format!(
            r#"{{"Statement":{{"Sid":"{}","Effect":"Deny","Action":"*","Condition":{}}}}}"#,
            "é".repeat(10_000),
            cond("Bool", P, r#""false""#)
        );
        let policy = parse_policy(&text).expect("parses");
        let pitfalls = policy.pitfalls();
        assert_eq!(pitfalls.len(), 2, "{pitfalls:?}");
        for p in &pitfalls {
            assert!(p.message.chars().count() < 600, "{}", p.message.len());
            assert!(p.message.contains('…'));
        }
    }
}
