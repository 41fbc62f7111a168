//! Exit codes (DESIGN §2).

/// What a run ended with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// diagnose: a cause was found; other commands: done.
    Ok,
    /// diagnose: no correlation found.
    NoCorrelation,
    /// Usage or input error.
    Usage,
    /// `--strict` and some input could not be read.
    StrictFailures,
    /// A rule failed internally: its finding has status `error`; the rest was reported.
    RuleError,
    /// policy-lint: pitfalls found.
    Findings,
}

impl From<Exit> for i32 {
    fn from(e: Exit) -> i32 {
        match e {
            Exit::Ok => 0,
            Exit::NoCorrelation => 1,
            Exit::Usage => 2,
            Exit::StrictFailures => 3,
            Exit::RuleError => 4,
            Exit::Findings => 1,
        }
    }
}
