//! How shared value types cross into both databases, so one `FromRow` row type and one `.bind()`
//! serve SQLite and PostgreSQL alike.
//!
//! Invariant: a value written by one of these codecs reads back equal on the same backend. Ids
//! are `uuid` on PostgreSQL and hyphenated text on SQLite; times are `timestamptz` on PostgreSQL
//! and the fixed-width, sortable text of [`time::to_text`] on SQLite, so comparisons in SQL order
//! as time does on both.

use std::borrow::Cow;

use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgArgumentBuffer, PgTypeInfo, PgValueRef};
use sqlx::sqlite::{SqliteArgumentValue, SqliteTypeInfo, SqliteValueRef};
use sqlx::{Decode, Encode, Postgres, Sqlite, Type};

use crate::domain::time::{self, Timestamp};

/// Implements the SQLite (text) and PostgreSQL (`uuid`) codecs for an id type made by
/// `domain::ids` (`as_uuid`, `from_uuid`, `Display`, `FromStr`). Capabilities call it for their
/// own id types.
macro_rules! sql_id {
    ($($name:ty),+ $(,)?) => {$(
        impl ::sqlx::Type<::sqlx::Sqlite> for $name {
            fn type_info() -> ::sqlx::sqlite::SqliteTypeInfo {
                <String as ::sqlx::Type<::sqlx::Sqlite>>::type_info()
            }
            fn compatible(ty: &::sqlx::sqlite::SqliteTypeInfo) -> bool {
                <String as ::sqlx::Type<::sqlx::Sqlite>>::compatible(ty)
            }
        }
        impl<'q> ::sqlx::Encode<'q, ::sqlx::Sqlite> for $name {
            fn encode_by_ref(
                &self,
                buf: &mut Vec<::sqlx::sqlite::SqliteArgumentValue<'q>>,
            ) -> Result<::sqlx::encode::IsNull, ::sqlx::error::BoxDynError> {
                // The `Display` text, written into a stack buffer and allocated once.
                let mut text = ::uuid::Uuid::encode_buffer();
                let text: &str = self.as_uuid().hyphenated().encode_lower(&mut text);
                <String as ::sqlx::Encode<'q, ::sqlx::Sqlite>>::encode(text.to_owned(), buf)
            }
        }
        impl<'r> ::sqlx::Decode<'r, ::sqlx::Sqlite> for $name {
            fn decode(
                value: ::sqlx::sqlite::SqliteValueRef<'r>,
            ) -> Result<Self, ::sqlx::error::BoxDynError> {
                let text = <&str as ::sqlx::Decode<'r, ::sqlx::Sqlite>>::decode(value)?;
                text.parse::<$name>()
                    .map_err(|e| format!("corrupt {} {text:?}: {e}", stringify!($name)).into())
            }
        }
        impl ::sqlx::Type<::sqlx::Postgres> for $name {
            fn type_info() -> ::sqlx::postgres::PgTypeInfo {
                <::uuid::Uuid as ::sqlx::Type<::sqlx::Postgres>>::type_info()
            }
        }
        impl ::sqlx::postgres::PgHasArrayType for $name {
            fn array_type_info() -> ::sqlx::postgres::PgTypeInfo {
                <::uuid::Uuid as ::sqlx::postgres::PgHasArrayType>::array_type_info()
            }
        }
        impl<'q> ::sqlx::Encode<'q, ::sqlx::Postgres> for $name {
            fn encode_by_ref(
                &self,
                buf: &mut ::sqlx::postgres::PgArgumentBuffer,
            ) -> Result<::sqlx::encode::IsNull, ::sqlx::error::BoxDynError> {
                <::uuid::Uuid as ::sqlx::Encode<'q, ::sqlx::Postgres>>::encode(self.as_uuid(), buf)
            }
        }
        impl<'r> ::sqlx::Decode<'r, ::sqlx::Postgres> for $name {
            fn decode(
                value: ::sqlx::postgres::PgValueRef<'r>,
            ) -> Result<Self, ::sqlx::error::BoxDynError> {
                <::uuid::Uuid as ::sqlx::Decode<'r, ::sqlx::Postgres>>::decode(value)
                    .map(<$name>::from_uuid)
            }
        }
    )+};
}
#[allow(unused_imports)] // used by capabilities for their own id types
pub(crate) use sql_id;

sql_id!(
    crate::domain::TenantId,
    crate::domain::UserId,
    crate::domain::SessionId,
    crate::domain::ApiKeyId,
    crate::domain::AccountId,
    crate::domain::SpendId,
    crate::domain::VendorId,
    crate::domain::ImportId,
);

/// A UTC time as stored: bind `Time(t)` and decode a column into `Time`, on either backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Time(pub Timestamp);

impl From<Timestamp> for Time {
    fn from(t: Timestamp) -> Self {
        Self(t)
    }
}

impl From<Time> for Timestamp {
    fn from(t: Time) -> Self {
        t.0
    }
}

impl Type<Sqlite> for Time {
    fn type_info() -> SqliteTypeInfo {
        <String as Type<Sqlite>>::type_info()
    }
    fn compatible(ty: &SqliteTypeInfo) -> bool {
        <String as Type<Sqlite>>::compatible(ty)
    }
}

impl<'q> Encode<'q, Sqlite> for Time {
    fn encode_by_ref(&self, buf: &mut Vec<SqliteArgumentValue<'q>>) -> Result<IsNull, BoxDynError> {
        buf.push(SqliteArgumentValue::Text(Cow::Owned(time::to_text(
            &self.0,
        ))));
        Ok(IsNull::No)
    }
}

impl<'r> Decode<'r, Sqlite> for Time {
    fn decode(value: SqliteValueRef<'r>) -> Result<Self, BoxDynError> {
        let text = <&str as Decode<'r, Sqlite>>::decode(value)?;
        time::from_text(text)
            .map(Self)
            .map_err(|e| format!("corrupt time {text:?}: {e}").into())
    }
}

impl Type<Postgres> for Time {
    fn type_info() -> PgTypeInfo {
        <Timestamp as Type<Postgres>>::type_info()
    }
}

impl<'q> Encode<'q, Postgres> for Time {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        <Timestamp as Encode<'q, Postgres>>::encode_by_ref(&self.0, buf)
    }
}

impl<'r> Decode<'r, Postgres> for Time {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        <Timestamp as Decode<'r, Postgres>>::decode(value).map(Self)
    }
}

/// `Option<Timestamp>` to what binds: `NULL` stays `NULL`.
pub fn opt_time(t: Option<Timestamp>) -> Option<Time> {
    t.map(Time)
}
