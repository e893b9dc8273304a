//! Whole files through [`parse`]: mappings, preambles, `sep=`, encodings, sign conventions, source
//! references, and refusals that list every bad row.
//!
//! Invariant: each test is a file a real bank could export, and asserts what the ledger would store.

use super::*;

fn mapping(json: &str) -> CsvMapping {
    serde_json::from_str(json).unwrap()
}

fn german() -> CsvMapping {
    mapping(
        r#"{"date": "Buchungstag", "date_format": "%d.%m.%Y", "amount": {"single": "Betrag"},
            "decimal_separator": ",", "thousands_separator": ".",
            "description": "Verwendungszweck", "counterparty": "Empfänger",
            "default_currency": "EUR", "delimiter": ";"}"#,
    )
}

fn amounts(file: &CsvFile) -> Vec<i64> {
    file.rows.iter().map(|r| r.amount.minor).collect()
}

#[test]
fn a_german_export_with_a_preamble_and_windows_1252() {
    let file = b"Kontoinhaber;Max\nIBAN;DE00 1234\n\nBuchungstag;Empf\xE4nger;Verwendungszweck;Betrag\n\
                 31.01.2024;M\xFCller;Miete Januar;-1.234,56\n01.02.2024;Arbeitgeber;Gehalt;2.500,00\n";
    let parsed = parse(file, &german(), "acct-1").unwrap();
    assert_eq!(parsed.encoding, "windows-1252");
    assert_eq!(amounts(&parsed), vec![123456, -250000]);
    let first = &parsed.rows[0];
    assert_eq!(first.line, 5);
    assert_eq!(
        first.posted_on,
        NaiveDate::from_ymd_opt(2024, 1, 31).unwrap()
    );
    assert_eq!(first.amount.currency.as_str(), "EUR");
    assert_eq!(first.counterparty.as_deref(), Some("Müller"));
    assert_eq!(first.description.as_deref(), Some("Miete Januar"));
    assert_eq!(parsed.rows[1].line, 6);
}

#[test]
fn sep_line_bom_and_auto_dates() {
    let file =
        "\u{feff}sep=;\r\nDate;Amount;Currency\r\n03/04/2024;-5.00;USD\r\n03/31/2024;(12.50);\r\n";
    let m = mapping(
        r#"{"date": "date", "date_format": "auto", "amount": {"single": "amount"},
            "currency": "Currency", "default_currency": "USD"}"#,
    );
    let parsed = parse(file.as_bytes(), &m, "a").unwrap();
    assert_eq!(
        (parsed.delimiter, parsed.date_format.as_str()),
        (';', "%m/%d/%Y")
    );
    assert_eq!(amounts(&parsed), vec![500, 1250]);
    assert_eq!(
        parsed.rows[0].posted_on,
        NaiveDate::from_ymd_opt(2024, 3, 4).unwrap()
    );
    assert_eq!((parsed.rows[0].line, parsed.rows[1].line), (3, 4));
}

#[test]
fn auto_refuses_dates_that_never_show_their_order() {
    let file = "Date,Amount\n03/04/2024,1\n05/06/2024,2\n";
    let m = mapping(
        r#"{"date": "Date", "date_format": "auto", "amount": {"single": "Amount"}, "default_currency": "USD"}"#,
    );
    let err = parse(file.as_bytes(), &m, "a").unwrap_err();
    assert!(
        matches!(err, CsvError::Dates(ref r) if r.contains("day above 12")),
        "{err}"
    );
    let day_first = "Date,Amount\n03/04/2024,1\n13/04/2024,2\n";
    let parsed = parse(day_first.as_bytes(), &m, "a").unwrap();
    assert_eq!(parsed.date_format, "%d/%m/%Y");
}

