//! Stored-import throughput: 1,000,000 realistic spend events written through one
//! `ImportSession` (sealing, idempotence check, multi-row inserts, one transaction), on SQLite and,
//! when `AUDITPULSE_BENCH_POSTGRES_URL` is set, PostgreSQL. Target: >= 30,000 rows/s stored on
//! SQLite on one core; prints rows/s and the process's peak RSS (`VmHWM`) for each backend.
//!
//! ```sh
//! cargo bench --bench ledger_write
//! AUDITPULSE_BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres cargo bench --bench ledger_write
//! ```
//!
//! The events are deterministic (fixed seed): 2,000 vendors drawn with Zipf (s = 1) frequency, the
//! bank's suffixes on the name (`#1234`), amounts log-uniform from 1.00 to 5,000.00 USD, two years
//! of dates (2024-01-01 to 2025-12-31) with a time of day, in date order as a statement lists them
//! (`LEDGER_BENCH_ORDER=random` scatters them, the worst case for the date indexes), descriptions
//! of about 40 characters, one in 50 pending. They are generated while they are pushed, as a streaming reader would, and the
//! time covers `begin_import` to `commit`. The runtime is current-thread, so the writer uses one
//! core (SQLite runs in sqlx's worker thread beside it; PostgreSQL in its own server process).
//!
//! `LEDGER_BENCH_ROWS` (default 1,000,000) sets the size. `LEDGER_BENCH_DATA_DIR=DIR` keeps the
//! SQLite database as `DIR/auditpulse.db` with the tenant `bench` (what `bench/transactions.sh`
//! serves) and skips PostgreSQL; `LEDGER_BENCH_MASTER_KEYS` gives the master key to seal with
//! (the server's `AUDITPULSE_MASTER_KEYS`), otherwise one is generated for the run.
//! `LEDGER_BENCH_KEEP_POSTGRES=1` keeps the PostgreSQL database (for `EXPLAIN ANALYZE`) instead of
//! dropping it.
#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)] // a benchmark reports on stdout and fails loudly

use std::sync::Arc;
use std::time::Instant;

use auditpulse::app::{connect, Store};
use auditpulse::config::{DatabaseUrl, MasterKeys};
use auditpulse::crypto::Keyring;
use auditpulse::domain::{Currency, Money};
use auditpulse::ledger::imports::ImportInfo;
use auditpulse::ledger::SpendStatus;
use auditpulse::ledger::{AccountKind, AccountOrigin, Ledger, NewAccount, NewSpend, Source};
use auditpulse::tenants::NewTenant;
use base64::Engine;
use chrono::{Duration, TimeZone, Utc};
use rand::{Rng, RngCore, SeedableRng};
use sqlx::Connection;

const VENDORS: usize = 2_000;
const SPAN_SECS: i64 = 2 * 365 * 86_400;
const FIRST: &[&str] = &[
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Stark",
    "Wayne",
    "Wonka",
    "Cyberdyne",
    "Soylent",
    "Hooli",
    "Vandelay",
    "Tyrell",
    "Aperture",
    "Oscorp",
    "Pied",
    "Gringotts",
    "Monarch",
    "Dunder",
    "Bluth",
    "Sterling",
    "Prestige",
    "Massive",
    "Nakatomi",
    "Virtucon",
    "Duff",
    "Krusty",
    "Ollivander",
    "Zorg",
    "Nimbus",
    "Cobalt",
    "Juniper",
    "Quartz",
    "Harbor",
    "Summit",
    "Beacon",
    "Atlas",
    "Orchid",
    "Falcon",
    "Granite",
    "Willow",
];
const SECOND: &[&str] = &[
    "Supply",
    "Cloud",
    "Software",
    "Logistics",
    "Catering",
    "Office",
    "Travel",
    "Hosting",
    "Media",
    "Consulting",
    "Print",
    "Telecom",
    "Energy",
    "Freight",
    "Design",
    "Security",
    "Analytics",
    "Payroll",
    "Legal",
    "Staffing",
    "Fuel",
    "Parking",
    "Hotels",
    "Airlines",
    "Coffee",
    "Books",
    "Hardware",
    "Networks",
    "Labs",
    "Studios",
    "Foods",
    "Rentals",
    "Cleaning",
    "Couriers",
    "Insurance",
    "Marketing",
    "Events",
    "Training",
    "Storage",
    "Devices",
    "Paper",
    "Water",
    "Motors",
    "Garden",
    "Health",
    "Fitness",
    "Music",
    "Games",
    "Tools",
    "Textiles",
];
const CATEGORIES: &[&str] = &[
    "software",
    "travel",
    "office",
    "meals",
    "utilities",
    "services",
    "hardware",
    "marketing",
];

