//! The Parquet output of `mfatrail sql` (Athena's UNLOAD, Trino, DuckDB's COPY) read as events:
//! the same columns as the store's parts, written by another engine. Engines differ in how
//! they write time (Athena: INT96 or microseconds, DuckDB: microseconds, no zone) and may type
//! an all-NULL column as they like, so each column is brought to the store's type first.
//! Rows the engine could not give a time to are counted, as the native parser counts them.

use std::io::Cursor;

use polars::prelude::*;

use crate::event::{EventClass, EventRow, Outcome};
use crate::frame::{self, COLUMNS, col};
use crate::parse::usable_time;
use crate::time::parse_event_time;

/// A Parquet file starts (and ends) with these bytes.
pub fn is_parquet(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PAR1")
}

/// Columns of a boolean type; every other column but the time is text.
const BOOLEAN: [&str; 3] = [col::mfa_used, col::mfa_authenticated, col::set_as_default];

/// Rows of one result file, and those it could not use.
#[derive(Debug, Default)]
pub struct ResultRows {
    pub rows: Vec<EventRow>,
    /// Rows without a usable time (NULL, unreadable, or in the year 2100 and later).
    pub without_time: u64,
    /// Rows whose class or outcome this mfatrail does not know.
    pub unknown_class: u64,
    /// Every row in the file.
    pub total: u64,
}

fn to_ms(v: i64, unit: TimeUnit) -> i64 {
    match unit {
        TimeUnit::Nanoseconds => v.div_euclid(1_000_000),
        TimeUnit::Microseconds => v.div_euclid(1_000),
        TimeUnit::Milliseconds => v,
    }
}