#[test]
fn the_sign_convention_flips_and_markers_override_it() {
    let file =
        "Date,Amount\n2024-01-01,12.50\n2024-01-02,-3.00\n2024-01-03,4.00 CR\n2024-01-04,1.00 DR\n";
    let base = r#""date": 1, "date_format": "%Y-%m-%d", "amount": {"single": 2}, "default_currency": "USD""#;
    let default = mapping(&format!("{{{base}}}"));
    assert_eq!(
        amounts(&parse(file.as_bytes(), &default, "a").unwrap()),
        vec![-1250, 300, -400, 100]
    );
    let card = mapping(&format!(r#"{{{base}, "sign": "positive_is_money_out"}}"#));
    assert_eq!(
        amounts(&parse(file.as_bytes(), &card, "a").unwrap()),
        vec![1250, -300, -400, 100]
    );
}

#[test]
fn debit_and_credit_columns() {
    let file = "Date,Debit,Credit\n2024-01-01,12.50,\n2024-01-02,,3.00\n2024-01-03,-4.00,0.00\n";
    let m = mapping(
        r#"{"date": "Date", "date_format": "%Y-%m-%d", "default_currency": "GBP",
            "amount": {"split": {"debit": "Debit", "credit": "Credit"}}}"#,
    );
    assert_eq!(
        amounts(&parse(file.as_bytes(), &m, "a").unwrap()),
        vec![1250, -300, 400]
    );
    let bad = "Date,Debit,Credit\n2024-01-01,1.00,2.00\n2024-01-02,,\n";
    let CsvError::BadRows { problems, total } = parse(bad.as_bytes(), &m, "a").unwrap_err() else {
        panic!("expected bad rows");
    };
    assert_eq!(total, 2);
    assert_eq!(
        (problems[0].line, problems[0].column.as_str()),
        (2, "Credit")
    );
    assert!(problems[1].reason.contains("both empty"));
}

#[test]
fn headerless_files_use_numbered_columns_and_jpy_has_no_decimals() {
    let file = "2024-01-01,Coffee,-450\n2024-01-02,Tea,-300\n";
    let m = mapping(
        r#"{"date": 1, "date_format": "%Y-%m-%d", "amount": {"single": 3}, "description": 2,
            "default_currency": "JPY", "header": false}"#,
    );
    let parsed = parse(file.as_bytes(), &m, "a").unwrap();
    assert_eq!(amounts(&parsed), vec![450, 300]);
    assert_eq!(parsed.rows[0].line, 1);
    let named = mapping(
        r#"{"date": "Date", "date_format": "%Y-%m-%d", "amount": {"single": 3}, "default_currency": "JPY", "header": false}"#,
    );
    assert!(matches!(
        parse(file.as_bytes(), &named, "a"),
        Err(CsvError::Mapping(_))
    ));
}

#[test]
fn source_refs_are_stable_per_account_and_distinct_per_line() {
    let file = "Date,Amount\n2024-01-01,-4.50\n2024-01-01,-4.50\n";
    let m = mapping(
        r#"{"date": "Date", "date_format": "%Y-%m-%d", "amount": {"single": "Amount"}, "default_currency": "USD"}"#,
    );
    let once = parse(file.as_bytes(), &m, "acct-1").unwrap();
    let again = parse(file.as_bytes(), &m, "acct-1").unwrap();
    assert_eq!(once.rows, again.rows);
    assert_ne!(once.rows[0].source_ref, once.rows[1].source_ref);
    assert!(once.rows[0].source_ref.starts_with(SOURCE_REF_PREFIX));
    let other = parse(file.as_bytes(), &m, "acct-2").unwrap();
    assert_ne!(other.rows[0].source_ref, once.rows[0].source_ref);
}

#[test]
fn every_bad_row_is_listed_and_the_file_refused() {
    let mut file = String::from("Buchungstag;Empfänger;Verwendungszweck;Betrag\n");
    file.push_str("31.01.2024;A;ok;-1,00\n");
    file.push_str("32.01.2024;B;geheim 1234;abc\n");
    file.push_str("01.02.2024;C;kurz\n");
    for _ in 0..150 {
        file.push_str("Summe;;;x\n");
    }
    let err = parse(file.as_bytes(), &german(), "a").unwrap_err();
    let CsvError::BadRows { problems, total } = &err else {
        panic!("expected bad rows, got {err}");
    };
    assert_eq!(*total, 2 + 1 + 300);
    assert_eq!(problems.len(), MAX_PROBLEMS);
    assert_eq!(
        (problems[0].line, problems[0].column.as_str()),
        (3, "Buchungstag")
    );
    assert_eq!(
        (problems[1].line, problems[1].column.as_str()),
        (3, "Betrag")
    );
    assert_eq!(
        (problems[2].line, problems[2].column.as_str()),
        (4, "Betrag")
    );
    assert!(problems[2].reason.contains("missing"));
    let message = err.to_string();
    assert!(
        !message.contains("geheim") && !message.contains("Summe;"),
        "{message}"
    );
}

