//! IAM snapshots: what the account *is*, next to what the logs say it *did*. Analysts collect
//! three AWS CLI outputs with the archive:
//!
//! - `aws iam get-account-authorization-details`: users (groups, inline and attached policies),
//!   groups, roles (trust policies), managed policies with their stored versions;
//! - `aws iam list-virtual-mfa-devices`: every virtual device of the account, assigned or not;
//! - `aws iam list-mfa-devices --user-name U`: every device of one user (virtual, FIDO, hardware).
//!
//! Each file is recognised by its content, never its name. Every list is optional (`--filter`
//! empties some); several pages of one command merge; a raw page that says `IsTruncated` (or a
//! `--max-items` cut with `NextToken`) is kept with a warning that the snapshot is incomplete.
//! Policy documents are objects (AWS CLI, boto3) or URL-encoded strings (Go, Java, Rust SDKs):
//! both are read, percent-decoding without turning `+` into a space (botocore's `unquote`).
//! Anything else (not JSON, YAML or table output, another command's JSON, a truncated file)
//! is refused with a one-line reason: the run stops with exit 2.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::event::{Millis, ROOT, lc};
use crate::time::parse_event_time;

#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("IAM snapshot {path}: cannot read: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("IAM snapshot {path}: {reason}")]
    Invalid { path: PathBuf, reason: String },
}

impl From<SnapshotError> for crate::error::Error {
    fn from(e: SnapshotError) -> Self {
        crate::error::Error::Stage(Box::new(e))
    }
}

/// How a device is used, from its serial (IAM-SNAPSHOT-FACTS §2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum DeviceKind {
    /// `arn:aws:iam::ACCT:mfa/NAME`: an authenticator app (TOTP).
    Virtual,
    /// `arn:aws:iam::ACCT:u2f/…`: a FIDO security key or passkey (no clock).
    Fido,
    /// A bare serial: a hardware TOTP token.
    Hardware,
}

impl DeviceKind {
    pub fn of(serial: &str) -> DeviceKind {
        if serial.contains(":u2f/") {
            DeviceKind::Fido
        } else if serial.starts_with("arn:") {
            DeviceKind::Virtual
        } else {
            DeviceKind::Hardware
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceKind::Virtual => "virtual",
            DeviceKind::Fido => "fido",
            DeviceKind::Hardware => "hardware",
        }
    }
}

/// One `list-mfa-devices` output.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MfaList {
    /// The users it names, lower-cased.
    pub users: BTreeSet<String>,
    /// The accounts its serials' ARNs name.
    pub accounts: BTreeSet<String>,
}

/// One MFA device as the listings show it.
#[derive(Debug, Clone, PartialEq)]
pub struct Device {
    pub serial: String,
    pub kind: DeviceKind,
    /// The account (from the serial's ARN, else the user's ARN).
    pub account: Option<String>,
    /// Assigned to this user (lower-cased); None: an unassigned virtual device.
    pub user: Option<String>,
    pub enable_date: Option<Millis>,
    /// Which listing showed it, and in which file.
    pub seen_in: Vec<String>,
}

/// A policy document as the snapshot holds it: JSON text, decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub name: String,
    pub text: String,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct User {
    pub name: String,
    pub arn: Option<String>,
    pub account: Option<String>,
    pub created: Option<Millis>,
    pub groups: Vec<String>,
    pub attached: Vec<String>,
    pub inline: Vec<Document>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Group {
    pub name: String,
    pub account: Option<String>,
    pub attached: Vec<String>,
    pub inline: Vec<Document>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Role {
    pub name: String,
    pub account: Option<String>,
    pub trust: Option<Document>,
}

/// A managed policy and its stored versions (up to 5).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Managed {
    pub arn: String,
    pub default_version: Option<String>,
    /// (version id, document, is default).
    pub versions: Vec<(String, Option<Document>, bool)>,
}

/// Everything the snapshot files hold, merged.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub files: Vec<String>,
    /// Keyed by (account, lower-cased name); the account is "" when no ARN tells it.
    pub users: BTreeMap<(String, String), User>,
    pub groups: BTreeMap<(String, String), Group>,
    pub roles: BTreeMap<(String, String), Role>,
    pub managed: BTreeMap<String, Managed>,
    pub devices: BTreeMap<String, Device>,
    /// Which of the three outputs were given.
    pub has_authorization_details: bool,
    pub has_virtual_devices: bool,
    /// `list-mfa-devices` outputs: the users each names (an empty one names nobody), and the
    /// accounts its serials' ARNs name (none for a list of hardware tokens alone).
    pub mfa_device_lists: Vec<MfaList>,
    /// The newest date written in the snapshot (a lower bound of its collection time).
    pub newest_date: Option<Millis>,
    /// The one user an empty `list-mfa-devices` output is taken to be about: `diagnose` asks
    /// about one user, so the empty listing handed in with it is theirs; `scan` asks about
    /// everyone, and an empty listing names nobody.
    pub empty_listing_user: Option<String>,
    pub warnings: Vec<String>,
}

