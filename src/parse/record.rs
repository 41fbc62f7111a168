//! Borrowed projection of the ~30 fields mfatrail needs from a CloudTrail
//! record. Deserialised straight from simd-json's tape into borrowed strings
//! (simd-json unescapes in place), so no per-record tree is built.
//!
//! Every field is lenient: a value of an unexpected JSON type (a number where
//! a string was expected, a string where an object was) is read as text or
//! ignored instead of failing the whole record. Real logs from hundreds of
//! services put surprising things in `requestParameters`.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// A JSON scalar as text; objects and arrays read as `None`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Str<'a>(pub Option<Cow<'a, str>>);

impl<'a> Str<'a> {
    pub fn get(&self) -> Option<&str> {
        self.0.as_deref()
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Str<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Str<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Str(Some(Cow::Borrowed(v))))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Str(Some(Cow::Owned(v.to_owned()))))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Str(Some(Cow::Owned(v))))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
                Ok(Str(Some(Cow::Borrowed(if v { "true" } else { "false" }))))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(Str(Some(Cow::Owned(v.to_string()))))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(Str(Some(Cow::Owned(v.to_string()))))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                Ok(Str(Some(Cow::Owned(v.to_string()))))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Str(None))
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Str(None))
            }
            fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Self::Value, D2::Error> {
                Str::deserialize(d)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<Self::Value, A::Error> {
                while s.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Str(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
                while m.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Str(None))
            }
        }
        d.deserialize_any(V(PhantomData))
    }
}

/// True when the key is present with any value (used for the `Records` wrapper).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Present(pub bool);

impl<'de> Deserialize<'de> for Present {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        IgnoredAny::deserialize(d).map(|_| Present(true))
    }
}

/// Declares a struct read leniently from a JSON object: listed keys go to
/// their fields, other keys are skipped, and a non-object value gives the
/// default (all fields empty).
macro_rules! lenient_struct {
    ($(#[$m:meta])* $name:ident { $($field:ident : $ty:ty = $key:literal),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Default, Clone)]
        pub struct $name<'a> {
            $(pub $field: $ty,)*
            _life: PhantomData<&'a ()>,
        }
        impl<'de: 'a, 'a> Deserialize<'de> for $name<'a> {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V<'a>(PhantomData<&'a ()>);
                impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
                    type Value = $name<'a>;
                    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                        f.write_str(concat!("a ", stringify!($name), " object"))
                    }
                    fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
                        let mut out = $name::default();
                        while let Some(k) = m.next_key::<Str<'de>>()? {
                            match k.get().unwrap_or("") {
                                $($key => out.$field = m.next_value()?,)*
                                _ => { m.next_value::<IgnoredAny>()?; }
                            }
                        }
                        Ok(out)
                    }
                    fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<Self::Value, A::Error> {
                        while s.next_element::<IgnoredAny>()?.is_some() {}
                        Ok($name::default())
                    }
                    fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Self::Value, D2::Error> {
                        $name::deserialize(d)
                    }
                    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> { Ok($name::default()) }
                    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> { Ok($name::default()) }
                    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> { Ok($name::default()) }
                    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> { Ok($name::default()) }
                    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> { Ok($name::default()) }
                    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> { Ok($name::default()) }
                    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> { Ok($name::default()) }
                }
                d.deserialize_any(V(PhantomData))
            }
        }
    };
}

lenient_struct!(
    /// One CloudTrail record, projected.
    Record {
        event_time: Str<'a> = "eventTime",
        p_event_time: Str<'a> = "p_event_time",
        event_source: Str<'a> = "eventSource",
        event_name: Str<'a> = "eventName",
        event_type: Str<'a> = "eventType",
        error_code: Str<'a> = "errorCode",
        error_message: Str<'a> = "errorMessage",
        aws_region: Str<'a> = "awsRegion",
        source_ip: Str<'a> = "sourceIPAddress",
        user_agent: Str<'a> = "userAgent",
        recipient_account_id: Str<'a> = "recipientAccountId",
        event_id: Str<'a> = "eventID",
        request_id: Str<'a> = "requestID",
        user_identity: UserIdentity<'a> = "userIdentity",
        additional: Additional<'a> = "additionalEventData",
        request: Request<'a> = "requestParameters",
        response: Response<'a> = "responseElements",
        service_details: ServiceDetails<'a> = "serviceEventDetails",
        records_key: Present = "Records",
        digest_key: Present = "digestStartTime",
    }
);

lenient_struct!(UserIdentity {
    kind: Str<'a> = "type",
    principal_id: Str<'a> = "principalId",
    arn: Str<'a> = "arn",
    account_id: Str<'a> = "accountId",
    access_key_id: Str<'a> = "accessKeyId",
    user_name: Str<'a> = "userName",
    invoked_by: Str<'a> = "invokedBy",
    session_context: SessionContext<'a> = "sessionContext",
    on_behalf_of: OnBehalfOf<'a> = "onBehalfOf",
});

lenient_struct!(OnBehalfOf {
    user_id: Str<'a> = "userId",
    identity_store_arn: Str<'a> = "identityStoreArn",
});

