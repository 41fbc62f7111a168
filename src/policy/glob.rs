//! IAM action matching (`Action` / `NotAction` patterns).

use super::Actions;

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