/// The account of an IAM ARN, owned.
fn arn_account(arn: &str) -> Option<String> {
    crate::event::arn_account(arn).map(str::to_owned)
}

/// Dates as the collectors write them: `2019-10-28T20:37:09+00:00` (CLI v2),
/// `2013-10-14T18:32:24Z` (v1), `2019-12-18 19:10:08+00:00` (Python `str`).
pub fn parse_date(s: &str) -> Option<Millis> {
    parse_event_time(s).or_else(|| parse_event_time(&s.trim().replacen(' ', "T", 1)))
}

/// A policy document (object, JSON string, or URL-encoded JSON string) as JSON text.
fn document(name: &str, v: &Value) -> Option<Document> {
    let text = match v {
        Value::Object(_) => v.to_string(),
        Value::String(s) if serde_json::from_str::<Value>(s).is_ok() => s.clone(),
        // RFC 3986 percent-decoding only: `+` stays `+` (botocore uses unquote, not unquote_plus).
        Value::String(s) => crate::policy::percent_decode(s),
        _ => return None,
    };
    Some(Document {
        name: name.to_owned(),
        text,
    })
}

fn str_of<'a>(o: &'a Map<String, Value>, k: &str) -> Option<&'a str> {
    o.get(k).and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// A list, or the CLI example's object where the API has a list (IAM-SNAPSHOT-FACTS §1.1).
fn items<'a>(o: &'a Map<String, Value>, k: &str) -> Vec<&'a Value> {
    match o.get(k) {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(v @ Value::Object(_)) => vec![v],
        _ => Vec::new(),
    }
}

fn inline_docs(o: &Map<String, Value>, list: &str) -> Vec<Document> {
    items(o, list)
        .into_iter()
        .filter_map(Value::as_object)
        .filter_map(|p| document(str_of(p, "PolicyName").unwrap_or("?"), p.get("PolicyDocument")?))
        .collect()
}

fn attached_arns(o: &Map<String, Value>) -> Vec<String> {
    items(o, "AttachedManagedPolicies")
        .into_iter()
        .filter_map(Value::as_object)
        .filter_map(|p| str_of(p, "PolicyArn").map(str::to_owned))
        .collect()
}

const AUTH_LISTS: [&str; 4] = ["UserDetailList", "GroupDetailList", "RoleDetailList", "Policies"];

impl Snapshot {
    /// Reads and merges the files; the first bad one stops the run.
    pub fn load(paths: &[PathBuf]) -> Result<Snapshot, SnapshotError> {
        let mut s = Snapshot::default();
        for p in paths {
            let bytes = std::fs::read(p).map_err(|source| SnapshotError::Io {
                path: p.clone(),
                source,
            })?;
            s.add(p, &bytes).map_err(|reason| SnapshotError::Invalid {
                path: p.clone(),
                reason,
            })?;
        }
        Ok(s)
    }

