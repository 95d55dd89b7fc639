//! Keyspace benchmarks: the `Dict` hash table (insert, get, remove of 100k keys, a full SCAN),
//! the large-collection paths redis-benchmark's SADD/HSET/SPOP/ZADD/ZPOPMIN tests hit (100k
//! members of the `element:000000012345` shape, in hashtable / skiplist encodings), and glob
//! matching as KEYS / SCAN MATCH use it.
//!
//! Run with `cargo bench --bench keyspace` (`-- --quick` for a short run).

use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use rand::{Rng, SeedableRng};
use resplica::store::glob::glob_match;
use resplica::store::{Dict, EncodingLimits, Hash, Set, ZSet};

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

/// Members as redis-benchmark's `element:__rand_int__` produces them (20 bytes: heap strings).
fn members() -> Vec<Vec<u8>> {
    (0..N)
        .map(|i| format!("element:{i:012}").into_bytes())
        .collect()
}

fn bench_collections(c: &mut Criterion) {
    let members = members();
    let limits = EncodingLimits::default();
    let mut g = c.benchmark_group("collections");
    g.sample_size(10);
    g.throughput(Throughput::Elements(N as u64));

    // 32 lookups at a time, as a pipelined batch does them: plain, and with the level-by-level
    // prefetch the connection issues before running the batch.
    let mut d = Dict::new();
    for (i, m) in members.iter().enumerate() {
        d.insert(m, i as u64);
    }
    while d.rehash(1000) {}
    let mut rng = rand::rngs::SmallRng::seed_from_u64(1);
    let order: Vec<usize> = (0..N).map(|_| rng.gen_range(0..N)).collect();
    for prefetch in [false, true] {
        let name = if prefetch {
            "dict_get_batches_of_32_prefetched"
        } else {
            "dict_get_batches_of_32"
        };
        g.bench_function(name, |b| {
            b.iter(|| {
                let mut sum = 0u64;
                for batch in order.chunks(32) {
                    if prefetch {
                        for level in 0..4 {
                            for &i in batch {
                                d.prefetch(&members[i], level);
                            }
                        }
                    }
                    for &i in batch {
                        sum = sum.wrapping_add(*d.get(black_box(&members[i])).unwrap_or(&0));
                    }
                }
                sum
            })
        });
    }

    g.bench_function("hash_overwrite_100k_fields", |b| {
        let mut h = Hash::new();
        for m in &members {
            h.set(m, b"xxx", &limits);
        }
        b.iter(|| {
            for &i in &order {
                h.set(black_box(&members[i]), b"yyy", &limits);
            }
        })
    });

    g.bench_function("set_pop_random_until_empty", |b| {
        b.iter_batched(
            || {
                let mut s = Set::new();
                for m in &members {
                    s.insert(m, 512);
                }
                s
            },
            |mut s| {
                let mut rng = rand::rngs::SmallRng::seed_from_u64(2);
                while s.pop_random(&mut rng).is_some() {}
                s
            },
            BatchSize::LargeInput,
        )
    });

    let filled_zset = || {
        let mut z = ZSet::new();
        for (i, m) in members.iter().enumerate() {
            z.insert(m, i as f64, &limits);
        }
        z
    };
    g.bench_function("zset_upsert_new_scores_100k", |b| {
        let mut z = filled_zset();
        let mut rng = rand::rngs::SmallRng::seed_from_u64(3);
        b.iter(|| {
            for &i in &order {
                let score = rng.gen_range(0..N) as f64;
                z.upsert(black_box(&members[i]), &limits, |_| Some(score));
            }
        })
    });
    g.bench_function("zset_popmin_until_empty", |b| {
        b.iter_batched(
            filled_zset,
            |mut z| {
                while z.pop(false).is_some() {}
                z
            },
            BatchSize::LargeInput,
        )
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

criterion_group!(benches, bench_dict, bench_collections, bench_glob);
criterion_main!(benches);