/// The name of vendor `i` (0-based, most frequent first), as the bank prints it.
fn vendor(i: usize) -> String {
    format!(
        "{} {}",
        FIRST[i % FIRST.len()],
        SECOND[(i / FIRST.len()) % SECOND.len()]
    )
}

/// Deterministic spend events, generated one at a time.
struct Events {
    rng: rand::rngs::StdRng,
    /// Cumulative Zipf weights of the vendors.
    zipf: Vec<f64>,
    account: auditpulse::domain::AccountId,
    usd: Currency,
    start: chrono::DateTime<Utc>,
    next: u64,
    rows: u64,
    random_order: bool,
}

impl Events {
    fn new(account: auditpulse::domain::AccountId, rows: u64, random_order: bool) -> Self {
        let mut total = 0.0;
        let zipf = (1..=VENDORS)
            .map(|k| {
                total += 1.0 / k as f64;
                total
            })
            .collect();
        Events {
            rng: rand::rngs::StdRng::seed_from_u64(9),
            zipf,
            account,
            usd: Currency::parse("USD").unwrap(),
            start: Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap(),
            next: 0,
            rows,
            random_order,
        }
    }

    fn event(&mut self) -> NewSpend {
        let n = self.next;
        self.next += 1;
        let total = *self.zipf.last().unwrap();
        let pick = self.rng.gen::<f64>() * total;
        let v = self.zipf.partition_point(|&c| c < pick).min(VENDORS - 1);
        // Two years: in date order as a bank file lists them (the n-th event's slot plus up to
        // an hour), or anywhere in the two years with `LEDGER_BENCH_ORDER=random`.
        let offset = if self.random_order {
            self.rng.gen_range(0..SPAN_SECS)
        } else {
            (n as i64 * SPAN_SECS) / self.rows.max(1) as i64 + self.rng.gen_range(0..3_600)
        };
        let at = self.start + Duration::seconds(offset.min(SPAN_SECS - 1));
        // Log-uniform from 1.00 to 5,000.00.
        let minor = (100.0 * 5_000f64.powf(self.rng.gen::<f64>())) as i64;
        let store = self.rng.gen_range(1000..9999);
        let reference = self.rng.next_u32();
        let name = vendor(v);
        NewSpend {
            source: Source::Csv,
            source_ref: format!("bench:{n:012}"),
            account: Some(self.account),
            occurred_at: at,
            booked_on: at.date_naive(),
            amount: Money::new(minor, self.usd),
            status: if n.is_multiple_of(50) {
                SpendStatus::Pending
            } else {
                SpendStatus::Posted
            },
            counterparty: Some(format!("{} #{store}", name.to_uppercase())),
            category: Some(CATEGORIES[v % CATEGORIES.len()].to_owned()),
            description: Some(format!("CARD PURCHASE {name} REF {reference:010}")),
            replaces: None,
        }
    }
}

/// `VmHWM` of this process in MiB.
fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// Resets `VmHWM`, so each backend's peak is its own.
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn master_keys() -> MasterKeys {
    let spec = std::env::var("LEDGER_BENCH_MASTER_KEYS").unwrap_or_else(|_| {
        let mut key = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        format!(
            "bench:{}",
            base64::engine::general_purpose::STANDARD.encode(key)
        )
    });
    MasterKeys::parse(&spec).unwrap()
}