lenient_struct!(
    /// IAM Identity Center sign-in steps keep their verdict here.
    ServiceDetails {
        credential_verification: Str<'a> = "CredentialVerification",
        credential_challenge: Str<'a> = "CredentialChallenge",
        user_authentication: Str<'a> = "UserAuthentication",
        credential_type: Str<'a> = "CredentialType",
    }
);

lenient_struct!(SessionContext {
    issuer: Issuer<'a> = "sessionIssuer",
    attributes: Attributes<'a> = "attributes",
});

lenient_struct!(Issuer {
    kind: Str<'a> = "type",
    user_name: Str<'a> = "userName",
    arn: Str<'a> = "arn",
});

lenient_struct!(Attributes {
    mfa_authenticated: Str<'a> = "mfaAuthenticated",
    creation_date: Str<'a> = "creationDate",
});

lenient_struct!(Additional {
    mfa_used: Str<'a> = "MFAUsed",
    mfa_identifier: Str<'a> = "MFAIdentifier",
    mfa_type: Str<'a> = "MfaType",
    credential_type: Str<'a> = "CredentialType",
    // Identity Center sign-in steps: the name typed (the newer shape has no userName).
    user_name: Str<'a> = "UserName",
});

lenient_struct!(Request {
    user_name: Str<'a> = "userName",
    serial_number: Str<'a> = "serialNumber",
    policy_arn: Str<'a> = "policyArn",
    group_name: Str<'a> = "groupName",
    policy_name: Str<'a> = "policyName",
    policy_document: Str<'a> = "policyDocument",
    role_name: Str<'a> = "roleName",
    role_arn: Str<'a> = "roleArn",
    assume_role_policy_document: Str<'a> = "assumeRolePolicyDocument",
    set_as_default: Str<'a> = "setAsDefault",
    version_id: Str<'a> = "versionId",
    virtual_mfa_device_name: Str<'a> = "virtualMFADeviceName",
});

lenient_struct!(Response {
    console_login: Str<'a> = "ConsoleLogin",
    check_mfa: Str<'a> = "CheckMfa",
    virtual_mfa_device: VirtualMfa<'a> = "virtualMFADevice",
    policy: PolicyResp<'a> = "policy",
    policy_version: PolicyVersionResp<'a> = "policyVersion",
    user: UserResp<'a> = "user",
});

lenient_struct!(VirtualMfa {
    serial_number: Str<'a> = "serialNumber",
});

lenient_struct!(PolicyResp {
    arn: Str<'a> = "arn",
    default_version_id: Str<'a> = "defaultVersionId",
});

lenient_struct!(PolicyVersionResp {
    version_id: Str<'a> = "versionId",
    is_default_version: Str<'a> = "isDefaultVersion",
});

lenient_struct!(UserResp {
    user_name: Str<'a> = "userName",
    arn: Str<'a> = "arn",
});

/// Parses one record in place (the buffer is modified by simd-json).
pub fn parse_record<'a>(buf: &'a mut [u8], buffers: &mut simd_json::Buffers) -> Result<Record<'a>, String> {
    simd_json::serde::from_slice_with_buffers::<Record<'a>>(buf, buffers).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Record<'static>, String> {
        let buf: &'static mut [u8] = Box::leak(s.as_bytes().to_vec().into_boxed_slice());
        let mut b = simd_json::Buffers::default();
        parse_record(buf, &mut b)
    }

    #[test]
    fn projects_fields_and_tolerates_odd_types() {
        let r = parse(
            r#"{"eventTime":"2026-11-27T10:00:00Z","eventName":"EnableMFADevice","userIdentity":{"type":"IAMUser","userName":"ops","sessionContext":{"attributes":{"mfaAuthenticated":"true"}}},
            "requestParameters":{"userName":"alice","serialNumber":"arn:aws:iam::1:mfa/alice","setAsDefault":true,"extra":[1,{"a":2}]},
            "responseElements":null,"additionalEventData":"oops","errorMessage":"caf\u00e9 \"quoted\""}"#,
        )
        .unwrap();
        assert_eq!(r.event_name.get(), Some("EnableMFADevice"));
        assert_eq!(
            r.user_identity.session_context.attributes.mfa_authenticated.get(),
            Some("true")
        );
        assert_eq!(r.request.user_name.get(), Some("alice"));
        assert_eq!(r.request.set_as_default.get(), Some("true"));
        assert_eq!(r.response.console_login.get(), None);
        assert_eq!(r.additional.mfa_used.get(), None);
        assert_eq!(r.error_message.get(), Some("café \"quoted\""));
        assert!(!r.records_key.0);
        // Numbers where strings are expected, objects where strings are expected.
        let r = parse(r#"{"eventTime":1700000000,"userAgent":{"x":1},"requestParameters":{"userName":42}}"#).unwrap();
        assert_eq!(r.event_time.get(), Some("1700000000"));
        assert_eq!(r.user_agent.get(), None);
        assert_eq!(r.request.user_name.get(), Some("42"));
    }

    #[test]
    fn broken_json_is_an_error() {
        assert!(parse(r#"{"eventTime":"x",}"#).is_err());
        assert!(parse(r#"{"eventTime":"x""#).is_err());
    }
}
