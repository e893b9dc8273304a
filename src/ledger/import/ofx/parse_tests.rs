//! Whole-file behaviour on generated files: currencies and exponents, signs, FITID fallback,
//! CHARSET 1252, broken structure, the cap on listed problems, and a large file.

use super::*;

fn sgml(charset: &str, transactions: &str) -> Vec<u8> {
    let mut file = format!(
        "OFXHEADER:100\r\nDATA:OFXSGML\r\nVERSION:102\r\nCHARSET:{charset}\r\n\r\n<OFX>\r\n\
         <BANKMSGSRSV1><STMTTRNRS><STMTRS><CURDEF>USD\r\n\
         <BANKACCTFROM><BANKID>021000021<ACCTID>000123456789<ACCTTYPE>checking</BANKACCTFROM>\r\n\
         <BANKTRANLIST>\r\n"
    )
    .into_bytes();
    file.extend_from_slice(transactions.as_bytes());
    file.extend_from_slice(b"</BANKTRANLIST></STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>\r\n");
    file
}

fn trn(kind: &str, posted: &str, amount: &str, extra: &str) -> String {
    format!("<STMTTRN><TRNTYPE>{kind}<DTPOSTED>{posted}<TRNAMT>{amount}{extra}</STMTTRN>\r\n")
}

fn transactions(file: &[u8]) -> Vec<Transaction> {
    parse(file).unwrap().transactions().cloned().collect()
}

#[test]
fn currency_exponents_come_from_the_transaction_or_the_statement() {
    let body = [
        trn("DEBIT", "20240105", "-12.34", "<FITID>1"),
        trn(
            "DEBIT",
            "20240105",
            "-1500",
            "<FITID>2<CURRENCY><CURRATE>0.0067<CURSYM>JPY</CURRENCY>",
        ),
        trn(
            "CREDIT",
            "20240105",
            "1.250",
            "<FITID>3<CURRENCY><CURSYM>kwd</CURRENCY>",
        ),
        trn(
            "DEBIT",
            "20240105",
            "-5.00",
            "<FITID>4<ORIGCURRENCY><CURRATE>1.1<CURSYM>EUR</ORIGCURRENCY>",
        ),
    ]
    .concat();
    let got = transactions(&sgml("1252", &body));
    let amounts: Vec<(i64, &str)> = got
        .iter()
        .map(|t| (t.amount.minor, t.amount.currency.as_str()))
        .collect();
    assert_eq!(
        amounts,
        [(1234, "USD"), (1500, "JPY"), (-1250, "KWD"), (500, "USD")]
    );
    assert_eq!(
        got[3].original_currency.map(|c| c.to_string()).as_deref(),
        Some("EUR")
    );
    let file = parse(&sgml("1252", &body)).unwrap();
    assert_eq!(
        file.statements[0].account.account_type.as_deref(),
        Some("CHECKING")
    );
}

#[test]
fn amounts_too_precise_for_their_currency_are_refused() {
    let body = trn(
        "DEBIT",
        "20240105",
        "-1500.5",
        "<FITID>2<CURRENCY><CURSYM>JPY</CURRENCY>",
    );
    let message = parse(&sgml("1252", &body)).unwrap_err().to_string();
    assert!(
        message.contains("TRNAMT \"-1500.5\" has more than 0 decimal places"),
        "{message}"
    );
}

