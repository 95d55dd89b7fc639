//! Keyspace benchmarks: the `Dict` hash table (insert, get, remove of 100k keys, a full SCAN) and
//! glob matching as KEYS / SCAN MATCH use it.
//!
//! Run with `cargo bench --bench keyspace` (`-- --quick` for a short run).

use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use resplica::store::glob::glob_match;
use resplica::store::Dict;

const N: usize = 100_000;

fn keys() -> Vec<Vec<u8>> {
    (0..N)
        .map(|i| format!("user:{i:08}:session").into_bytes())
        .collect()
}

fn filled(keys: &[Vec<u8>]) -> Dict<u64> {
    let mut d = Dict::new();
    for (i, k) in keys.iter().enumerate() {
        d.insert(k, i as u64);
    }
    // Finish any pending rehash so lookups measure a settled table.
    while d.rehash(1000) {}
    d
}

fn bench_dict(c: &mut Criterion) {
    let keys = keys();
    let mut g = c.benchmark_group("dict");
    g.sample_size(10);
    g.throughput(Throughput::Elements(N as u64));

    g.bench_function("insert_100k", |b| {
        b.iter(|| {
            let mut d = Dict::new();
            for (i, k) in keys.iter().enumerate() {
                d.insert(black_box(k), i as u64);
            }
            d
        })
    });

    let d = filled(&keys);
    g.bench_function("get_100k_hits", |b| {
        b.iter(|| {
            let mut sum = 0u64;
            for k in &keys {
                sum = sum.wrapping_add(*d.get(black_box(k)).unwrap_or(&0));
            }
            sum
        })
    });

    let misses: Vec<Vec<u8>> = (0..N)
        .map(|i| format!("nope:{i:08}").into_bytes())
        .collect();
    g.bench_function("get_100k_misses", |b| {
        b.iter(|| {
            misses
                .iter()
                .filter(|k| d.get(black_box(k)).is_some())
                .count()
        })
    });

    g.bench_function("remove_100k", |b| {
        b.iter_batched(
            || filled(&keys),
            |mut d| {
                for k in &keys {
                    d.remove(black_box(k));
                }
                d
            },
            BatchSize::LargeInput,
        )
    });

    g.bench_function("scan_full_100k", |b| {
        b.iter(|| {
            let mut seen = 0usize;
            let mut cursor = 0;
            loop {
                cursor = d.scan(cursor, |_, _| seen += 1);
                if cursor == 0 {
                    break;
                }
            }
            assert!(seen >= N);
            seen
        })
    });
    g.finish();
}

fn bench_glob(c: &mut Criterion) {
    let keys = keys();
    let mut g = c.benchmark_group("glob");
    g.throughput(Throughput::Elements(1000));
    let sample = &keys[..1000];
    for (name, pat, nocase) in [
        ("prefix_star", &b"user:0000*"[..], false),
        ("class_and_qmark", &b"user:0000[0-4]??:*"[..], false),
        ("nocase_suffix", &b"*:SESSION"[..], true),
        ("many_stars", &b"*u*s*e*r*:*0*0*z"[..], false),
    ] {
        g.bench_function(name, |b| {
            b.iter(|| {
                sample
                    .iter()
                    .filter(|k| glob_match(black_box(pat), k, nocase))
                    .count()
            })
        });
    }
    // The pathological case for a backtracking matcher: many stars and a key that never matches.
    let evil_pat = b"a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b".to_vec();
    let evil_key = vec![b'a'; 1000];
    g.throughput(Throughput::Elements(1));
    g.bench_function("pathological_stars_1000_byte_key", |b| {
        b.iter(|| glob_match(black_box(&evil_pat), black_box(&evil_key), false))
    });
    g.finish();
}

criterion_group!(benches, bench_dict, bench_glob);
criterion_main!(benches);
