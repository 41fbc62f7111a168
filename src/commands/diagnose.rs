//! `mfatrail diagnose`: the runbook's Diagnosis for one user.

use std::io::Write;

use crate::cli::DiagnoseArgs;
use crate::error::{Error, Result};
use crate::event::{Principal, PrincipalKind, ROOT};
use crate::exit::Exit;
use crate::index::{Index, Resolved};
use crate::pipeline::load;
use crate::report::Format;
use crate::report::diagnosis::{to_json, write_text};
use crate::rules::{DiagnoseOptions, diagnose};
use crate::time::{DayEnd, parse_time_arg};

pub fn run(a: DiagnoseArgs, out: &mut dyn Write) -> Result<Exit> {
    let until = a.until.as_deref().map(|s| parse_time_arg(s, DayEnd::End)).transpose()?;
    let (window, extend_to) = super::passes(&a.pass)?;
    // With --until the data needed is known; without it the latest failure must be found first.
    let since = until.map(|u| u - extend_to);
    let mut opts = super::load_options(&a.read, since, until)?;
    opts.s3.accounts = a.filter.accounts.clone();
    opts.s3.regions = a.filter.regions.clone();
    let loaded = load(&opts)?;
    let mut ix = Index::build(super::filter_rows(loaded.events, &a.filter));
    let pid = match ix.resolve_user(&a.user, &a.filter.accounts) {
        Resolved::One(p) => p,
        Resolved::Ambiguous(accounts) => {
            return Err(Error::AmbiguousUser {
                name: a.user.clone(),
                accounts: accounts
                    .iter()
                    .map(|(acct, n)| format!("{acct}: {n} failure signal(s)"))
                    .collect(),
            });
        }
        Resolved::Absent => {
            let kind = if a.user.eq_ignore_ascii_case(ROOT) {
                PrincipalKind::Root
            } else {
                PrincipalKind::IamUser
            };
            let account = a.filter.accounts.first().cloned().unwrap_or_default();
            ix.ensure(Principal::new(kind, &account, &a.user))
        }
    };
    let d = diagnose(
        &ix,
        pid,
        &DiagnoseOptions {
            until,
            window,
            extend_to,
        },
    );
    super::with_output(&a.out.output, out, |w| match a.out.format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut *w, &to_json(&d, &loaded.stats, loaded.elapsed))?;
            writeln!(w)
        }
        Format::Text => write_text(w, &d, &loaded.stats, loaded.elapsed),
    })?;
    let ok = if d.has_error() {
        Exit::RuleError
    } else if d.causes.is_empty() {
        Exit::NoCorrelation
    } else {
        Exit::Ok
    };
    Ok(super::strict_exit(&a.read, &loaded.stats, ok))
}
