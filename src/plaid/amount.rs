//! Plaid transactions into AuditPulse's terms: the JSON-number amount into integer minor units of
//! the ISO 4217 currency, the dates, the names.
//!
//! Invariant: no float: the amount is read from its JSON text with the ledger's decimal parser,
//! at the currency's exponent (JPY 0, USD 2, KWD 3); an amount with more decimals than that, in
//! exponent notation, or in an unofficial currency (crypto, loyalty points) is refused with a
//! message naming the transaction, never rounded or guessed.

use chrono::NaiveDate;

use super::wire::Transaction;
use crate::domain::Currency;
use crate::ledger::import::ofx::amount::{currency, parse_minor};

/// A Plaid transaction with its amount in minor units (positive = money out, Plaid's and the
/// ledger's convention).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlaidTransaction {
    pub transaction_id: String,
    pub account_id: String,
    pub amount_minor: i64,
    pub currency: Currency,
    /// The date the bank states (posted date, or the pending date).
    pub date: NaiveDate,
    pub authorized_date: Option<NaiveDate>,
    pub occurred_at: chrono::DateTime<chrono::Utc>,
    pub name: String,
    pub merchant_name: Option<String>,
    pub pending: bool,
    pub pending_transaction_id: Option<String>,
    pub category: Option<String>,
}

/// Converts one transaction, or says why it cannot be.
pub fn convert(t: Transaction) -> Result<PlaidTransaction, String> {
    let id = &t.transaction_id;
    let code = match (&t.iso_currency_code, &t.unofficial_currency_code) {
        (Some(code), _) => code.clone(),
        (None, Some(unofficial)) => {
            return Err(format!(
                "transaction {id}: unofficial currency {unofficial:?} has no ISO 4217 minor unit and is not supported"
            ))
        }
        (None, None) => return Err(format!("transaction {id}: no currency code")),
    };
    let (currency, exponent) = currency(&code).map_err(|e| format!("transaction {id}: {e}"))?;
    let amount_minor = minor_units(t.amount.get(), exponent)
        .map_err(|e| format!("transaction {id}: amount {e}"))?;
    let occurred_at = t.datetime.unwrap_or_else(|| {
        t.authorized_date
            .unwrap_or(t.date)
            .and_time(chrono::NaiveTime::MIN)
            .and_utc()
    });
    let category = t
        .personal_finance_category
        .map(|c| c.detailed.unwrap_or(c.primary));
    Ok(PlaidTransaction {
        account_id: t.account_id,
        amount_minor,
        currency,
        date: t.date,
        authorized_date: t.authorized_date,
        occurred_at,
        name: t.name.unwrap_or_default(),
        merchant_name: t.merchant_name,
        pending: t.pending,
        pending_transaction_id: t.pending_transaction_id,
        category,
        transaction_id: t.transaction_id,
    })
}

/// A JSON number's text (`12.5`, `-0.01`, `1000`) into minor units; exponent notation
/// (`1e3`) is refused, since Plaid does not send it and it would need rounding rules.
pub fn minor_units(json_number: &str, exponent: u32) -> Result<i64, String> {
    let text = json_number.trim();
    let is_number = text
        .bytes()
        .all(|b| b.is_ascii_digit() || b == b'-' || b == b'.')
        && text.bytes().any(|b| b.is_ascii_digit());
    if !is_number || text.starts_with('+') || text.contains(',') {
        return Err(format!("{text:?} is not a plain decimal number"));
    }
    parse_minor(text, exponent)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transaction(amount: &str, iso: Option<&str>, unofficial: Option<&str>) -> Transaction {
        let json = serde_json::json!({
            "transaction_id": "t1", "account_id": "a1", "date": "2026-11-30",
            "iso_currency_code": iso, "unofficial_currency_code": unofficial,
            "name": "Coffee", "pending": false,
        })
        .to_string();
        let json = json.replacen('{', &format!("{{\"amount\":{amount},"), 1);
        serde_json::from_str(&json).unwrap()
    }

    #[test]
    fn amounts_keep_their_exact_decimal_text() {
        let t = convert(transaction("2307.21", Some("USD"), None)).unwrap();
        assert_eq!((t.amount_minor, t.currency.as_str()), (230721, "USD"));
        // 0.1 + 0.2 = 0.30000000000000004 in f64; the text is kept, not the float.
        assert_eq!(minor_units("0.3", 2), Ok(30));
        assert_eq!(minor_units("-4.22", 2), Ok(-422));
        assert_eq!(minor_units("90071992547409.93", 2), Ok(9007199254740993));
    }

    #[test]
    fn the_exponent_follows_iso_4217() {
        assert_eq!(
            convert(transaction("1500", Some("JPY"), None))
                .unwrap()
                .amount_minor,
            1500
        );
        assert_eq!(
            convert(transaction("1.234", Some("KWD"), None))
                .unwrap()
                .amount_minor,
            1234
        );
        let err = convert(transaction("1.5", Some("JPY"), None)).unwrap_err();
        assert!(err.contains("decimal places"), "{err}");
    }

    #[test]
    fn unofficial_currencies_and_odd_numbers_are_refused_clearly() {
        let err = convert(transaction("0.5", None, Some("BTC"))).unwrap_err();
        assert!(err.contains("unofficial currency \"BTC\""), "{err}");
        assert!(minor_units("1e3", 2).is_err());
        assert!(minor_units("1.005", 2).is_err());
    }

    #[test]
    fn dates_fall_back_from_datetime_to_authorized_to_posted() {
        let t = convert(transaction("1", Some("USD"), None)).unwrap();
        assert_eq!(t.occurred_at.to_rfc3339(), "2026-11-30T00:00:00+00:00");
    }
}