async fn bench(name: &str, url: &str, rows: u64) {
    let store: Arc<dyn Store> = connect(&DatabaseUrl::parse(url).unwrap(), 5).await.unwrap();
    store.migrate().await.unwrap();
    let keyring = Arc::new(Keyring::new(master_keys(), store.clone()));
    let ledger = Ledger::new(store.clone(), keyring);
    let tenant = store
        .create_tenant(&NewTenant {
            name: "Bench".to_owned(),
            slug: "bench".to_owned(),
        })
        .await
        .unwrap()
        .id;
    let account = ledger
        .create_account(
            tenant,
            &NewAccount {
                name: "Operating".to_owned(),
                kind: AccountKind::Checking,
                currency: Currency::parse("USD").unwrap(),
                number: None,
                mask: Some("4321".to_owned()),
                institution: Some("Bench Bank".to_owned()),
                origin: AccountOrigin::Manual,
                external_id: None,
            },
        )
        .await
        .unwrap();
    let random_order = std::env::var("LEDGER_BENCH_ORDER").is_ok_and(|v| v == "random");
    let mut events = Events::new(account.id, rows, random_order);
    reset_peak_rss();
    let started = Instant::now();
    let info = ImportInfo {
        account: account.id,
        source: Source::Csv,
        mapping: None,
        file_sha256: "0".repeat(64),
        file_bytes: rows * 100,
        actor: "bench".to_owned(),
    };
    let mut session = ledger.begin_import(tenant, info).await.unwrap();
    for _ in 0..rows {
        session.push(events.event()).await.unwrap();
    }
    let summary = session.commit().await.unwrap();
    let took = started.elapsed().as_secs_f64();
    assert_eq!(summary.imported, rows, "every event is new");
    println!(
        "{name}: {rows} events ({order}) stored in {took:.2} s: {rate:.0} rows/s; peak RSS (VmHWM) {rss:.1} MiB \
         [target >= 30000 rows/s on SQLite]",
        order = if random_order { "random dates" } else { "in date order" },
        rate = rows as f64 / took,
        rss = peak_rss_mib(),
    );
    println!("{name}: tenant bench, account {}", account.id);
    store.close().await;
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let rows: u64 = std::env::var("LEDGER_BENCH_ROWS")
        .ok()
        .and_then(|v| v.replace(['_', ','], "").parse().ok())
        .unwrap_or(1_000_000);
    runtime.block_on(async {
        if let Ok(dir) = std::env::var("LEDGER_BENCH_DATA_DIR") {
            std::fs::create_dir_all(&dir).unwrap();
            let url = format!("sqlite://{dir}/auditpulse.db");
            bench("sqlite (kept)", &url, rows).await;
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("bench.db").display());
        bench("sqlite", &url, rows).await;

        let Some(admin) = std::env::var("AUDITPULSE_BENCH_POSTGRES_URL")
            .ok()
            .filter(|v| !v.is_empty())
        else {
            println!("postgres: skipped (set AUDITPULSE_BENCH_POSTGRES_URL)");
            return;
        };
        // An ordinary role owning a throwaway database, so row-level security applies.
        let role = "auditpulse_bench";
        let db = format!("ap_ledger_bench_{}", uuid::Uuid::new_v4().simple());
        let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap();
        sqlx::query(&format!(
            "DO $$ BEGIN CREATE ROLE {role} LOGIN NOSUPERUSER NOBYPASSRLS; \
             EXCEPTION WHEN duplicate_object THEN NULL; END $$"
        ))
        .execute(&mut conn)
        .await
        .unwrap();
        sqlx::query(&format!("CREATE DATABASE {db} OWNER {role}"))
            .execute(&mut conn)
            .await
            .unwrap();
        let mut url = url::Url::parse(&admin).unwrap();
        url.set_path(&format!("/{db}"));
        url.set_username(role).unwrap();
        bench("postgres", url.as_str(), rows).await;
        if std::env::var("LEDGER_BENCH_KEEP_POSTGRES").is_ok_and(|v| v == "1") {
            println!("postgres: kept database {db} (owner {role}); drop it when done");
            return;
        }
        sqlx::query(&format!("DROP DATABASE {db} WITH (FORCE)"))
            .execute(&mut conn)
            .await
            .unwrap();
    });
}
