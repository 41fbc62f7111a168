//! `mfatrail sql`: prints the classifier query (or the table's DDL) for an engine.

use std::io::Write;

use crate::cli::SqlArgs;
use crate::error::{Error, Result};
use crate::exit::Exit;
use crate::sql::ddl::{DdlSpec, ddl};
use crate::sql::{Engine, Partitions, QuerySpec, query};

pub fn run(a: SqlArgs, out: &mut dyn Write) -> Result<Exit> {
    let (since, until) = super::since_until(&a.since, &a.until)?;
    let text = if a.ddl {
        if a.engine != Engine::Athena {
            return Err(Error::usage(
                "--ddl",
                format!("{:?}", a.engine).to_lowercase(),
                "the DDL is Athena's (partition projection); give --engine athena",
            ));
        }
        let first_day = since.map_or_else(
            || "2020/01/01".to_owned(),
            |s| {
                chrono::DateTime::from_timestamp_millis(s)
                    .unwrap_or_default()
                    .format("%Y/%m/%d")
                    .to_string()
            },
        );
        ddl(&DdlSpec {
            table: a.table,
            location: a.location.unwrap_or_default(),
            accounts: a.accounts,
            regions: a.regions,
            first_day,
        })?
    } else {
        let date = match a.date_partition.as_str() {
            "none" => None,
            c => Some(c.to_owned()),
        };
        query(&QuerySpec {
            engine: a.engine,
            table: a.table,
            since,
            until,
            lag: a.delivery_lag,
            accounts: a.accounts,
            regions: a.regions,
            partitions: Partitions {
                date,
                account: a.account_partition,
                region: a.region_partition,
            },
            unload_to: a.unload_to,
            path_column: match a.path_column.as_deref() {
                Some("none") => None,
                Some(c) => Some(c.to_owned()),
                None if a.engine == crate::sql::Engine::Duckdb => Some("filename".to_owned()),
                None => Some("$path".to_owned()),
            },
        })?
    };
    super::with_output(&a.output, out, |w| w.write_all(text.as_bytes()))?;
    Ok(Exit::Ok)
}
