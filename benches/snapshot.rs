//! The snapshot walk (BGSAVE and full syncs): the event loop's share of a snapshot, i.e. cutting
//! 1M entries (100-byte values) into chunks for the encoder, and the encoder's share, writing
//! those chunks as an RDB. The first runs among client batches, so its cost per entry is what
//! clients lose while a save runs.
//!
//! Run with `cargo bench --bench snapshot` (`-- --quick` for a short run).

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use resplica::rdb::{Options, Writer};
use resplica::store::{CompactBytes, ItemValue, Keyspace, SnapshotBatch, Value};

const N: usize = 1_000_000;
/// Entries per feeder step, as `persistence::SnapshotFeed` uses.
const STEP: usize = 256;

fn filled() -> Keyspace {
    let mut ks = Keyspace::new(1);
    let value = vec![b'v'; 100];
    for i in 0..N {
        ks.set(
            0,
            format!("key:{i:012}").as_bytes(),
            Value::Str(CompactBytes::new(&value)),
            false,
        );
    }
    ks
}

/// Walks a whole snapshot of `ks`, handing each chunk to `consume`.
fn walk(ks: &mut Keyspace, mut consume: impl FnMut(&SnapshotBatch)) -> usize {
    let (id, _) = ks.begin_snapshot().expect("no snapshot running");
    let mut batch = SnapshotBatch::default();
    let mut entries = 0;
    loop {
        let done = ks.snapshot_step(id, STEP, &mut batch).expect("not aborted");
        entries += batch.len();
        consume(&batch);
        batch = batch.recycle().unwrap_or_default();
        if done {
            return entries;
        }
    }
}

fn bench_snapshot(c: &mut Criterion) {
    let mut g = c.benchmark_group("snapshot");
    g.sample_size(10);
    g.throughput(Throughput::Elements(N as u64));
    let mut ks = filled();
    g.bench_function("cut_1m_entries", |b| {
        b.iter(|| assert_eq!(walk(&mut ks, |_| {}), N))
    });
    g.bench_function("cut_and_encode_1m_entries", |b| {
        b.iter_batched(
            || Writer::new(std::io::sink(), Options::default()),
            |mut w| {
                walk(&mut ks, |batch| {
                    for it in batch.iter() {
                        let r = match it.value {
                            ItemValue::Str(s) => w.string_entry(it.key, s, it.expire_ms),
                            ItemValue::Value(v) => w.entry(it.key, v, it.expire_ms),
                        };
                        r.expect("sink never fails");
                    }
                });
                w.finish().expect("sink never fails")
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

criterion_group!(benches, bench_snapshot);
criterion_main!(benches);
