//! Bank-file parse benchmark: generates a deterministic 1,000,000-transaction OFX file and CSV file
//! (realistic vendors, amounts and dates; `IMPORT_BENCH_ROWS` to change the count) and streams
//! each through `ledger::import::read`, printing rows/s, elapsed time and the process's peak RSS.
//!
//! `cargo bench --bench import_parse` runs both; `-- ofx` or `-- csv` runs one, so that the peak
//! RSS printed (VmHWM) belongs to that reader alone. Files are written under
//! `$TMPDIR/auditpulse-import-bench/` (or `IMPORT_BENCH_DIR`) and reused when already there with
//! the same row count.
#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)]

use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use auditpulse::ledger::import::{read, CsvMapping, Format, ReadOptions};

const VENDORS: [(&str, &str, i64, i64); 16] = [
    ("STARBUCKS STORE 1234", "POS", 350, 900),
    ("AMAZON MKTPLACE PMTS", "DEBIT", 999, 25000),
    ("UBER *TRIP", "POS", 800, 6500),
    ("SHELL OIL 5744", "POS", 2500, 9000),
    ("WHOLE FOODS MKT #102", "POS", 1500, 22000),
    ("AWS EMEA", "DEBIT", 5000, 900000),
    ("GITHUB INC", "DEBIT", 400, 210000),
    ("DELTA AIR 0062", "DEBIT", 18000, 140000),
    ("MARRIOTT HOTELS", "DEBIT", 12000, 90000),
    ("SLACK TECHNOLOGIES", "DEBIT", 800, 150000),
    ("OPENAI *CHATGPT SUBSCR", "DEBIT", 2000, 20000),
    ("ZOOM.US 888-799-9666", "DEBIT", 1499, 30000),
    ("COSTCO WHSE #0412", "POS", 3000, 60000),
    ("PAYROLL ACME CORP", "CREDIT", -900000, -250000),
    ("ATM WITHDRAWAL", "ATM", 2000, 40000),
    ("CHECK", "CHECK", 5000, 300000),
];

/// A small deterministic generator (SplitMix64), so every run writes the same files.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn between(&mut self, low: i64, high: i64) -> i64 {
        low + (self.next() % ((high - low) as u64 + 1)) as i64
    }
}

/// One generated transaction: day offset in 2024, vendor, money out in cents.
struct Txn {
    date: chrono::NaiveDate,
    vendor: &'static str,
    kind: &'static str,
    cents: i64,
}

fn transactions(rows: u64) -> impl Iterator<Item = Txn> {
    let mut rng = Rng(2024);
    let start = chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
    (0..rows).map(move |i| {
        let (vendor, kind, low, high) = VENDORS[(rng.next() % VENDORS.len() as u64) as usize];
        let day = (i * 366 / rows.max(1)) as i64;
        Txn {
            date: start + chrono::Duration::days(day),
            vendor,
            kind,
            cents: rng.between(low, high),
        }
    })
}

fn money(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", cents.abs() / 100, cents.abs() % 100)
}

fn write_ofx(path: &Path, rows: u64) -> std::io::Result<()> {
    let mut out = BufWriter::new(File::create(path)?);
    out.write_all(
        b"OFXHEADER:100\r\nDATA:OFXSGML\r\nVERSION:102\r\nSECURITY:NONE\r\nENCODING:USASCII\r\n\
CHARSET:1252\r\nCOMPRESSION:NONE\r\nOLDFILEUID:NONE\r\nNEWFILEUID:NONE\r\n\r\n<OFX>\r\n\
<SIGNONMSGSRSV1><SONRS><STATUS><CODE>0<SEVERITY>INFO</STATUS><DTSERVER>20250101\r\n\
<LANGUAGE>ENG</SONRS></SIGNONMSGSRSV1>\r\n<BANKMSGSRSV1><STMTTRNRS><TRNUID>1\r\n\
<STATUS><CODE>0<SEVERITY>INFO</STATUS>\r\n<STMTRS><CURDEF>USD\r\n<BANKACCTFROM>\
<BANKID>121000248<ACCTID>000123456789<ACCTTYPE>CHECKING</BANKACCTFROM>\r\n\
<BANKTRANLIST><DTSTART>20240101<DTEND>20241231\r\n",
    )?;
    for (i, t) in transactions(rows).enumerate() {
        write!(
            out,
            "<STMTTRN>\r\n<TRNTYPE>{}\r\n<DTPOSTED>{}120000[-5:EST]\r\n<TRNAMT>{}\r\n\
<FITID>2024{:010}\r\n<NAME>{}\r\n<MEMO>CARD 4417 {}\r\n</STMTTRN>\r\n",
            t.kind,
            t.date.format("%Y%m%d"),
            money(-t.cents),
            i,
            t.vendor,
            t.date.format("%m/%d"),
        )?;
    }
    out.write_all(b"</BANKTRANLIST>\r\n<LEDGERBAL><BALAMT>0.00<DTASOF>20241231</LEDGERBAL>\r\n</STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>\r\n")?;
    out.flush()
}

