//! `mfatrail gen`: a synthetic archive for tests, benches and demos.

use std::io::Write;

use chrono::{TimeZone, Utc};

use crate::cli::GenArgs;
use crate::error::{Error, Result};
use crate::exit::Exit;
use crate::report::human_bytes;
use crate::time::{DayEnd, parse_time_arg};
use mfatrail_gen::{GenOptions, Scenario, generate};

pub fn run(a: GenArgs, out: &mut dyn Write) -> Result<Exit> {
    let since_ms = parse_time_arg(&a.since, DayEnd::Start)?;
    let since = Utc
        .timestamp_millis_opt(since_ms)
        .single()
        .ok_or_else(|| Error::usage("--since", a.since.clone(), "out of range"))?;
    let scenarios = a
        .scenarios
        .iter()
        .map(|s| {
            s.parse::<Scenario>()
                .map_err(|e| Error::usage("--scenario", s.clone(), e.to_string()))
        })
        .collect::<Result<Vec<_>>>()?;
    if !(a.mb.is_finite() && a.mb >= 0.0) {
        return Err(Error::usage("--mb", a.mb.to_string(), "must be a non-negative number"));
    }
    let opts = GenOptions {
        out: a.out.clone(),
        seed: a.seed,
        mb: a.mb,
        since,
        hours: a.hours,
        accounts: a.accounts,
        scenarios,
        realistic: a.realistic,
    };
    let s = generate(&opts).map_err(|e| Error::usage("gen options", a.out.display().to_string(), e.to_string()))?;
    writeln!(
        out,
        "wrote {} log files and {} digest files to {}: {} records ({} from scenarios), {} uncompressed, {} compressed; accounts {}{}",
        s.files,
        s.digest_files,
        a.out.display(),
        s.records,
        s.scenario_records,
        human_bytes(s.bytes_uncompressed),
        human_bytes(s.bytes_compressed),
        s.accounts.join(","),
        s.org_id.map(|o| format!(" (organization {o})")).unwrap_or_default()
    )?;
    Ok(Exit::Ok)
}