    /// Adds one file's content; `Err` is the one-line reason it is refused.
    pub fn add(&mut self, path: &Path, bytes: &[u8]) -> Result<(), String> {
        let name = path.display().to_string();
        let text = std::str::from_utf8(bytes)
            .map_err(|_| "not UTF-8 text: expected the JSON of an aws iam command".to_owned())?;
        let t = text.trim_start_matches('\u{feff}').trim();
        if t.is_empty() {
            return Err("empty file: expected the JSON of an aws iam command".into());
        }
        let root: Value = serde_json::from_str(t).map_err(|e| {
            if e.is_eof() {
                format!("truncated JSON ({e}): the file was cut while being written or copied")
            } else if !t.starts_with(['{', '[']) {
                "not JSON (YAML, text or table output?): collect it with --output json".to_owned()
            } else {
                format!("not valid JSON: {e}")
            }
        })?;
        let Some(o) = root.as_object() else {
            return Err("JSON, but not an object: not the output of get-account-authorization-details, list-virtual-mfa-devices or list-mfa-devices".into());
        };
        let before = self.warnings.len();
        if o.get("IsTruncated").and_then(Value::as_bool) == Some(true) || o.contains_key("NextToken") {
            self.warnings.push(format!(
                "{name} is one page of a longer listing (IsTruncated/NextToken): the snapshot is incomplete; collect without --no-paginate/--max-items, or give every page"
            ));
        }
        if AUTH_LISTS.iter().any(|k| o.contains_key(*k)) {
            self.has_authorization_details = true;
            self.add_authorization_details(o);
        } else if o.contains_key("VirtualMFADevices") {
            self.has_virtual_devices = true;
            for d in items(o, "VirtualMFADevices").into_iter().filter_map(Value::as_object) {
                let user = d.get("User").and_then(Value::as_object);
                self.add_device(
                    str_of(d, "SerialNumber"),
                    user.and_then(|u| str_of(u, "UserName")).or_else(|| {
                        // The root user's device names no UserName; its ARN ends in `:root`.
                        user.and_then(|u| str_of(u, "Arn"))
                            .filter(|a| a.ends_with(":root"))
                            .map(|_| ROOT)
                    }),
                    user.and_then(|u| str_of(u, "Arn")),
                    str_of(d, "EnableDate"),
                    &format!("list-virtual-mfa-devices ({name})"),
                );
            }
        } else if o.contains_key("MFADevices") {
            let mut named = MfaList::default();
            for d in items(o, "MFADevices").into_iter().filter_map(Value::as_object) {
                if let Some(u) = str_of(d, "UserName") {
                    named.users.insert(lc(u));
                }
                if let Some(a) = str_of(d, "SerialNumber").and_then(arn_account) {
                    named.accounts.insert(a);
                }
                self.add_device(
                    str_of(d, "SerialNumber"),
                    str_of(d, "UserName"),
                    None,
                    str_of(d, "EnableDate"),
                    &format!("list-mfa-devices ({name})"),
                );
            }
            self.mfa_device_lists.push(named);
        } else {
            self.warnings.truncate(before);
            let keys: Vec<&str> = o.keys().take(6).map(String::as_str).collect();
            return Err(format!(
                "not the output of get-account-authorization-details, list-virtual-mfa-devices or list-mfa-devices (top-level keys: {})",
                if keys.is_empty() {
                    "none".to_owned()
                } else {
                    keys.join(", ")
                }
            ));
        }
        self.files.push(name);
        Ok(())
    }

    fn date(&mut self, s: Option<&str>) -> Option<Millis> {
        let t = s.and_then(parse_date)?;
        self.newest_date = Some(self.newest_date.map_or(t, |n| n.max(t)));
        Some(t)
    }

    fn add_device(
        &mut self,
        serial: Option<&str>,
        user: Option<&str>,
        user_arn: Option<&str>,
        enabled: Option<&str>,
        seen: &str,
    ) {
        let Some(serial) = serial else { return };
        let enable_date = self.date(enabled);
        let account = arn_account(serial).or_else(|| user_arn.and_then(arn_account));
        let d = self.devices.entry(serial.to_owned()).or_insert_with(|| Device {
            serial: serial.to_owned(),
            kind: DeviceKind::of(serial),
            account: None,
            user: None,
            enable_date: None,
            seen_in: Vec::new(),
        });
        d.account = d.account.take().or(account);
        d.user = d.user.take().or(user.map(lc));
        d.enable_date = d.enable_date.or(enable_date);
        d.seen_in.push(seen.to_owned());
    }

    fn add_authorization_details(&mut self, o: &Map<String, Value>) {
        for u in items(o, "UserDetailList").into_iter().filter_map(Value::as_object) {
            let Some(name) = str_of(u, "UserName") else { continue };
            let arn = str_of(u, "Arn").map(str::to_owned);
            let account = arn.as_deref().and_then(arn_account);
            let created = self.date(str_of(u, "CreateDate"));
            let user = User {
                name: name.to_owned(),
                account: account.clone(),
                arn,
                created,
                groups: items(u, "GroupList")
                    .into_iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect(),
                attached: attached_arns(u),
                inline: inline_docs(u, "UserPolicyList"),
            };
            self.users.insert((account.unwrap_or_default(), lc(name)), user);
        }
        for g in items(o, "GroupDetailList").into_iter().filter_map(Value::as_object) {
            let Some(name) = str_of(g, "GroupName") else { continue };
            let account = str_of(g, "Arn").and_then(arn_account);
            self.date(str_of(g, "CreateDate"));
            let group = Group {
                name: name.to_owned(),
                account: account.clone(),
                attached: attached_arns(g),
                inline: inline_docs(g, "GroupPolicyList"),
            };
            self.groups.insert((account.unwrap_or_default(), lc(name)), group);
        }
        for r in items(o, "RoleDetailList").into_iter().filter_map(Value::as_object) {
            let Some(name) = str_of(r, "RoleName") else { continue };
            let account = str_of(r, "Arn").and_then(arn_account);
            self.date(str_of(r, "CreateDate"));
            let role = Role {
                name: name.to_owned(),
                account: account.clone(),
                trust: r
                    .get("AssumeRolePolicyDocument")
                    .and_then(|d| document("trust policy", d)),
            };
            self.roles.insert((account.unwrap_or_default(), lc(name)), role);
        }
        for p in items(o, "Policies").into_iter().filter_map(Value::as_object) {
            let Some(arn) = str_of(p, "Arn") else { continue };
            self.date(str_of(p, "UpdateDate"));
            let name = str_of(p, "PolicyName").unwrap_or(arn).to_owned();
            let default_version = str_of(p, "DefaultVersionId").map(str::to_owned);
            let versions = items(p, "PolicyVersionList")
                .into_iter()
                .filter_map(Value::as_object)
                .filter_map(|v| {
                    let vid = str_of(v, "VersionId")?.to_owned();
                    let is_default = v.get("IsDefaultVersion").and_then(Value::as_bool).unwrap_or(false)
                        || default_version.as_deref() == Some(vid.as_str());
                    Some((vid, v.get("Document").and_then(|d| document(&name, d)), is_default))
                })
                .collect();
            self.managed.insert(
                arn.to_owned(),
                Managed {
                    arn: arn.to_owned(),
                    default_version,
                    versions,
                },
            );
        }
    }

