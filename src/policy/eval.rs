//! AWS condition evaluation for the MFA keys: a statement's conditions are evaluated in the
//! request contexts that matter (fresh MFA, stale MFA, session without MFA, long-term key) and
//! the outcomes tell whether, and how, the statement makes MFA a requirement.

use super::{Caller, Effect, KNOWN_OPERATORS, MfaCondition, MfaKey, Requirement, RequirementKind, Statement, clip};

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

    pub(super) fn values_display(&self) -> String {
        let quoted: Vec<String> = self.values.iter().map(|v| format!("\"{}\"", clip(v))).collect();
        format!("[{}]", quoted.join(", "))
    }
}

/// Whether a statement's MFA conditions (ANDed) match in each context.
#[derive(Debug, Clone, Copy)]
pub(super) struct Profile {
    pub(super) fresh: bool,
    pub(super) stale: bool,
    pub(super) session: bool,
    pub(super) long_term: bool,
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
    pub(super) fn profile(&self) -> Option<Profile> {
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

    /// Whether this statement holds `caller` to MFA for the actions it covers: a Deny that
    /// applies to the caller while sparing fresh MFA sessions, or an Allow that grants fresh MFA
    /// sessions but not the caller. An `aws:MultiFactorAuthAge` limit alone reaches only MFA
    /// sessions: it never holds a caller without MFA to it.
    pub fn requires_mfa_of(&self, caller: Caller) -> bool {
        let Some(p) = self.profile().filter(|_| self.mfa_requirement().is_some()) else {
            return false;
        };
        let applies = match caller {
            Caller::NoMfaSession => p.session,
            Caller::LongTermKey => p.long_term,
            Caller::StaleMfa => p.stale,
        };
        match self.effect {
            Effect::Deny => applies,
            Effect::Allow => !applies,
        }
    }

    pub fn label(&self) -> String {
        match &self.sid {
            Some(sid) => format!("Statement[{}] \"{}\"", self.index, clip(sid)),
            None => format!("Statement[{}]", self.index),
        }
    }
}