/// Reads one result file. `Err`: not Parquet, or not the query's columns (the message says which).
pub fn read(bytes: &[u8]) -> Result<ResultRows, String> {
    let df = ParquetReader::new(Cursor::new(bytes))
        .read_parallel(ParallelStrategy::None)
        .finish()
        .map_err(|e| format!("unreadable Parquet: {e}"))?;
    let missing: Vec<&str> = COLUMNS.iter().copied().filter(|c| df.column(c).is_err()).collect();
    if !missing.is_empty() {
        return Err(format!(
            "Parquet without the columns of `mfatrail sql` (missing: {}): not a query result of this version",
            missing.join(", ")
        ));
    }
    let total = df.height();
    let mut df = df.select(COLUMNS.iter().copied()).map_err(|e| e.to_string())?;

    let time = df.column(col::event_time).map_err(|e| e.to_string())?;
    let ms: Vec<Option<i64>> = match time.dtype().clone() {
        DataType::Datetime(unit, _) => {
            let ca = time.datetime().map_err(|e| e.to_string())?;
            ca.physical().iter().map(|v| v.map(|v| to_ms(v, unit))).collect()
        }
        DataType::String => time
            .str()
            .map_err(|e| e.to_string())?
            .iter()
            .map(|s| s.and_then(parse_event_time))
            .collect(),
        DataType::Int64 => time.i64().map_err(|e| e.to_string())?.iter().collect(),
        other => return Err(format!("event_time is {other}: expected a timestamp")),
    };
    // Times outside 2000..2100 are not usable: they are clock garbage, and `i64::MIN` would
    // overflow the day partition and the window arithmetic.
    let ms: Vec<Option<i64>> = ms.into_iter().map(|t| t.filter(|t| usable_time(*t))).collect();

    for c in COLUMNS.iter().copied().filter(|c| *c != col::event_time) {
        let want = if BOOLEAN.contains(&c) {
            DataType::Boolean
        } else {
            DataType::String
        };
        let cast = df
            .column(c)
            .and_then(|s| s.cast(&want))
            .map_err(|e| format!("column {c}: {e}"))?;
        df.with_column(cast).map_err(|e| e.to_string())?;
    }
    let known = |name: &str, ok: &dyn Fn(&str) -> bool| -> Result<Vec<bool>, String> {
        Ok(df
            .column(name)
            .and_then(|c| c.str().cloned())
            .map_err(|e| e.to_string())?
            .iter()
            .map(|v| v.is_some_and(ok))
            .collect())
    };
    let class_ok = known(col::class, &|v| EventClass::parse(v).is_some())?;
    let outcome_ok = known(col::outcome, &|v| Outcome::parse(v).is_some())?;

    let mut out = ResultRows {
        total: total as u64,
        ..ResultRows::default()
    };
    let mut keep = Vec::with_capacity(total);
    let mut times = Vec::with_capacity(total);
    for i in 0..total {
        let ok = match (ms[i], class_ok[i] && outcome_ok[i]) {
            (_, false) => {
                out.unknown_class += 1;
                false
            }
            (None, true) => {
                out.without_time += 1;
                false
            }
            (Some(t), true) => {
                times.push(t);
                true
            }
        };
        keep.push(ok);
    }
    let mask = BooleanChunked::from_slice("keep".into(), &keep);
    let mut df = df.filter(&mask).map_err(|e| e.to_string())?;
    let time = Int64Chunked::from_vec(col::event_time.into(), times)
        .into_datetime(TimeUnit::Milliseconds, Some(TimeZone::UTC))
        .into_column();
    df.with_column(time).map_err(|e| e.to_string())?;
    out.rows = frame::rows(&df).map_err(|e| e.to_string())?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::tests::ev;

    fn parquet(mut df: DataFrame) -> Vec<u8> {
        let mut buf = Vec::new();
        ParquetWriter::new(&mut buf).finish(&mut df).unwrap();
        buf
    }

    fn frame_of(n: usize) -> DataFrame {
        let rows: Vec<EventRow> = (0..n)
            .map(|i| {
                let mut e = ev(i as i64, EventClass::MfaFailure, Some("alice"), None, None);
                e.event_time += 1_795_000_000_000;
                e
            })
            .collect();
        frame::build(&rows).unwrap()
    }

    #[test]
    fn reads_engine_time_units_and_text_and_counts_rows_without_time() {
        // An engine's microseconds without a zone (DuckDB), a NULL and a far-future time.
        let mut df = frame_of(4);
        let us = Int64Chunked::from_slice_options(
            col::event_time.into(),
            &[
                Some(1_795_000_000_000_123),
                None,
                Some(4_200_000_000_000_000),
                Some(1_795_000_001_000_000),
            ],
        )
        .into_datetime(TimeUnit::Microseconds, None)
        .into_column();
        df.with_column(us).unwrap();
        let got = read(&parquet(df)).unwrap();
        assert_eq!((got.total, got.without_time, got.unknown_class), (4, 2, 0));
        let times: Vec<i64> = got.rows.iter().map(|e| e.event_time).collect();
        assert_eq!(times, [1_795_000_000_000, 1_795_000_001_000]);
        assert!(got.rows.iter().all(|e| e.user_name.as_deref() == Some("alice")));

        // Text times, as a CSV-minded engine might write them.
        let mut df = frame_of(2);
        let text = Column::new(
            col::event_time.into(),
            [Some("2026-11-18T11:06:40Z"), Some("last tuesday")],
        );
        df.with_column(text).unwrap();
        let got = read(&parquet(df)).unwrap();
        assert_eq!((got.rows.len(), got.without_time), (1, 1));
        assert_eq!(got.rows[0].event_time, 1_795_000_000_000);

        // Milliseconds at the ends of i64, and 1970: not usable, never an overflow later.
        let mut df = frame_of(4);
        let ms = Int64Chunked::from_slice(col::event_time.into(), &[i64::MIN, i64::MAX, 0, 1_795_000_000_000])
            .into_datetime(TimeUnit::Milliseconds, None)
            .into_column();
        df.with_column(ms).unwrap();
        let got = read(&parquet(df)).unwrap();
        assert_eq!((got.rows.len(), got.without_time), (1, 3));
    }

    #[test]
    fn unknown_classes_are_counted_and_foreign_parquet_is_refused() {
        let mut df = frame_of(2);
        df.with_column(Column::new(col::class.into(), ["mfa_failure", "quantum_login"]))
            .unwrap();
        let got = read(&parquet(df)).unwrap();
        assert_eq!((got.rows.len(), got.unknown_class), (1, 1));

        let other = DataFrame::new(1, vec![Column::new("a".into(), [1i64])]).unwrap();
        let err = read(&parquet(other)).unwrap_err();
        assert!(err.contains("missing: event_time, event_source"), "{err}");
        assert!(read(b"PAR1 not really").unwrap_err().starts_with("unreadable Parquet"));
    }
}
