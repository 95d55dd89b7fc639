//! Protocol benchmarks: parsing request streams (pipelined multibulk, inline, a large bulk split
//! across many reads), encoding replies in RESP2 and RESP3, and encoding the replication stream.
//!
//! Run with `cargo bench --bench protocol` (`-- --quick` for a short run).

use bytes::{Bytes, BytesMut};
use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use resplica::protocol::{split_args, Out, Parser, Resp};

/// `n` pipelined requests alternating `SET key:i value:i` and `GET key:i`, in multibulk form.
fn multibulk_pipeline(n: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for i in 0..n {
        let key = format!("key:{i:06}");
        if i % 2 == 0 {
            let val = format!("value:{i:06}");
            out.extend_from_slice(
                format!(
                    "*3\r\n$3\r\nSET\r\n${}\r\n{key}\r\n${}\r\n{val}\r\n",
                    key.len(),
                    val.len()
                )
                .as_bytes(),
            );
        } else {
            out.extend_from_slice(
                format!("*2\r\n$3\r\nGET\r\n${}\r\n{key}\r\n", key.len()).as_bytes(),
            );
        }
    }
    out
}

/// The same requests in inline form, one quoted argument in every SET.
fn inline_pipeline(n: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for i in 0..n {
        if i % 2 == 0 {
            out.extend_from_slice(format!("SET key:{i:06} \"value {i:06}\"\r\n").as_bytes());
        } else {
            out.extend_from_slice(format!("GET key:{i:06}\r\n").as_bytes());
        }
    }
    out
}

/// Parses every request in `input`, returning how many there were.
fn parse_all(input: &[u8]) -> usize {
    let mut parser = Parser::default();
    let mut buf = BytesMut::from(input);
    let mut n = 0;
    while let Ok(Some(args)) = parser.next(&mut buf) {
        n += args.len();
    }
    n
}

/// Feeds `input` to the parser in `chunk`-byte reads, as a socket would deliver it.
fn parse_chunked(input: &[u8], chunk: usize) -> usize {
    let mut parser = Parser::default();
    let mut buf = BytesMut::with_capacity(16 * 1024);
    let mut n = 0;
    for piece in input.chunks(chunk) {
        buf.extend_from_slice(piece);
        while let Ok(Some(args)) = parser.next(&mut buf) {
            n += args.iter().map(|a| a.len()).sum::<usize>();
        }
    }
    n
}

fn bench_parse(c: &mut Criterion) {
    let mut g = c.benchmark_group("parse");

    let mb = multibulk_pipeline(1000);
    g.throughput(Throughput::Elements(1000));
    g.bench_function("multibulk_pipeline_1000", |b| {
        b.iter(|| assert_eq!(parse_all(black_box(&mb)), 2500))
    });

    let inl = inline_pipeline(1000);
    g.bench_function("inline_pipeline_1000", |b| {
        b.iter(|| assert_eq!(parse_all(black_box(&inl)), 2500))
    });

    let line = b"SET \"key with spaces\" 'single \\' quoted' \"hex \\x41\\x42 escapes\\n\" plain";
    g.throughput(Throughput::Bytes(line.len() as u64));
    g.bench_function("split_args_quoted", |b| {
        b.iter(|| split_args(black_box(line)).map(|a| a.len()))
    });

    // One SET with a 1 MB value arriving in 16 KB reads (Redis's PROTO_IOBUF_LEN).
    let value = vec![b'x'; 1024 * 1024];
    let mut big = format!("*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n${}\r\n", value.len()).into_bytes();
    big.extend_from_slice(&value);
    big.extend_from_slice(b"\r\n");
    g.throughput(Throughput::Bytes(big.len() as u64));
    g.bench_function("bulk_1mb_in_16k_reads", |b| {
        b.iter(|| assert_eq!(parse_chunked(black_box(&big), 16 * 1024), 6 + value.len()))
    });
    g.finish();
}

fn bench_encode(c: &mut Criterion) {
    let mut g = c.benchmark_group("encode");
    let payload = vec![b'v'; 64];
    for (name, resp) in [("resp2", Resp::V2), ("resp3", Resp::V3)] {
        g.throughput(Throughput::Elements(1000));
        g.bench_function(format!("bulk_64b_x1000_{name}"), |b| {
            b.iter_batched_ref(
                || Out::new(resp),
                |out| {
                    for _ in 0..1000 {
                        out.bulk(black_box(&payload));
                    }
                },
                BatchSize::SmallInput,
            )
        });
        g.bench_function(format!("int_x1000_{name}"), |b| {
            b.iter_batched_ref(
                || Out::new(resp),
                |out| {
                    for i in 0..1000i64 {
                        out.int(black_box(i * 7919 - 3_000_000));
                    }
                },
                BatchSize::SmallInput,
            )
        });
        g.bench_function(format!("array_1000_bulks_{name}"), |b| {
            b.iter_batched_ref(
                || Out::new(resp),
                |out| {
                    out.array(1000);
                    for i in 0..1000 {
                        if i % 10 == 0 {
                            out.null();
                        } else {
                            out.bulk(black_box(&payload[..16]));
                        }
                    }
                },
                BatchSize::SmallInput,
            )
        });
        g.bench_function(format!("map_500_pairs_{name}"), |b| {
            b.iter_batched_ref(
                || Out::new(resp),
                |out| {
                    out.map(500);
                    for i in 0..500 {
                        out.bulk(black_box(&payload[..12]));
                        out.double(black_box(i as f64 * 1.5));
                    }
                },
                BatchSize::SmallInput,
            )
        });
    }
    g.finish();
}

/// The replication stream's encoding of the writes a master propagates verbatim: the part of
/// a replicated write the master pays for on its event loop (its throughput with replicas).
fn bench_stream_encode(c: &mut Criterion) {
    let mut g = c.benchmark_group("stream_encode");
    let set = |value_len: usize| -> Vec<Bytes> {
        vec![
            Bytes::from_static(b"SET"),
            Bytes::from_static(b"key:000000012345"),
            Bytes::from(vec![b'x'; value_len]),
        ]
    };
    for (name, args) in [("set_3b_value", set(3)), ("set_100b_value", set(100))] {
        g.throughput(Throughput::Elements(1000));
        // One buffer for every iteration, as the master's outbox is reused: no page faults.
        let mut out = bytes::BytesMut::with_capacity(256 * 1024);
        g.bench_function(format!("{name}_x1000"), |b| {
            b.iter(|| {
                out.clear();
                for _ in 0..1000 {
                    resplica::replication::propagate::encode(black_box(&args), &mut out);
                }
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench_parse, bench_encode, bench_stream_encode);
criterion_main!(benches);
