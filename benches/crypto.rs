//! Field encryption throughput: AES-256-GCM seal and open of typical field sizes, with the
//! associated data a tenant field carries. Run with `cargo bench --bench crypto`.
//!
//! No framework: each case runs for a fixed time after a warm-up and prints ops/s and MB/s of
//! plaintext.
#![allow(clippy::print_stdout, clippy::unwrap_used)] // a benchmark reports on stdout and fails loudly

use std::hint::black_box;
use std::time::{Duration, Instant};

use auditpulse::crypto::{open, seal, DataKey};

const RUN: Duration = Duration::from_secs(2);

/// Calls `op` repeatedly for `RUN` and returns operations per second.
fn measure(mut op: impl FnMut()) -> f64 {
    let warm_up = Instant::now();
    while warm_up.elapsed() < Duration::from_millis(200) {
        op();
    }
    let start = Instant::now();
    let mut count: u64 = 0;
    while start.elapsed() < RUN {
        for _ in 0..64 {
            op();
        }
        count += 64;
    }
    count as f64 / start.elapsed().as_secs_f64()
}

fn report(name: &str, size: usize, ops: f64) {
    let mb = ops * size as f64 / 1_000_000.0;
    println!("{name:<28} {ops:>12.0} ops/s {mb:>10.1} MB/s");
}

fn main() {
    let key = DataKey::generate();
    // The associated data of a field: domain, tenant id, table, column and row id.
    let aad = b"auditpulse/field/v1....0190f1de-4f6a-7b21-9c3d-5e6f7a8b9c0d....tenant_secrets....value_ciphertext....plaid:item-1";
    println!(
        "AES-256-GCM field encryption, one core, {} s per case",
        RUN.as_secs()
    );
    for (label, size) in [
        ("64-byte token", 64),
        ("1 KiB field", 1024),
        ("16 KiB field", 16 * 1024),
    ] {
        let plaintext = vec![0x5a; size];
        let ops = measure(|| {
            black_box(seal(&key, 1, black_box(aad), black_box(&plaintext)).unwrap());
        });
        report(&format!("encrypt {label}"), size, ops);
        let sealed = seal(&key, 1, aad, &plaintext).unwrap();
        let ops = measure(|| {
            black_box(open(&key, black_box(aad), black_box(&sealed)).unwrap());
        });
        report(&format!("decrypt {label}"), size, ops);
    }
}
