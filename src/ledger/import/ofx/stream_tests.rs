//! [`stream`] against [`parse_for`]: on every sample file and on edge cases of the cutter, the
//! transactions handed out and the refusal are the same, whatever the chunk size.
//!
//! Invariant: each case compares the two paths on the same bytes, so a cut made in the wrong place
//! (inside a comment, between `<X>` and `</X>`) shows as a difference.

use std::io::Cursor;

use super::*;

const ACCOUNT: &str = "ledger-acct-1";

fn streamed(bytes: &[u8], chunk: usize) -> Result<Vec<Transaction>, StreamError<()>> {
    let mut out = Vec::new();
    let options = StreamOptions {
        account: ACCOUNT,
        chunk,
        max_transactions: u64::MAX,
    };
    stream(Cursor::new(bytes), &options, &mut |t, _| {
        out.push(t);
        Ok(())
    })?;
    Ok(out)
}

fn assert_same(name: &str, bytes: &[u8]) {
    let whole = parse_for(bytes, ACCOUNT);
    for chunk in [0, 1, 7, 64, 4096, 1 << 16] {
        match (&whole, streamed(bytes, chunk)) {
            (Ok(file), Ok(got)) => {
                let want: Vec<Transaction> = file.transactions().cloned().collect();
                assert_eq!(got, want, "{name} chunk {chunk}");
            }
            (Err(want), Err(StreamError::Ofx(got))) => {
                assert_eq!(&got, want, "{name} chunk {chunk}")
            }
            (want, got) => panic!("{name} chunk {chunk}: {want:?} but streamed {got:?}"),
        }
    }
}

fn fixtures(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            fixtures(&path, out);
        } else if path.extension().is_some_and(|e| e == "ofx") {
            out.push(path);
        }
    }
}

#[test]
fn every_sample_file_streams_as_it_parses() {
    let mut files = Vec::new();
    fixtures(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ofx"),
        &mut files,
    );
    assert!(files.len() >= 24, "{} sample files", files.len());
    for path in files {
        assert_same(&path.display().to_string(), &std::fs::read(&path).unwrap());
    }
}

fn sgml(body: &str) -> Vec<u8> {
    format!(
        "OFXHEADER:100\nDATA:OFXSGML\nCHARSET:1252\n\n<OFX><BANKMSGSRSV1><STMTTRNRS><STMTRS>\
         <CURDEF>EUR<BANKACCTFROM><BANKID>1<ACCTID>000123456789<ACCTTYPE>CHECKING</BANKACCTFROM>\
         <BANKTRANLIST>{body}</BANKTRANLIST></STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>"
    )
    .into_bytes()
}

#[test]
fn cuts_never_split_what_the_tokenizer_reads_as_one() {
    let cases = [
        "<STMTTRN><TRNTYPE>DEBIT<DTPOSTED>20240105<TRNAMT>-4.50<FITID>1<NAME></NAME></STMTTRN>",
        "<STMTTRN><TRNTYPE>DEBIT<DTPOSTED>20240105<TRNAMT><!-- x --></TRNAMT><FITID>2</STMTTRN>",
        "<STMTTRN><TRNTYPE>DEBIT<DTPOSTED>20240105<TRNAMT>-1<NAME>A<![CDATA[<B>]]>C</NAME></STMTTRN>",
        "<STMTTRN><!-- <FITID>9 --><TRNTYPE>DEBIT<DTPOSTED>20240105<TRNAMT>-1</STMTTRN>",
        "<STMTTRN><TRNTYPE>DEBIT<?pi <X> ?><DTPOSTED>20240105<TRNAMT>-1<MEMO>a &amp; b</STMTTRN>",
        "<STMTTRN><TRNTYPE>DEBIT\n<DTPOSTED>20240105\n<TRNAMT>x\n</STMTTRN>",
        "<STMTTRN><TRNTYPE>DEBIT<DTPOSTED>20240105<TRNAMT>-1<NAME>A<!-- unclosed",
        "<STMTTRN><TRNTYPE>DEBIT<DTPOSTED>20240105<TRNAMT>-1<NAME>A</STMTTRN></NOPE>",
        "<STMTTRN><TRNTYPE>DEBIT<DTPOSTED>20240105<TRNAMT>-1</STMTTRN> stray",
    ];
    for body in cases {
        assert_same(body, &sgml(body));
    }
    assert_same("bare", b"<OFX><X");
    assert_same("empty", b"OFXHEADER:100\n\n");
}

#[test]
fn an_element_over_a_mebibyte_is_refused_without_reading_on() {
    let long = format!(
        "<STMTTRN><TRNTYPE>DEBIT<MEMO>{}</STMTTRN>",
        "x".repeat(MAX_ELEMENT + 10)
    );
    let err = streamed(&sgml(&format!("\n\n{long}")), 1 << 16).unwrap_err();
    assert!(
        matches!(err, StreamError::ElementTooLong { line: 7 }),
        "{err:?}"
    );
    let comment = format!("<!--{}-->", "-".repeat(MAX_ELEMENT + 10));
    let err = streamed(&sgml(&comment), 1 << 16).unwrap_err();
    assert!(matches!(err, StreamError::ElementTooLong { .. }), "{err:?}");
}

#[test]
fn too_many_transactions_stop_the_read() {
    let t = "<STMTTRN><TRNTYPE>DEBIT<DTPOSTED>20240105<TRNAMT>-1<FITID>a</STMTTRN>";
    let file = sgml(&t.repeat(5));
    let options = StreamOptions {
        account: ACCOUNT,
        chunk: 0,
        max_transactions: 4,
    };
    let err = stream(Cursor::new(&file), &options, &mut |_, _| Ok::<(), ()>(())).unwrap_err();
    assert!(matches!(err, StreamError::TooManyTransactions { limit: 4 }));
}
