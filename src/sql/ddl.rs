//! `mfatrail sql --ddl`: the table for teams that have none. The columns are those of the AWS
//! Athena documentation's CloudTrail table ("Create the table for CloudTrail logs in Athena
//! using partition projection"); the partitions cover an organization trail (account, region,
//! delivery day), all projected, so no `ALTER TABLE ADD PARTITION` is ever needed.

use super::{check_account, check_region, check_s3_prefix, check_table, lit};
use crate::error::{Error, Result};

/// Regions a trail writes to when `--region` is not given (commercial partition, 2026).
pub const DEFAULT_REGIONS: &[&str] = &[
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-7",
    "ca-central-1",
    "ca-west-1",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
];

/// What `--ddl` was asked for.
pub struct DdlSpec {
    pub table: String,
    /// `s3://bucket/[prefix/]AWSLogs/[o-org/]`.
    pub location: String,
    pub accounts: Vec<String>,
    pub regions: Vec<String>,
    /// First day of the projection (`yyyy/MM/dd`).
    pub first_day: String,
}

const COLUMNS: &str = "  eventversion STRING,
  useridentity STRUCT<
    type: STRING,
    principalid: STRING,
    arn: STRING,
    accountid: STRING,
    invokedby: STRING,
    accesskeyid: STRING,
    username: STRING,
    onbehalfof: STRUCT<
      userid: STRING,
      identitystorearn: STRING>,
    sessioncontext: STRUCT<
      attributes: STRUCT<
        mfaauthenticated: STRING,
        creationdate: STRING>,
      sessionissuer: STRUCT<
        type: STRING,
        principalid: STRING,
        arn: STRING,
        accountid: STRING,
        username: STRING>,
      ec2roledelivery: STRING,
      webidfederationdata: STRUCT<
        federatedprovider: STRING,
        attributes: MAP<STRING, STRING>>>>,
  eventtime STRING,
  eventsource STRING,
  eventname STRING,
  awsregion STRING,
  sourceipaddress STRING,
  useragent STRING,
  errorcode STRING,
  errormessage STRING,
  requestparameters STRING,
  responseelements STRING,
  additionaleventdata STRING,
  requestid STRING,
  eventid STRING,
  readonly STRING,
  resources ARRAY<STRUCT<
    arn: STRING,
    accountid: STRING,
    type: STRING>>,
  eventtype STRING,
  apiversion STRING,
  recipientaccountid STRING,
  serviceeventdetails STRING,
  sharedeventid STRING,
  vpcendpointid STRING,
  vpcendpointaccountid STRING,
  eventcategory STRING,
  tlsdetails STRUCT<
    tlsversion: STRING,
    ciphersuite: STRING,
    clienthostheader: STRING>";

/// The `CREATE EXTERNAL TABLE` statement (Athena).
pub fn ddl(spec: &DdlSpec) -> Result<String> {
    let table = check_table(&spec.table)?
        .iter()
        .map(|p| format!("`{p}`"))
        .collect::<Vec<_>>()
        .join(".");
    let location = check_s3_prefix("--location", &spec.location)?;
    if !location.trim_end_matches('/').ends_with("/AWSLogs")
        && !location
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .is_some_and(|o| o.starts_with("o-"))
    {
        return Err(Error::usage(
            "--location",
            spec.location.clone(),
            "expected the trail's AWSLogs/ prefix (s3://bucket/[prefix/]AWSLogs/ or …/AWSLogs/o-org/)",
        ));
    }
    if spec.accounts.is_empty() {
        return Err(Error::usage(
            "--account",
            "",
            "name the trail's accounts (repeat --account): the account partition is projected from that list",
        ));
    }
    let accounts: Vec<String> = spec.accounts.iter().map(|a| check_account(a)).collect::<Result<_>>()?;
    let regions: Vec<String> = if spec.regions.is_empty() {
        DEFAULT_REGIONS.iter().map(|r| r.to_string()).collect()
    } else {
        spec.regions.iter().map(|r| check_region(r)).collect::<Result<_>>()?
    };
    let valid_day = chrono::NaiveDate::parse_from_str(&spec.first_day, "%Y/%m/%d").is_ok();
    if !valid_day {
        return Err(Error::usage("--since", spec.first_day.clone(), "expected a date"));
    }
    let props = [
        ("projection.enabled", "true".to_owned()),
        ("projection.account.type", "enum".into()),
        ("projection.account.values", accounts.join(",")),
        ("projection.region.type", "enum".into()),
        ("projection.region.values", regions.join(",")),
        ("projection.timestamp.type", "date".into()),
        ("projection.timestamp.format", "yyyy/MM/dd".into()),
        ("projection.timestamp.interval", "1".into()),
        ("projection.timestamp.interval.unit", "DAYS".into()),
        ("projection.timestamp.range", format!("{},NOW", spec.first_day)),
        (
            "storage.location.template",
            format!("{location}${{account}}/CloudTrail/${{region}}/${{timestamp}}"),
        ),
    ]
    .iter()
    .map(|(k, v)| format!("  {}={}", lit(k), lit(v)))
    .collect::<Vec<_>>()
    .join(",\n");
    Ok(format!(
        "CREATE EXTERNAL TABLE {table} (
{COLUMNS}
)
PARTITIONED BY (account STRING, region STRING, `timestamp` STRING)
ROW FORMAT SERDE 'org.apache.hive.hcatalog.data.JsonSerDe'
STORED AS INPUTFORMAT 'com.amazon.emr.cloudtrail.CloudTrailInputFormat'
OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'
LOCATION {}
TBLPROPERTIES (
{props}
);
",
        lit(&location)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> DdlSpec {
        DdlSpec {
            table: "security.cloudtrail_mfa".into(),
            location: "s3://org-trail-bucket/AWSLogs/o-abc123/".into(),
            accounts: vec!["111122223333".into(), "444455556666".into()],
            regions: vec![],
            first_day: "2025/01/01".into(),
        }
    }

    #[test]
    fn projects_account_region_and_day() {
        let d = ddl(&spec()).unwrap();
        assert!(d.contains("'projection.account.values'='111122223333,444455556666'"));
        assert!(d.contains(
            "'storage.location.template'='s3://org-trail-bucket/AWSLogs/o-abc123/${account}/CloudTrail/${region}/${timestamp}'"
        ));
        assert!(d.contains("us-east-1") && d.contains("'2025/01/01,NOW'"));
    }

    #[test]
    fn refuses_what_it_cannot_use() {
        let mut s = spec();
        s.location = "s3://org-trail-bucket/logs/".into();
        assert!(ddl(&s).is_err(), "not an AWSLogs prefix");
        let mut s = spec();
        s.accounts.clear();
        assert!(ddl(&s).is_err(), "no accounts");
        let mut s = spec();
        s.accounts.push("1' OR '1'='1".into());
        assert!(ddl(&s).is_err());
        let mut s = spec();
        s.table = "x;y".into();
        assert!(ddl(&s).is_err());
    }
}