#[test]
fn missing_fitids_fall_back_to_a_stable_content_hash() {
    let coffee = trn("DEBIT", "20240105", "-4.50", "<FITID><NAME>COFFEE");
    let body = [
        coffee.clone(),
        coffee,
        trn("DEBIT", "20240105", "-4.50", "<NAME>COFFEE"),
    ]
    .concat();
    let first = transactions(&sgml("1252", &body));
    assert!(first.iter().all(|t| t.fitid_generated));
    assert_ne!(
        first[0].fitid, first[1].fitid,
        "two identical coffees stay two"
    );
    assert_ne!(
        first[2].fitid, first[0].fitid,
        "a third identical coffee gets a third id"
    );
    let again = transactions(&sgml("1252", &body));
    let ids = |ts: &[Transaction]| ts.iter().map(|t| t.fitid.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&first), ids(&again), "a re-read gives the same ids");
    let other_number = String::from_utf8(sgml("1252", &body))
        .unwrap()
        .replace("000123456789", "000123456780");
    let renumbered = transactions(other_number.as_bytes());
    assert_eq!(
        ids(&renumbered),
        ids(&first),
        "the bank's account number is not hashed (it could be brute-forced)"
    );
    let file = sgml("1252", &body);
    let ledger = |account| {
        let parsed = parse_for(&file, account).unwrap();
        parsed
            .transactions()
            .map(|t| t.fitid.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(ledger("acct-1"), ledger("acct-1"));
    assert_ne!(
        ledger("acct-1")[0],
        ledger("acct-2")[0],
        "the ledger account is part of the hash"
    );
    assert!(!first[0].fitid.contains("123456789"));
}

#[test]
fn charset_1252_names_are_decoded() {
    let mut body = trn("POS", "20240105", "-3.20", "<FITID>9<NAME>CAF").into_bytes();
    let at = body.windows(3).position(|w| w == b"CAF").unwrap() + 3;
    body.splice(at..at, [0xC9, b' ', 0x80]);
    let mut file = sgml("1252", "");
    let insert = file
        .windows(15)
        .position(|w| w == b"</BANKTRANLIST>")
        .unwrap();
    file.splice(insert..insert, body);
    let t = &transactions(&file)[0];
    assert_eq!(t.name.as_deref(), Some("CAF\u{c9} \u{20ac}"));
}

#[test]
fn signs_follow_the_money_out_convention() {
    let body = [
        trn("DEBIT", "20240105", "-0.99", "<FITID>a"),
        trn("DEP", "20240105", "+250", "<FITID>b"),
    ]
    .concat();
    let got = transactions(&sgml("1252", &body));
    assert_eq!((got[0].amount.minor, got[1].amount.minor), (99, -25000));
}

#[test]
fn broken_structure_is_refused_with_its_line() {
    let whole =
        String::from_utf8(sgml("1252", &trn("DEBIT", "20240105", "-1", "<FITID>1"))).unwrap();
    let truncated = &whole[..whole.find("<TRNAMT>").unwrap()];
    let message = parse(truncated.as_bytes()).unwrap_err().to_string();
    assert_eq!(
        message,
        "line 10: the file ends inside the <STMTRS> opened at line 7"
    );
    let stray = String::from_utf8(sgml("1252", "</STMTTRN>\r\n")).unwrap();
    let err = parse(stray.as_bytes()).unwrap_err();
    assert_eq!(
        err,
        OfxError::Malformed {
            line: 10,
            reason: "</STMTTRN> closes nothing that is open".into()
        }
    );
    let no_account = String::from_utf8(sgml("1252", ""))
        .unwrap()
        .replace("<ACCTID>000123456789", "");
    let message = parse(no_account.as_bytes()).unwrap_err().to_string();
    assert!(message.contains("line 7: ACCTID is missing"), "{message}");
    assert!(matches!(parse(b"Date,Amount\n"), Err(OfxError::NotOfx(_))));
    let unclosed = String::from_utf8(sgml("1252", "<STMTTRN><TRNTYPE>DEBIT\r\n<STMTTRN>")).unwrap();
    let message = parse(unclosed.as_bytes()).unwrap_err().to_string();
    assert_eq!(
        message,
        "line 11: <STMTTRN> inside the <STMTTRN> opened at line 10: a </STMTTRN> is missing"
    );
}

#[test]
fn at_most_a_hundred_problems_are_listed_but_all_are_counted() {
    let body: String = (0..150)
        .map(|i| trn("DEBIT", "2024-01-05", "-1", &format!("<FITID>{i}")))
        .collect();
    let Err(OfxError::BadTransactions { problems, total }) = parse(&sgml("1252", &body)) else {
        panic!("bad dates were accepted");
    };
    assert_eq!((problems.len(), total), (MAX_PROBLEMS, 150));
    assert_eq!(problems[0].line, 10);
    assert_eq!(problems[99].line, 109);
    let message = OfxError::BadTransactions { problems, total }.to_string();
    assert!(
        message.starts_with("150 unreadable field(s): line 10: DTPOSTED"),
        "{message}"
    );
    assert!(message.ends_with("and 95 more"), "{message}");
    assert!(!message.contains("123456789"), "{message}");
}

#[test]
fn a_hundred_thousand_transactions_are_read() {
    let body: String = (0..100_000)
        .map(|i| {
            trn(
                "DEBIT",
                "20240105120000.000[-5:EST]",
                &format!("-{}.{:02}", i / 100, i % 100),
                &format!("<FITID>{i}<NAME>SHOP {i}"),
            )
        })
        .collect();
    let file = parse(&sgml("1252", &body)).unwrap();
    let statement = &file.statements[0];
    assert_eq!(statement.transactions.len(), 100_000);
    let last = &statement.transactions[99_999];
    assert_eq!(
        (last.fitid.as_str(), last.amount.minor, last.line),
        ("99999", 99_999, 100_009)
    );
    assert_eq!(last.name.as_deref(), Some("SHOP 99999"));
}
