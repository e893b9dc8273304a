//! The reader against ofxparse's sample files (`tests/fixtures/ofx/`, MIT): every one imports, with
//! its counts and a few values checked by reading the file, or is refused with a clear error.

use chrono::{NaiveDate, TimeZone, Utc};

use super::*;

fn fixture(name: &str) -> Result<OfxFile, OfxError> {
    let path = format!("{}/tests/fixtures/ofx/{name}", env!("CARGO_MANIFEST_DIR"));
    parse(&std::fs::read(path).unwrap())
}

fn read(name: &str) -> OfxFile {
    fixture(name).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn refusal(name: &str) -> String {
    fixture(name)
        .err()
        .unwrap_or_else(|| panic!("{name} was read"))
        .to_string()
}

/// (file, statements, transactions) for the files that import.
const READ: [(&str, usize, usize); 8] = [
    ("anzcc.ofx", 1, 1),
    ("bank_medium.ofx", 1, 3),
    ("checking.ofx", 1, 3),
    ("multiple_accounts.ofx", 2, 0),
    ("multiple_accounts2.ofx", 2, 0),
    ("ofx-v102-empty-tags.ofx", 1, 1),
    ("suncorp.ofx", 1, 1),
    ("fail_nice/empty_balance.ofx", 1, 1),
];

/// (file, what the refusal says) for the files that are refused.
const REFUSED: [(&str, &str); 15] = [
    (
        "account_listing_aggregation.ofx",
        "no bank or credit-card statement",
    ),
    ("bank_small.ofx", "no bank or credit-card statement"),
    ("error_message.ofx", "code 2000: General Server Error"),
    (
        "signon_fail.ofx",
        "code 15500: Your request could not be processed",
    ),
    ("signon_success.ofx", "no bank or credit-card statement"),
    (
        "signon_success_no_message.ofx",
        "no bank or credit-card statement",
    ),
    (
        "fidelity-savings.ofx",
        "investment statement, which is not imported",
    ),
    ("fidelity.ofx", "investment statement"),
    ("investment_401k.ofx", "investment statement"),
    ("investment_medium.ofx", "investment statement"),
    ("td_ameritrade.ofx", "investment statement"),
    ("tiaacref.ofx", "investment statement"),
    ("vanguard.ofx", "investment statement"),
    ("vanguard401k.ofx", "investment statement"),
    ("fail_nice/date_missing.ofx", "line 33: DTPOSTED is missing"),
];

#[test]
fn every_sample_file_is_read_or_refused_clearly() {
    let dir = format!("{}/tests/fixtures/ofx", env!("CARGO_MANIFEST_DIR"));
    let mut names = Vec::new();
    for sub in ["", "fail_nice/"] {
        for entry in std::fs::read_dir(format!("{dir}/{sub}")).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            if name.ends_with(".ofx") {
                names.push(format!("{sub}{name}"));
            }
        }
    }
    assert_eq!(names.len(), 24, "{names:?}");
    let known = READ.iter().map(|r| r.0).chain(REFUSED.iter().map(|r| r.0));
    let known: Vec<&str> = known.chain(["fail_nice/decimal_error.ofx"]).collect();
    for name in &names {
        assert!(known.contains(&name.as_str()), "{name} is not checked");
    }
    for (name, statements, transactions) in READ.iter() {
        let file = read(name);
        assert_eq!(file.statements.len(), *statements, "{name}");
        assert_eq!(file.transactions().count(), *transactions, "{name}");
    }
    for (name, says) in REFUSED {
        let message = refusal(name);
        assert!(message.contains(says), "{name}: {message}");
    }
}

#[test]
fn malformed_samples_list_every_bad_field_with_its_line() {
    let Err(OfxError::BadTransactions { problems, total }) = fixture("fail_nice/date_missing.ofx")
    else {
        panic!("date_missing.ofx was not refused for its transactions");
    };
    assert_eq!(total, 3);
    let listed: Vec<(usize, &str)> = problems.iter().map(|p| (p.line, p.field)).collect();
    assert_eq!(
        listed,
        [(33, "DTPOSTED"), (42, "DTPOSTED"), (50, "DTPOSTED")]
    );
    assert!(problems[2]
        .reason
        .contains("\"20120231\" is not a calendar date"));

    let message = refusal("fail_nice/decimal_error.ofx");
    assert!(
        message.contains("line 36: DTPOSTED \"201120000000\" is not a calendar date"),
        "{message}"
    );
    assert!(
        message.contains("line 37: TRNAMT \"$120\" is not a decimal amount"),
        "{message}"
    );
}

