//! The text of multi-row spend inserts, built once per shape and chunk size so every batch of an
//! import runs the same prepared statement; values a batch shares are bound once.
//!
//! Invariant: each value appears once in the text, in the order [`super::sql::Build::insert`]
//! binds it, so `?` (SQLite) and `$N` (PostgreSQL) texts take the same binds.

use std::borrow::Cow;
use std::sync::OnceLock;

use super::SpendRecord;

const INSERT_SPEND: &str = "INSERT INTO spend_events (id, tenant_id, source, source_ref, \
     account_id, occurred_at, booked_on, amount_minor, currency, status, counterparty, \
     counterparty_ciphertext, category, description_ciphertext, import_id, created_at, \
     updated_at) ";
/// The columns of [`INSERT_SPEND`] from the shared values `s` and each row's values `v`.
const SHARED_COLUMNS: &str = "SELECT v.column1, s.tenant_id, s.source, v.column2, s.account_id, \
     v.column3, v.column4, v.column5, v.column6, v.column7, v.column8, v.column9, v.column10, \
     v.column11, s.import_id, s.at, s.at FROM ";
const SKIP_KNOWN: &str = " ON CONFLICT (tenant_id, source, source_ref) DO NOTHING";

/// How a backend writes placeholders. Each value of a spend insert appears once, in bind order,
/// so both forms number alike; SQLite gets `?` because it finds a named or numbered parameter
/// by a linear search, which over thousands of parameters costs more than the insert itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placeholders {
    /// `?` (SQLite).
    Question,
    /// `$1`, `$2`... (PostgreSQL).
    Dollar,
}

/// How a multi-row spend insert binds its values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InsertShape {
    /// Every row binds all 17 of its values.
    Each,
    /// The rows share tenant, source, account, import and write time (as a file import's
    /// batch does), bound once; each row binds its other 11 values.
    Shared,
}

impl InsertShape {
    /// Values bound once for the statement, and for each row.
    pub(super) fn counts(self) -> (usize, usize) {
        match self {
            InsertShape::Each => (0, 17),
            InsertShape::Shared => (5, 11),
        }
    }

    pub fn of(rows: &[SpendRecord]) -> Self {
        let Some(first) = rows.first() else {
            return InsertShape::Each;
        };
        let same = |r: &SpendRecord| {
            r.tenant_id == first.tenant_id
                && r.source == first.source
                && r.account_id == first.account_id
                && r.import_id == first.import_id
                && r.now == first.now
        };
        if rows.iter().all(same) {
            InsertShape::Shared
        } else {
            InsertShape::Each
        }
    }
}

/// The text of a multi-row spend insert of `rows` in the shape that suits them (`skip_known`:
/// rows whose reference is already stored, or repeated, are left out), for [`super::sql::Build::insert`]. A
/// full chunk's text is built once per process, so each batch of an import reuses one prepared
/// statement and builds no SQL.
pub fn insert_sql(rows: &[SpendRecord], skip_known: bool, p: Placeholders) -> Cow<'static, str> {
    static FULL: [OnceLock<String>; 8] = [const { OnceLock::new() }; 8];
    let shape = InsertShape::of(rows);
    if rows.len() != super::WRITE_CHUNK {
        return Cow::Owned(render_insert(shape, rows.len(), skip_known, p));
    }
    let slot = usize::from(shape == InsertShape::Shared) * 4
        + usize::from(p == Placeholders::Dollar) * 2
        + usize::from(skip_known);
    Cow::Borrowed(FULL[slot].get_or_init(|| render_insert(shape, rows.len(), skip_known, p)))
}

/// `INSERT ... VALUES` for [`InsertShape::Each`]; for [`InsertShape::Shared`], `INSERT ...
/// SELECT` from the shared values joined to the rows' `VALUES` (`WHERE true` keeps SQLite from
/// reading `ON CONFLICT` as a join constraint).
fn render_insert(shape: InsertShape, rows: usize, skip_known: bool, p: Placeholders) -> String {
    let (once, each) = shape.counts();
    let mut sql = String::with_capacity(400 + rows * (each * 8 + 4));
    let mut n = 0;
    let mut params = |sql: &mut String, names: &[&str]| {
        for (i, name) in names.iter().enumerate() {
            n += 1;
            if i > 0 {
                sql.push_str(", ");
            }
            match p {
                Placeholders::Question => sql.push('?'),
                Placeholders::Dollar => {
                    sql.push('$');
                    sql.push_str(&n.to_string());
                }
            }
            sql.push_str(name);
        }
    };
    sql.push_str(INSERT_SPEND);
    if shape == InsertShape::Shared {
        sql.push_str(SHARED_COLUMNS);
        sql.push_str("(SELECT ");
        params(
            &mut sql,
            &[
                " AS tenant_id",
                " AS source",
                " AS account_id",
                " AS import_id",
                " AS at",
            ][..once],
        );
        sql.push_str(") AS s, (");
    }
    sql.push_str("VALUES ");
    let unnamed = [""; 17];
    for row in 0..rows {
        sql.push_str(if row == 0 { "(" } else { ", (" });
        params(&mut sql, &unnamed[..each]);
        sql.push(')');
    }
    if shape == InsertShape::Shared {
        sql.push_str(") AS v WHERE true");
    }
    if skip_known {
        sql.push_str(SKIP_KNOWN);
    }
    sql
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The placeholders of `sql` in text order, as numbers.
    fn dollars(sql: &str) -> Vec<usize> {
        sql.split('$')
            .skip(1)
            .map(|p| {
                let digits: String = p.chars().take_while(char::is_ascii_digit).collect();
                digits.parse().unwrap()
            })
            .collect()
    }

    #[test]
    fn every_value_is_one_placeholder_in_bind_order() {
        let chunk = super::super::WRITE_CHUNK;
        for shape in [InsertShape::Each, InsertShape::Shared] {
            for rows in [1, 2, chunk] {
                let (once, each) = shape.counts();
                let binds = once + each * rows;
                let numbered = render_insert(shape, rows, true, Placeholders::Dollar);
                assert_eq!(dollars(&numbered), (1..=binds).collect::<Vec<_>>());
                let plain = render_insert(shape, rows, true, Placeholders::Question);
                assert_eq!(plain.matches('?').count(), binds);
                assert!(!plain.contains('$'));
                assert!(plain.ends_with(SKIP_KNOWN));
            }
        }
        assert!(!render_insert(InsertShape::Each, 2, false, Placeholders::Dollar).contains("ON"));
    }

    #[test]
    fn shared_values_are_named_once_and_rows_list_the_rest() {
        let sql = render_insert(InsertShape::Shared, 2, false, Placeholders::Dollar);
        assert!(sql.contains(
            "FROM (SELECT $1 AS tenant_id, $2 AS source, $3 AS account_id, $4 AS import_id, \
             $5 AS at) AS s, (VALUES ($6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16), \
             ($17, "
        ));
        assert!(sql.ends_with("$27)) AS v WHERE true"));
    }
}