    /// Accounts the snapshot is about (from its ARNs).
    pub fn accounts(&self) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        out.extend(self.users.values().filter_map(|u| u.account.clone()));
        out.extend(self.groups.values().filter_map(|g| g.account.clone()));
        out.extend(self.roles.values().filter_map(|r| r.account.clone()));
        out.extend(self.devices.values().filter_map(|d| d.account.clone()));
        out.extend(
            self.managed
                .keys()
                .filter_map(|a| arn_account(a))
                .filter(|a| a != "aws"),
        );
        out
    }

    /// The user of the snapshot (`account` may be unknown to it: ARN-less entries match any).
    pub fn user(&self, account: &str, name: &str) -> Option<&User> {
        self.users
            .get(&(account.to_owned(), lc(name)))
            .or_else(|| self.users.get(&(String::new(), lc(name))))
    }

    /// The group of the snapshot.
    pub fn group(&self, account: &str, name: &str) -> Option<&Group> {
        self.groups
            .get(&(account.to_owned(), lc(name)))
            .or_else(|| self.groups.get(&(String::new(), lc(name))))
    }

    /// The account of a device: its serial's ARN; for a bare hardware serial, the account of its
    /// user in the snapshot (when one account has a user of that name), else `default` (the
    /// one account of the snapshot or of the logs). None: it cannot be placed.
    pub fn device_account(&self, d: &Device, default: &str) -> Option<String> {
        d.account
            .clone()
            .or_else(|| d.user.as_deref().and_then(|u| self.account_of_user(u)))
            .or_else(|| (!default.is_empty()).then(|| default.to_owned()))
    }

    /// The one account of the snapshot with a user of that name.
    fn account_of_user(&self, name: &str) -> Option<String> {
        let mut it = self
            .users
            .iter()
            .filter(|((_, n), _)| n == name)
            .filter_map(|(_, u)| u.account.clone());
        let first = it.next()?;
        it.all(|a| a == first).then_some(first)
    }

    /// Devices assigned to the user (of `account`) in the listings given; `default`: the account
    /// to place devices in that name none (see `device_account`).
    pub fn devices_of(&self, account: &str, name: &str, default: &str) -> Vec<&Device> {
        let n = lc(name);
        self.devices
            .values()
            .filter(|d| d.user.as_deref() == Some(n.as_str()))
            .filter(|d| self.device_account(d, default).as_deref() == Some(account))
            .collect()
    }

    /// Whether the listings given show every device of the user of `account`: the
    /// account-wide virtual listing, and a list-mfa-devices output that is the user's (it names
    /// them, and is of that account by its serials, by the user's account in the snapshot, or
    /// by `default`; or it is empty, as `list-mfa-devices --user-name U` is for a user without
    /// devices, and the run is about that one user). Without the latter, FIDO keys and hardware
    /// tokens would be missed.
    pub fn lists_all_devices_of(&self, account: &str, name: &str, default: &str) -> bool {
        let n = lc(name);
        let empty_is_theirs = self.empty_listing_user.as_deref() == Some(n.as_str());
        let of_account = |l: &MfaList| {
            if !l.accounts.is_empty() {
                return l.accounts.contains(account);
            }
            self.account_of_user(&n)
                .or_else(|| (!default.is_empty()).then(|| default.to_owned()))
                .is_some_and(|a| a == account)
        };
        self.has_virtual_devices
            && self
                .mfa_device_lists
                .iter()
                .any(|l| (l.users.contains(&n) && of_account(l)) || (l.users.is_empty() && empty_is_theirs))
    }
}

#[cfg(test)]
mod tests;