#[test]
fn sgml_bank_statement_values() {
    let file = read("bank_medium.ofx");
    assert_eq!(file.flavor, Flavor::Sgml);
    let statement = &file.statements[0];
    assert_eq!(statement.account.kind, StatementKind::Bank);
    assert_eq!(statement.account.bank_id.as_deref(), Some("160000100"));
    assert_eq!(statement.account.number.expose(), "12300 000012345678");
    assert_eq!(statement.account.account_type.as_deref(), Some("CHECKING"));
    assert_eq!(
        statement.currency.map(|c| c.to_string()).as_deref(),
        Some("CAD")
    );
    let first = &statement.transactions[0];
    assert_eq!(first.line, 15);
    assert_eq!(first.fitid, "0000123456782009040100001");
    assert_eq!(first.kind, "POS");
    // 20090401122017.000[-5:EST]
    assert_eq!(
        first.posted_at,
        Utc.with_ymd_and_hms(2009, 4, 1, 17, 20, 17).unwrap()
    );
    assert_eq!(
        first.posted_on,
        NaiveDate::from_ymd_opt(2009, 4, 1).unwrap()
    );
    assert_eq!(first.amount.minor, 660);
    assert_eq!(first.name.as_deref(), Some("MCDONALD'S #112"));
    assert_eq!(
        first.memo.as_deref(),
        Some("POS MERCHANDISE;MCDONALD'S #112")
    );
    let check = &statement.transactions[1];
    assert_eq!((check.kind.as_str(), check.amount.minor), ("CHECK", 31667));
    assert_eq!(check.check_number.as_deref(), Some("0"));
    assert_eq!(check.name.as_deref(), Some("Joe's Bald Hairstyles"));
}

#[test]
fn indented_sgml_checking_values() {
    let file = read("checking.ofx");
    let statement = &file.statements[0];
    assert_eq!(statement.account.bank_id.as_deref(), Some("5472369148"));
    assert_eq!(statement.account.number.expose(), "1452687~7");
    let amounts: Vec<i64> = statement
        .transactions
        .iter()
        .map(|t| t.amount.minor)
        .collect();
    // 0.01 in (a credit), 34.51 and 25.00 out.
    assert_eq!(amounts, [-1, 3451, 2500]);
    let fee = &statement.transactions[2];
    assert_eq!(fee.fitid, "0000488");
    assert_eq!(fee.check_number.as_deref(), Some("319"));
    assert_eq!(
        fee.posted_at,
        Utc.with_ymd_and_hms(2011, 4, 7, 12, 0, 0).unwrap()
    );
}

#[test]
fn xml_header_over_sgml_credit_card_values() {
    let file = read("anzcc.ofx");
    assert_eq!(file.flavor, Flavor::Xml);
    let statement = &file.statements[0];
    assert_eq!(statement.account.kind, StatementKind::CreditCard);
    assert_eq!(statement.account.bank_id, None);
    assert_eq!(statement.account.number.expose(), "1234123412341234");
    let t = &statement.transactions[0];
    assert_eq!(
        (t.fitid.as_str(), t.kind.as_str()),
        ("201705080001", "DEBIT")
    );
    assert_eq!((t.amount.minor, t.amount.currency.as_str()), (550, "AUD"));
    assert_eq!(
        t.posted_at,
        Utc.with_ymd_and_hms(2017, 5, 8, 0, 0, 0).unwrap()
    );
    assert_eq!(
        (t.name.as_deref(), t.memo.as_deref()),
        (None, Some("SOME MEMO"))
    );
}

#[test]
fn xml_files_with_cdata_and_several_accounts() {
    let suncorp = read("suncorp.ofx");
    let t = &suncorp.statements[0].transactions[0];
    assert_eq!(t.name.as_deref(), Some("EFTPOS WDL HANDYWAY ALDI STORE"));
    assert_eq!(
        t.memo.as_deref(),
        Some("EFTPOS WDL HANDYWAY ALDI STORE   GEELONG WEST VICAU")
    );
    assert_eq!((t.amount.minor, t.amount.currency.as_str()), (1685, "AUD"));
    let multiple = read("multiple_accounts.ofx");
    let numbers: Vec<&str> = multiple
        .statements
        .iter()
        .map(|s| s.account.number.expose().as_str())
        .collect();
    assert_eq!(numbers, ["9100", "9200"]);
    let types: Vec<_> = multiple
        .statements
        .iter()
        .map(|s| s.account.account_type.as_deref())
        .collect();
    assert_eq!(types, [Some("CHECKING"), Some("SAVINGS")]);
}

#[test]
fn empty_tags_mixed_case_and_transaction_currency() {
    let file = read("ofx-v102-empty-tags.ofx");
    let statement = &file.statements[0];
    assert_eq!(statement.currency, None, "CURDEF is empty");
    let t = &statement.transactions[0];
    assert_eq!(t.kind, "CREDIT", "written as Credit");
    assert_eq!((t.amount.minor, t.amount.currency.as_str()), (-1234, "AUD"));
    assert!(t.fitid_generated, "FITID is empty");
    assert!(t.fitid.starts_with(super::fitid::PREFIX));
    assert_eq!(
        read("ofx-v102-empty-tags.ofx").statements[0].transactions[0].fitid,
        t.fitid
    );
    assert_eq!((t.name.as_deref(), t.check_number.as_deref()), (None, None));
    assert_eq!(t.memo.as_deref(), Some("CBA:Transfer"));
}

#[test]
fn account_numbers_never_print() {
    for (name, number) in [
        ("checking.ofx", "1452687"),
        ("anzcc.ofx", "12341234"),
        ("bank_medium.ofx", "12300 0000"),
    ] {
        let printed = format!("{:?}", read(name));
        assert!(!printed.contains(number), "{name}: {printed}");
    }
}