#[test]
fn bad_mappings_missing_headers_and_empty_files_are_refused() {
    let no_currency =
        mapping(r#"{"date": "D", "date_format": "%Y-%m-%d", "amount": {"single": "A"}}"#);
    assert!(matches!(
        parse(b"D,A\n", &no_currency, "a"),
        Err(CsvError::Mapping(_))
    ));
    for bad in [
        r#"{"date": "D", "date_format": "%d", "amount": {"single": "A"}, "default_currency": "USD"}"#,
        r#"{"date": "D", "date_format": "auto", "amount": {"single": "D"}, "default_currency": "USD"}"#,
        r#"{"date": "D", "date_format": "auto", "amount": {"single": "A"}, "default_currency": "XAU"}"#,
        r#"{"date": 0, "date_format": "auto", "amount": {"single": "A"}, "default_currency": "USD"}"#,
        r#"{"date": "D", "date_format": "auto", "amount": {"single": "A"}, "default_currency": "USD", "decimal_separator": ",", "thousands_separator": ","}"#,
        r#"{"date": "D", "date_format": "auto", "amount": {"single": "A"}, "default_currency": "USD", "encoding": "klingon"}"#,
        r#"{"date": "D", "date_format": "auto", "amount": {"single": "A"}, "default_currency": "USD", "delimiter": "é"}"#,
    ] {
        assert!(
            matches!(
                parse(b"D,A\n", &mapping(bad), "a"),
                Err(CsvError::Mapping(_))
            ),
            "{bad}"
        );
    }
    assert!(serde_json::from_str::<CsvMapping>(
        r#"{"date": "D", "date_format": "auto", "amount": {"single": "A"}, "typo": 1}"#
    )
    .is_err());
    let m = mapping(
        r#"{"date": "Date", "date_format": "%Y-%m-%d", "amount": {"single": "Amount"}, "default_currency": "USD"}"#,
    );
    assert!(matches!(
        parse(b"When,How much\n2024-01-01,1\n", &m, "a"),
        Err(CsvError::NoHeader(_))
    ));
    assert_eq!(
        parse(b"Date,Amount\n", &m, "a").unwrap_err(),
        CsvError::NoRows
    );
    assert_eq!(
        parse(b"Date,Amount\n,\n", &m, "a").unwrap_err(),
        CsvError::NoRows
    );
    for empty in [&b""[..], b"\xEF\xBB\xBF\r\n"] {
        assert_eq!(parse(empty, &m, "a").unwrap_err(), CsvError::NoRows);
    }
    assert!(matches!(
        parse(b"\xEF\xBB\xBFDate\xFF", &m, "a"),
        Err(CsvError::Encoding(_))
    ));
}

#[test]
fn quoted_fields_and_ragged_rows() {
    let file = "Date,Description,Amount\n2024-01-01,\"Coffee, large\",-4.50,extra\n2024-01-02,\"two\nlines\",\"1,234.00\"\n2024-01-03,Tea,-1\n";
    let m = mapping(
        r#"{"date": "Date", "date_format": "%Y-%m-%d", "amount": {"single": "Amount"},
            "description": "Description", "thousands_separator": ",", "default_currency": "USD"}"#,
    );
    let parsed = parse(file.as_bytes(), &m, "a").unwrap();
    assert_eq!(amounts(&parsed), vec![450, -123400, 100]);
    assert_eq!(parsed.rows[0].description.as_deref(), Some("Coffee, large"));
    assert_eq!(parsed.rows[2].line, 5);
}
