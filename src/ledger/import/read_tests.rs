//! [`read`] as the import route uses it: records handed to a sink, refusals as the client sees
//! them (a 422 with the problem list), limits on rows and line length, footers, several accounts.
//!
//! Invariant: each test reads a file a bank could export (or a hostile one) and asserts what would
//! be stored or what the user is told.

use std::io::Cursor;

use super::*;
use crate::error::Error;

fn mapping(json: &str) -> CsvMapping {
    serde_json::from_str(json).unwrap()
}

fn us_card() -> CsvMapping {
    mapping(
        r#"{"date": "Date", "date_format": "%m/%d/%Y", "amount": {"single": "Amount"},
            "description": "Description", "category": "Category", "default_currency": "USD",
            "thousands_separator": ",",
            "skip_footer_lines": 1}"#,
    )
}

fn read_all(
    bytes: &[u8],
    options: &ReadOptions<'_>,
) -> Result<(Summary, Vec<Record>), ImportError> {
    let mut records = Vec::new();
    let summary = read(Cursor::new(bytes), options, &mut |r| {
        records.push(r);
        Ok(())
    })?;
    Ok((summary, records))
}

fn csv_options(mapping: &CsvMapping, max_rows: u64) -> ReadOptions<'_> {
    ReadOptions {
        format: Format::Csv,
        csv_mapping: Some(mapping),
        account: "acct-1",
        max_rows,
    }
}

fn ofx_options(max_rows: u64) -> ReadOptions<'static> {
    ReadOptions {
        format: Format::Ofx,
        csv_mapping: None,
        account: "acct-1",
        max_rows,
    }
}

const CARD: &str = "Date,Description,Category,Amount\r\n\
    01/05/2024,COFFEE SHOP,Dining,$4.50\r\n\
    01/06/2024,REFUND,Shopping,\"-$1,234.56\"\r\n\
    01/07/2024,HOTEL,Travel,(12.34)\r\n\
    Total,,,\"$1,242.40\"\r\n\r\n\r\n";

#[test]
fn a_card_export_with_a_total_footer_symbols_and_categories() {
    let m = us_card();
    let (summary, records) = read_all(CARD.as_bytes(), &csv_options(&m, 10)).unwrap();
    let amounts: Vec<i64> = records.iter().map(|r| r.amount.minor).collect();
    // Negative is money out: $4.50 is money in, -$1,234.56 money out, (12.34) money out.
    assert_eq!(amounts, [-450, 123456, 1234]);
    assert_eq!(records[0].category.as_deref(), Some("Dining"));
    assert_eq!(records[0].description.as_deref(), Some("COFFEE SHOP"));
    assert_eq!(records[0].line, 2);
    assert_eq!(
        records[0].occurred_at.to_rfc3339(),
        "2024-01-05T00:00:00+00:00"
    );
    assert!(records[0].source_ref.starts_with(csv::SOURCE_REF_PREFIX));
    assert_eq!(
        (summary.rows, summary.format, summary.encoding),
        (3, Format::Csv, "UTF-8")
    );
    assert_eq!(summary.currencies.len(), 1);
    let again = read_all(CARD.as_bytes(), &csv_options(&m, 10)).unwrap().1;
    assert_eq!(again, records, "a re-read gives the same source refs");
    // Without skip_footer_lines the Total row is a bad row, named by its line.
    let mut no_footer = us_card();
    no_footer.skip_footer_lines = 0;
    let err = read_all(CARD.as_bytes(), &csv_options(&no_footer, 10)).unwrap_err();
    let ImportError::Problems { problems, total } = &err else {
        panic!("{err:?}")
    };
    assert_eq!((*total, problems[0].line), (1, 5));
}

#[test]
fn a_code_that_is_not_the_rows_currency_is_a_problem() {
    let m = mapping(
        r#"{"date": "Date", "date_format": "%Y-%m-%d", "amount": {"single": "Amount"},
            "default_currency": "EUR", "decimal_separator": ",", "thousands_separator": "."}"#,
    );
    let file =
        "Date,Amount\n2024-01-01,\"1.234,56 EUR\"\n2024-01-02,\"€ 12,50\"\n2024-01-03,5 USD\n";
    let err = read_all(file.as_bytes(), &csv_options(&m, 10)).unwrap_err();
    let ImportError::Problems { problems, .. } = err else {
        panic!()
    };
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].line, 4);
    assert!(problems[0]
        .reason
        .contains("names USD but the row's currency is EUR"));
}

#[test]
fn more_rows_than_allowed_are_refused_in_both_formats() {
    let m = us_card();
    let err = read_all(CARD.as_bytes(), &csv_options(&m, 2)).unwrap_err();
    assert!(
        matches!(err, ImportError::TooManyRows { limit: 2 }),
        "{err:?}"
    );
    let ofx = fixture("checking.ofx");
    let err = read_all(&ofx, &ofx_options(2)).unwrap_err();
    assert!(
        matches!(err, ImportError::TooManyRows { limit: 2 }),
        "{err:?}"
    );
    assert_eq!(read_all(&ofx, &ofx_options(3)).unwrap().1.len(), 3);
}

