//! The known ways an MFA condition fails to do what its author meant (DESIGN §6), each with
//! the statement that shows it.

use super::{AGE_KEY, Effect, MfaKey, PRESENT_KEY, Pitfall, PitfallKind, Policy, SELF_SERVICE_ACTIONS, clip};

impl Policy {
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