fn write_csv(path: &Path, rows: u64) -> std::io::Result<()> {
    let mut out = BufWriter::new(File::create(path)?);
    out.write_all(b"Date,Description,Category,Amount\r\n")?;
    for t in transactions(rows) {
        let amount = if t.cents < 0 {
            money(-t.cents)
        } else {
            format!("-{}", money(t.cents))
        };
        writeln!(
            out,
            "{},{} {},{},\"${}\"\r",
            t.date.format("%m/%d/%Y"),
            t.vendor,
            t.date.format("%d%m"),
            t.kind.to_ascii_lowercase(),
            amount
        )?;
    }
    out.write_all(b"Total,,,0.00\r\n")?;
    out.flush()
}

/// Peak resident set size of this process so far, in MiB (Linux `VmHWM`).
fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn file(
    dir: &Path,
    name: &str,
    rows: u64,
    write: fn(&Path, u64) -> std::io::Result<()>,
) -> PathBuf {
    let path = dir.join(format!("{rows}-{name}"));
    if !path.exists() {
        let partial = path.with_extension("partial");
        write(&partial, rows).unwrap();
        std::fs::rename(&partial, &path).unwrap();
    }
    path
}

fn bench(label: &str, path: &Path, options: &ReadOptions<'_>) {
    let size = std::fs::metadata(path).unwrap().len();
    let input = BufReader::with_capacity(1 << 16, File::open(path).unwrap());
    let started = Instant::now();
    let mut total = 0i64;
    let summary = read(input, options, &mut |record| {
        total = total.wrapping_add(record.amount.minor);
        Ok(())
    })
    .unwrap_or_else(|e| panic!("{label}: {e}"));
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "{label}: {} rows, {:.1} MB in {elapsed:.2} s = {:.0} rows/s ({:.0} MB/s); peak RSS {:.1} MiB \
         (checksum {total})",
        summary.rows,
        size as f64 / 1e6,
        summary.rows as f64 / elapsed,
        size as f64 / 1e6 / elapsed,
        peak_rss_mib(),
    );
}

fn main() {
    let rows: u64 = std::env::var("IMPORT_BENCH_ROWS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(1_000_000);
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let wants = |f: &str| only.is_empty() || only.iter().any(|o| o == f);
    let dir = std::env::var_os("IMPORT_BENCH_DIR").map_or_else(
        || std::env::temp_dir().join("auditpulse-import-bench"),
        PathBuf::from,
    );
    std::fs::create_dir_all(&dir).unwrap();
    if wants("ofx") {
        let path = file(&dir, "bank.ofx", rows, write_ofx);
        let options = ReadOptions {
            format: Format::Ofx,
            csv_mapping: None,
            account: "bench-account",
            max_rows: u64::MAX,
        };
        bench("ofx", &path, &options);
    }
    if wants("csv") {
        let path = file(&dir, "bank.csv", rows, write_csv);
        let mapping: CsvMapping = serde_json::from_str(
            r#"{"date": "Date", "date_format": "auto", "amount": {"single": "Amount"},
                "description": "Description", "category": "Category",
                "thousands_separator": ",", "default_currency": "USD", "skip_footer_lines": 1}"#,
        )
        .unwrap();
        let options = ReadOptions {
            format: Format::Csv,
            csv_mapping: Some(&mapping),
            account: "bench-account",
            max_rows: u64::MAX,
        };
        bench("csv", &path, &options);
    }
}