#[test]
fn a_line_over_a_mebibyte_is_refused_with_its_line() {
    let m = us_card();
    let file = format!(
        "Date,Description,Category,Amount\n01/05/2024,A,B,1\n01/05/2024,\"{}\",B,1\n",
        "x".repeat(MAX_LINE)
    );
    let err = read_all(file.as_bytes(), &csv_options(&m, 10)).unwrap_err();
    assert!(
        matches!(err, ImportError::LineTooLong { line: 3, .. }),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!("line 3 is longer than {MAX_LINE} bytes")
    );
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/ofx/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

#[test]
fn ofx_records_carry_the_fitid_dates_and_lower_cased_type() {
    let (summary, records) = read_all(&fixture("checking.ofx"), &ofx_options(100)).unwrap();
    let parsed = ofx::parse_for(&fixture("checking.ofx"), "acct-1").unwrap();
    let want: Vec<&ofx::Transaction> = parsed.transactions().collect();
    assert_eq!(records.len(), want.len());
    for (record, t) in records.iter().zip(want) {
        assert_eq!(record.source_ref, t.fitid);
        assert_eq!(
            (record.occurred_at, record.booked_on),
            (t.posted_at, t.posted_on)
        );
        assert_eq!(
            record.category.as_deref(),
            Some(t.kind.to_ascii_lowercase().as_str())
        );
        assert_eq!(record.amount, t.amount);
    }
    assert_eq!((summary.statements, summary.format.as_str()), (1, "ofx"));
}

fn two_accounts() -> Vec<u8> {
    let statement = |number: &str, fitid: &str| {
        format!(
            "<STMTTRNRS><STMTRS><CURDEF>USD<BANKACCTFROM><BANKID>1<ACCTID>{number}\
             <ACCTTYPE>CHECKING</BANKACCTFROM><BANKTRANLIST><STMTTRN><TRNTYPE>DEBIT\
             <DTPOSTED>20240105<TRNAMT>-4.50<FITID>{fitid}</STMTTRN></BANKTRANLIST>\
             </STMTRS></STMTTRNRS>"
        )
    };
    format!(
        "OFXHEADER:100\n\n<OFX><BANKMSGSRSV1>{}{}</BANKMSGSRSV1></OFX>",
        statement("111222333", "a"),
        statement("444555666", "b")
    )
    .into_bytes()
}

#[test]
fn a_file_with_statements_for_several_accounts_is_refused() {
    let mut seen = Vec::new();
    let err = read(Cursor::new(two_accounts()), &ofx_options(100), &mut |r| {
        seen.push(r.source_ref);
        Ok(())
    })
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "this file holds statements for 2 accounts; import each account's file separately"
    );
    assert!(
        !seen.iter().any(|r| r == "b"),
        "nothing of the second account reached the sink"
    );
    assert!(!format!("{err:?}").contains("444555666"));
    let err = read_all(&fixture("multiple_accounts.ofx"), &ofx_options(100)).unwrap_err();
    assert!(
        matches!(err, ImportError::SeveralAccounts { count: 2 }),
        "{err:?}"
    );
}

#[test]
fn a_sink_error_stops_the_read_and_comes_back_as_it_was() {
    let mut calls = 0;
    let err = read(
        Cursor::new(CARD.as_bytes()),
        &csv_options(&us_card(), 10),
        &mut |_| {
            calls += 1;
            Err(Error::Conflict("stop".to_owned()))
        },
    )
    .unwrap_err();
    assert_eq!(calls, 1);
    assert!(matches!(Error::from(err), Error::Conflict(m) if m == "stop"));
}

#[test]
fn refusals_become_a_422_listing_problems_without_quoting_descriptions() {
    let file = "Date,Description,Category,Amount\n01/05/2024,SECRET PAYEE,X,abc\n\
                13/45/2024,B,Y,1\nTotal,,,1\n";
    let err = read_all(file.as_bytes(), &csv_options(&us_card(), 10)).unwrap_err();
    let Error::Validation(fields) = Error::from(err) else {
        panic!()
    };
    assert_eq!(fields[0].field, "");
    assert!(
        fields[0].message.starts_with("2 problem(s) in the file"),
        "{}",
        fields[0].message
    );
    assert_eq!(fields[1].field, "line 2");
    assert!(
        fields[1].message.starts_with("Amount "),
        "{}",
        fields[1].message
    );
    assert_eq!(fields[2].field, "line 3");
    assert!(fields.iter().all(|f| !f.message.contains("SECRET")));
    let card = us_card();
    let missing = ReadOptions {
        csv_mapping: None,
        ..csv_options(&card, 10)
    };
    let err = read_all(b"a,b\n", &missing).unwrap_err();
    assert!(err.to_string().contains("needs a mapping"));
}

#[test]
fn problems_quoting_long_cells_are_cut_short() {
    let m = us_card();
    let row = format!("01/05/2024,A,B,{}\n", "9x".repeat(4000));
    let file = format!(
        "Date,Description,Category,Amount\n{}Total,,,\n",
        row.repeat(3)
    );
    let err = read_all(file.as_bytes(), &csv_options(&m, 10)).unwrap_err();
    let ImportError::Problems { problems, total } = err else {
        panic!()
    };
    assert_eq!(total, 3);
    assert!(
        problems.iter().all(|p| p.reason.chars().count() <= 201),
        "{}",
        problems[0].reason
    );
}
