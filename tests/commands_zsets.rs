//! Sorted-set commands, differentially against a real Redis 7.0 (RESP2 and RESP3, value by
//! value), plus a seeded random-sequence property test and blocking-pop tests.

#[macro_use]
mod common;
use common::*;
use rand::{Rng, SeedableRng};
use redis::Value as V;
use std::time::{Duration, Instant};

/// Runs owned sequences through `Pair::diff_norm`.
fn diff_owned(p: &Pair, seqs: &[Vec<Vec<String>>], norm: Norm) -> Vec<String> {
    let views: Vec<Vec<Vec<&str>>> = seqs
        .iter()
        .map(|s| {
            s.iter()
                .map(|c| c.iter().map(|x| x.as_str()).collect())
                .collect()
        })
        .collect();
    let slices: Vec<Vec<&[&str]>> = views
        .iter()
        .map(|s| s.iter().map(|c| c.as_slice()).collect())
        .collect();
    let seqs: Vec<&[&[&str]]> = slices.iter().map(|s| s.as_slice()).collect();
    p.diff_norm(&seqs, norm)
}

#[test]
fn zadd_zincrby_options_and_errors() {
    let p = pair!();
    let seqs: &[&[&[&str]]] = &[
        &[
            &["ZADD", "z", "1", "a", "2", "b", "3", "c"],
            &["ZADD", "z", "NX", "5", "a", "6", "f"],
            &["ZADD", "z", "XX", "CH", "10", "a", "10", "g"],
            &["ZADD", "z", "GT", "CH", "1", "a", "20", "b"],
            &["ZADD", "z", "LT", "CH", "1", "a", "20", "c"],
            &["ZADD", "z", "XX", "GT", "30", "a", "1", "nope"],
            &["ZADD", "z", "LT", "INCR", "-5", "c"],
            &["ZADD", "z", "GT", "INCR", "-5", "c"],
            &["ZADD", "z", "NX", "INCR", "1", "c"],
            &["ZADD", "z", "XX", "INCR", "1", "new"],
            &["ZADD", "z", "INCR", "1.5", "new"],
            &["ZADD", "z", "CH", "1", "a", "1", "a", "2", "a"],
            &[
                "ZADD", "z", "inf", "i", "-inf", "j", "+inf", "k", "1e3", "e",
            ],
            &[
                "ZADD", "z", "0x10", "hex", "1e-310", "sub", "-0", "negz", "0", "a",
            ],
            &["ZADD", "z", "1e400", "big"],
            &["ZADD", "z", "1e-400", "small"],
            &["ZADD", "z", "nan", "x"],
            &["ZADD", "z", " 1", "x"],
            &["ZADD", "z", "1 ", "x"],
            &["ZADD", "z", "", "x"],
            &["ZADD", "z", "abc", "x"],
            &["ZADD", "z", "NX", "XX", "1", "a"],
            &["ZADD", "z", "NX", "XX", "nan", "a"],
            &["ZADD", "z", "GT", "LT", "1", "a"],
            &["ZADD", "z", "GT", "NX", "1", "a"],
            &["ZADD", "z", "LT", "NX", "1", "a"],
            &["ZADD", "z", "INCR", "1", "a", "2", "b"],
            &["ZADD", "z", "1", "a", "2"],
            &["ZADD", "z", "NX"],
            &["ZADD", "z", "FOO", "1", "a"],
            &["ZADD", "z", "1"],
            &["ZADD", "z"],
            &["ZRANGE", "z", "0", "-1", "WITHSCORES"],
            &["ZINCRBY", "z", "1", "a"],
            &["ZINCRBY", "z", "inf", "i"],
            &["ZINCRBY", "z", "-inf", "i"],
            &["ZSCORE", "z", "i"],
            &["ZINCRBY", "z", "x", "a"],
            &["ZINCRBY", "z", "nan", "a"],
            &["ZINCRBY", "z", "1", "fresh"],
            &["ZINCRBY", "z", "NX", "a"],
            &["ZINCRBY", "z", "INCR", "a"],
            &["ZINCRBY", "z", "5", "nx"],
            &["ZINCRBY", "newkey", "-2.5", "m"],
            &["ZINCRBY", "z", "1"],
            &["ZRANGE", "z", "0", "-1", "WITHSCORES"],
            &["ZCARD", "z"],
            &["ZADD", "xx", "XX", "1", "a"],
            &["ZADD", "xx", "XX", "INCR", "1", "a"],
            &["EXISTS", "xx"],
            &["SET", "str", "v"],
            &["ZADD", "str", "1", "a"],
            &["ZADD", "str", "nan", "a"],
            &["ZINCRBY", "str", "1", "a"],
            &["ZADD", "neg", "-0", "a"],
            &["ZSCORE", "neg", "a"],
            &["ZADD", "neg", "0", "a"],
            &["ZSCORE", "neg", "a"],
            &["ZINCRBY", "neg", "0", "a"],
            &["zadd", "mixed", "nx", "ch", "1", "a"],
            &["OBJECT", "ENCODING", "z"],
        ],
        &[
            &["ZREM", "z", "a"],
            &["ZADD", "z", "1", "a", "2", "b", "3", "c"],
            &["ZREM", "z", "a", "nope", "b", "a"],
            &["ZREM", "z", "c"],
            &["EXISTS", "z"],
            &["ZREM", "z"],
            &["SET", "s", "v"],
            &["ZREM", "s", "a"],
            &["ZCARD", "s"],
            &["ZCARD", "nokey"],
            &["ZSCORE", "s", "a"],
            &["ZSCORE", "nokey", "a"],
            &["ZMSCORE", "nokey", "a", "b"],
            &["ZMSCORE", "s", "a"],
            &["ZRANK", "s", "a"],
            &["ZRANK", "nokey", "a"],
            &["ZADD", "z", "1", "a", "2", "b", "2", "c", "inf", "d"],
            &["ZMSCORE", "z", "a", "zz", "d"],
            &["ZRANK", "z", "c"],
            &["ZREVRANK", "z", "c"],
            &["ZREVRANK", "z", "d"],
            &["ZRANK", "z", "zz"],
            &["ZRANK", "z"],
            &["ZMSCORE", "z"],
        ],
    ];
    assert_no_diffs(p.diff(seqs));
}

#[test]
fn range_queries() {
    let p = pair!();
    let setup: &[&str] = &[
        "ZADD", "z", "1", "a", "2", "b", "2", "c", "3", "d", "-inf", "m", "inf", "p", "2.5", "e",
        "0", "f",
    ];
    let lex: &[&str] = &[
        "ZADD", "l", "0", "a", "0", "b", "0", "bb", "0", "c", "0", "d", "0", "e", "0", "",
    ];
    let seqs: &[&[&[&str]]] = &[
        &[
            setup,
            &["ZRANGE", "z", "0", "-1"],
            &["ZRANGE", "z", "0", "-1", "WITHSCORES"],
            &["ZRANGE", "z", "-3", "-1", "withscores"],
            &["ZRANGE", "z", "2", "1"],
            &["ZRANGE", "z", "-100", "100"],
            &["ZRANGE", "z", "100", "200"],
            &["ZRANGE", "z", "-1", "-100"],
            &["ZRANGE", "z", "0", "-1", "REV", "WITHSCORES"],
            &["ZRANGE", "z", "1", "3", "REV"],
            &["ZREVRANGE", "z", "0", "2", "WITHSCORES"],
            &["ZREVRANGE", "z", "-2", "-1"],
            &["ZREVRANGE", "z", "0", "-1", "LIMIT", "0", "1"],
            &["ZREVRANGE", "z", "0", "-1", "REV"],
            &["ZRANGE", "z", "a", "1"],
            &["ZRANGE", "z", "0", "1", "LIMIT", "0", "1"],
            &["ZRANGE", "z", "0", "1", "LIMIT", "0"],
            &["ZRANGE", "z", "0", "1", "FOO"],
            &["ZRANGE", "z", "-inf", "+inf", "BYSCORE"],
            &["ZRANGE", "z", "-inf", "+inf", "BYSCORE", "WITHSCORES"],
            &["ZRANGE", "z", "(1", "(3", "BYSCORE", "WITHSCORES"],
            &["ZRANGE", "z", "2", "2", "BYSCORE"],
            &["ZRANGE", "z", "(2", "2", "BYSCORE"],
            &["ZRANGE", "z", "3", "1", "BYSCORE"],
            &[
                "ZRANGE",
                "z",
                "+inf",
                "-inf",
                "BYSCORE",
                "REV",
                "WITHSCORES",
            ],
            &["ZRANGE", "z", "3", "(1", "BYSCORE", "REV"],
            &["ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", "1", "3"],
            &["ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", "1", "-1"],
            &["ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", "-1", "3"],
            &["ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", "7", "3"],
            &["ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", "8", "3"],
            &["ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", "2", "0"],
            &[
                "ZRANGE", "z", "inf", "-inf", "BYSCORE", "REV", "LIMIT", "2", "2",
            ],
            &["ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", "x", "3"],
            &["ZRANGE", "z", "-inf", "+inf", "BYSCORE", "BYLEX"],
            &["ZRANGE", "z", "-inf", "+inf", "BYSCORE", "REV", "REV"],
            &["ZRANGE", "z", "x", "1", "BYSCORE"],
            &["ZRANGE", "z", "(", "( 3", "BYSCORE"],
            &["ZRANGE", "z", "", "3", "BYSCORE"],
            &["ZRANGE", "z", "1e400", "-1e400", "BYSCORE", "REV"],
            &["ZRANGE", "z", "nan", "1", "BYSCORE"],
            &["ZRANGE", "z", "0x1", "0x3", "BYSCORE"],
            &["ZRANGE", "z", "- ", "+", "BYLEX"],
            &["ZRANGE", "z", "-", "+", "BYLEX", "WITHSCORES"],
            &["ZRANGE", "nokey", "0", "-1"],
            &["ZRANGE", "nokey", "0", "-1", "LIMIT", "0", "1"],
            &[
                "ZRANGEBYSCORE",
                "z",
                "-inf",
                "+inf",
                "WITHSCORES",
                "LIMIT",
                "2",
                "3",
            ],
            &["ZRANGEBYSCORE", "z", "1", "2", "REV"],
            &["ZRANGEBYSCORE", "z", "1", "2", "BYSCORE"],
            &["ZRANGEBYSCORE", "z", "1", "2", "LIMIT", "1"],
            &["ZREVRANGEBYSCORE", "z", "+inf", "-inf", "WITHSCORES"],
            &["ZREVRANGEBYSCORE", "z", "2", "1", "LIMIT", "1", "1"],
            &["ZREVRANGEBYSCORE", "z", "1", "2"],
            &["ZCOUNT", "z", "-inf", "+inf"],
            &["ZCOUNT", "z", "(1", "2"],
            &["ZCOUNT", "z", "(2", "(2"],
            &["ZCOUNT", "z", "2", "1"],
            &["ZCOUNT", "z", "inf", "inf"],
            &["ZCOUNT", "z", "a", "1"],
            &["ZCOUNT", "nokey", "0", "1"],
            &["ZCOUNT", "nokey", "x", "1"],
            &["ZRANGE", "z", "0", "1", "WITHSCORES", "WITHSCORES"],
            &["ZRANGESTORE", "d", "z", "0", "-1", "WITHSCORES"],
        ],
        &[
            lex,
            &["ZRANGEBYLEX", "l", "-", "+"],
            &["ZRANGEBYLEX", "l", "[b", "(d"],
            &["ZRANGEBYLEX", "l", "(b", "[d"],
            &["ZRANGEBYLEX", "l", "[", "[b"],
            &["ZRANGEBYLEX", "l", "(", "+"],
            &["ZRANGEBYLEX", "l", "-", "+", "LIMIT", "1", "2"],
            &["ZRANGEBYLEX", "l", "-", "+", "LIMIT", "-1", "2"],
            &["ZRANGEBYLEX", "l", "-", "+", "LIMIT", "2", "-1"],
            &["ZRANGEBYLEX", "l", "+", "-"],
            &["ZRANGEBYLEX", "l", "-", "-"],
            &["ZRANGEBYLEX", "l", "[c", "[c"],
            &["ZRANGEBYLEX", "l", "(c", "[c"],
            &["ZRANGEBYLEX", "l", "[d", "[b"],
            &["ZRANGEBYLEX", "l", "b", "d"],
            &["ZRANGEBYLEX", "l", "+x", "[d"],
            &["ZRANGEBYLEX", "l", "", "[d"],
            &["ZRANGEBYLEX", "l", "-", "+", "WITHSCORES"],
            &["ZREVRANGEBYLEX", "l", "+", "-"],
            &["ZREVRANGEBYLEX", "l", "(d", "[b"],
            &["ZREVRANGEBYLEX", "l", "+", "-", "LIMIT", "1", "3"],
            &["ZREVRANGEBYLEX", "l", "-", "+"],
            &["ZRANGE", "l", "[b", "[d", "BYLEX"],
            &["ZRANGE", "l", "[d", "[b", "BYLEX", "REV", "LIMIT", "0", "2"],
            &["ZLEXCOUNT", "l", "-", "+"],
            &["ZLEXCOUNT", "l", "[b", "(c"],
            &["ZLEXCOUNT", "l", "(c", "(c"],
            &["ZLEXCOUNT", "l", "a", "b"],
            &["ZLEXCOUNT", "nokey", "-", "+"],
            &["ZLEXCOUNT", "nokey", "x", "+"],
            &[
                "ZADD", "mix", "1", "a", "2", "c", "0", "d", "3", "b", "1", "e",
            ],
            &["ZRANGEBYLEX", "mix", "[b", "[d"],
            &["ZREVRANGEBYLEX", "mix", "[d", "[b"],
            &["ZLEXCOUNT", "mix", "[b", "[d"],
            &["ZRANGEBYLEX", "mix", "-", "(c"],
            &["ZREMRANGEBYLEX", "mix", "[b", "[e"],
            &["ZRANGE", "mix", "0", "-1", "WITHSCORES"],
        ],
        &[
            setup,
            &["ZRANGESTORE", "d", "z", "0", "2"],
            &["ZRANGE", "d", "0", "-1", "WITHSCORES"],
            &[
                "ZRANGESTORE",
                "d",
                "z",
                "(1",
                "inf",
                "BYSCORE",
                "LIMIT",
                "1",
                "2",
            ],
            &["ZRANGE", "d", "0", "-1", "WITHSCORES"],
            &[
                "ZRANGESTORE",
                "d",
                "z",
                "inf",
                "(1",
                "BYSCORE",
                "REV",
                "LIMIT",
                "0",
                "2",
            ],
            &["ZRANGE", "d", "0", "-1", "WITHSCORES"],
            &["ZRANGESTORE", "d", "z", "5", "6"],
            &["EXISTS", "d"],
            &["SET", "d", "string"],
            &["EXPIRE", "d", "100"],
            &["ZRANGESTORE", "d", "z", "0", "0"],
            &["TTL", "d"],
            &["TYPE", "d"],
            &["ZRANGESTORE", "d", "nokey", "0", "-1"],
            &["EXISTS", "d"],
            &["ZRANGESTORE", "z", "z", "1", "2"],
            &["ZRANGE", "z", "0", "-1", "WITHSCORES"],
            &["SET", "str", "x"],
            &["ZRANGESTORE", "d", "str", "0", "-1"],
            &["ZRANGE", "str", "0", "-1"],
            &["ZRANGESTORE", "d", "z", "0"],
            &["ZRANGESTORE", "d", "z", "a", "b", "BYSCORE"],
            &["ZRANGESTORE", "d", "z", "-", "+", "BYLEX"],
            &["ZRANGE", "d", "0", "-1"],
        ],
    ];
    assert_no_diffs(p.diff(seqs));
}

#[test]
fn removals_and_pops() {
    let p = pair!();
    let setup: &[&str] = &[
        "ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e", "6", "f",
    ];
    let seqs: &[&[&[&str]]] = &[
        &[
            setup,
            &["ZREMRANGEBYRANK", "z", "0", "0"],
            &["ZREMRANGEBYRANK", "z", "-2", "-1"],
            &["ZREMRANGEBYRANK", "z", "5", "10"],
            &["ZREMRANGEBYRANK", "z", "2", "1"],
            &["ZREMRANGEBYRANK", "z", "a", "1"],
            &["ZRANGE", "z", "0", "-1", "WITHSCORES"],
            &["ZREMRANGEBYSCORE", "z", "(2", "3"],
            &["ZREMRANGEBYSCORE", "z", "x", "3"],
            &["ZREMRANGEBYSCORE", "z", "5", "1"],
            &["ZRANGE", "z", "0", "-1", "WITHSCORES"],
            &["ZREMRANGEBYSCORE", "z", "-inf", "+inf"],
            &["EXISTS", "z"],
            &["ZREMRANGEBYSCORE", "z", "-inf", "+inf"],
            &["ZREMRANGEBYRANK", "z", "0", "-1"],
            &["ZADD", "l", "0", "a", "0", "b", "0", "c"],
            &["ZREMRANGEBYLEX", "l", "(a", "+"],
            &["ZREMRANGEBYLEX", "l", "x", "+"],
            &["ZREMRANGEBYLEX", "l", "-", "+"],
            &["EXISTS", "l"],
            &["SET", "s", "v"],
            &["ZREMRANGEBYRANK", "s", "0", "1"],
            &["ZREMRANGEBYSCORE", "s", "0", "1"],
            &["ZREMRANGEBYLEX", "s", "-", "+"],
            &["ZREMRANGEBYLEX", "s", "x", "+"],
        ],
        &[
            setup,
            &["ZPOPMIN", "z"],
            &["ZPOPMAX", "z"],
            &["ZPOPMIN", "z", "2"],
            &["ZPOPMAX", "z", "1"],
            &["ZPOPMIN", "z", "0"],
            &["ZPOPMIN", "z", "-1"],
            &["ZPOPMIN", "z", "x"],
            &["ZPOPMIN", "z", "1", "2"],
            &["ZPOPMAX", "z", "10"],
            &["EXISTS", "z"],
            &["ZPOPMIN", "z"],
            &["ZPOPMIN", "z", "3"],
            &["ZPOPMIN", "z", "0"],
            &["SET", "s", "v"],
            &["ZPOPMIN", "s"],
            &["ZPOPMIN", "s", "0"],
            setup,
            &["ZMPOP", "1", "z", "MIN"],
            &["ZMPOP", "2", "nokey", "z", "MAX", "COUNT", "2"],
            &["ZMPOP", "1", "nokey", "MAX"],
            &["ZMPOP", "1", "z", "min", "count", "100"],
            &["EXISTS", "z"],
            &["ZMPOP", "0", "z", "MIN"],
            &["ZMPOP", "x", "z", "MIN"],
            &["ZMPOP", "-1", "z", "MIN"],
            &["ZMPOP", "5", "z", "MIN"],
            &["ZMPOP", "1", "z", "FOO"],
            &["ZMPOP", "1", "z", "MIN", "COUNT"],
            &["ZMPOP", "1", "z", "MIN", "COUNT", "0"],
            &["ZMPOP", "1", "z", "MIN", "COUNT", "x"],
            &["ZMPOP", "1", "z", "MIN", "COUNT", "1", "COUNT", "1"],
            &["ZMPOP", "1", "z", "MIN", "FOO"],
            &["ZMPOP", "2", "s", "z", "MIN"],
            &["ZMPOP", "2", "nokey", "s", "MIN"],
            &["ZMPOP", "1", "z"],
            // Non-blocking paths of the blocking commands.
            setup,
            &["BZPOPMIN", "nokey", "z", "0"],
            &["BZPOPMAX", "z", "0.5"],
            &["BZPOPMIN", "z", "x"],
            &["BZPOPMIN", "z", "-1"],
            &["BZPOPMIN", "s", "0"],
            &["BZMPOP", "0", "2", "nokey", "z", "MAX", "COUNT", "2"],
            &["BZMPOP", "x", "1", "z", "MIN"],
            &["BZMPOP", "0", "0", "z", "MIN"],
            &["BZMPOP", "-1", "1", "z", "MIN"],
            &["BZMPOP", "0", "1", "s", "MIN"],
            &["BZMPOP", "0", "1", "z", "MIN", "COUNT", "0"],
            &["MULTI"],
            &["BZPOPMIN", "nokey", "0"],
            &["BZMPOP", "0", "1", "nokey", "MIN"],
            &["BZPOPMIN", "z", "0"],
            &["EXEC"],
        ],
    ];
    assert_no_diffs(p.diff(seqs));
}

#[test]
fn set_operations() {
    let p = pair!();
    let seqs: &[&[&[&str]]] = &[&[
        &["ZADD", "a", "1", "x", "2", "y", "3", "z"],
        &["ZADD", "b", "10", "y", "20", "z", "30", "w"],
        &["SADD", "s", "x", "w", "q"],
        &["SADD", "si", "1", "2", "x"],
        &["ZADD", "c", "inf", "x", "1", "p", "2", "q"],
        &["ZADD", "d", "-inf", "x", "1", "y"],
        &["ZUNION", "2", "a", "b"],
        &["ZUNION", "2", "a", "b", "WITHSCORES"],
        &["ZUNION", "3", "a", "b", "s", "WITHSCORES"],
        &["ZUNION", "3", "a", "b", "si", "WITHSCORES"],
        &["ZUNION", "2", "a", "b", "WEIGHTS", "2", "0.5", "WITHSCORES"],
        &["ZUNION", "2", "a", "b", "AGGREGATE", "MIN", "WITHSCORES"],
        &["ZUNION", "2", "a", "b", "AGGREGATE", "max", "WITHSCORES"],
        &["ZUNION", "2", "a", "b", "AGGREGATE", "foo"],
        &["ZUNION", "2", "a", "b", "AGGREGATE"],
        &["ZUNION", "2", "a", "b", "WEIGHTS", "1"],
        &["ZUNION", "2", "a", "b", "WEIGHTS", "1", "x"],
        &["ZUNION", "2", "a", "b", "WEIGHTS", "1", "nan"],
        &["ZUNION", "3", "c", "d", "a", "WITHSCORES"],
        &["ZUNION", "2", "c", "d", "WEIGHTS", "0", "0", "WITHSCORES"],
        &[
            "ZUNION",
            "2",
            "c",
            "d",
            "WEIGHTS",
            "1",
            "-1",
            "AGGREGATE",
            "MAX",
            "WITHSCORES",
        ],
        &["ZUNION", "2", "nokey", "a", "WITHSCORES"],
        &["ZUNION", "1", "nokey"],
        &["ZUNION", "0", "a"],
        &["ZUNION", "-1", "a"],
        &["ZUNION", "x", "a"],
        &["ZUNION", "3", "a", "b"],
        &["ZUNION", "2", "a", "b", "FOO"],
        &["ZINTER", "2", "a", "b", "WITHSCORES"],
        &[
            "ZINTER",
            "2",
            "a",
            "b",
            "WEIGHTS",
            "1",
            "2",
            "AGGREGATE",
            "MAX",
            "WITHSCORES",
        ],
        &["ZINTER", "2", "a", "a", "WITHSCORES"],
        &[
            "ZINTER",
            "3",
            "a",
            "a",
            "a",
            "WEIGHTS",
            "1",
            "2",
            "3",
            "WITHSCORES",
        ],
        &["ZINTER", "2", "a", "s", "WITHSCORES"],
        &["ZINTER", "2", "a", "nokey"],
        &["ZINTER", "3", "c", "d", "a", "WITHSCORES"],
        &["ZINTER", "0", "a"],
        &["ZDIFF", "2", "a", "b", "WITHSCORES"],
        &["ZDIFF", "2", "b", "a"],
        &["ZDIFF", "3", "b", "a", "s", "WITHSCORES"],
        &["ZDIFF", "1", "a", "WITHSCORES"],
        &["ZDIFF", "2", "nokey", "a"],
        &["ZDIFF", "2", "a", "b", "WEIGHTS", "1", "1"],
        &["ZDIFF", "2", "a", "b", "AGGREGATE", "SUM"],
        &["ZDIFF", "0", "a"],
        &["ZINTERCARD", "2", "a", "b"],
        &["ZINTERCARD", "2", "a", "b", "LIMIT", "1"],
        &["ZINTERCARD", "2", "a", "b", "LIMIT", "0"],
        &["ZINTERCARD", "2", "a", "b", "LIMIT", "-1"],
        &["ZINTERCARD", "2", "a", "b", "LIMIT", "x"],
        &["ZINTERCARD", "2", "a", "b", "WITHSCORES"],
        &["ZINTERCARD", "2", "a", "b", "WEIGHTS", "1", "1"],
        &["ZINTERCARD", "0", "a"],
        &["ZINTERCARD", "x", "a"],
        &["ZINTERCARD", "3", "a", "b"],
        &["ZUNIONSTORE", "dst", "2", "a", "b"],
        &["ZRANGE", "dst", "0", "-1", "WITHSCORES"],
        &["OBJECT", "ENCODING", "dst"],
        &["ZUNIONSTORE", "dst", "2", "a", "b", "WITHSCORES"],
        &["ZINTERSTORE", "dst", "2", "a", "b", "WEIGHTS", "2", "3"],
        &["ZRANGE", "dst", "0", "-1", "WITHSCORES"],
        &["ZDIFFSTORE", "dst", "2", "a", "b"],
        &["ZRANGE", "dst", "0", "-1", "WITHSCORES"],
        &["ZINTERSTORE", "dst", "2", "a", "nokey"],
        &["EXISTS", "dst"],
        &["ZUNIONSTORE", "a", "2", "a", "b"],
        &["ZRANGE", "a", "0", "-1", "WITHSCORES"],
        &["SET", "str", "v"],
        &["ZUNION", "2", "a", "str"],
        &["ZUNION", "2", "str", "a", "FOO"],
        &["ZINTERSTORE", "dst", "2", "a", "str"],
        &["ZUNIONSTORE", "str", "1", "a"],
        &["TYPE", "str"],
        &["ZUNIONSTORE", "dst", "0", "a"],
        &["ZINTERSTORE", "dst", "0", "a"],
        &["ZDIFFSTORE", "dst", "0", "a"],
        &["ZDIFFSTORE", "dst", "1"],
    ]];
    assert_no_diffs(p.diff(seqs));
}

#[test]
fn random_member_and_scan() {
    let p = pair!();
    // Deterministic cases compare exactly; random picks compare shape only.
    let seqs: &[&[&[&str]]] = &[&[
        &["ZRANDMEMBER", "nokey"],
        &["ZRANDMEMBER", "nokey", "5"],
        &["ZRANDMEMBER", "nokey", "-5", "WITHSCORES"],
        &["ZADD", "z", "1", "a", "2", "b", "3", "c"],
        &["ZRANDMEMBER", "z", "3"],
        &["ZRANDMEMBER", "z", "10", "WITHSCORES"],
        &["ZRANDMEMBER", "z", "0"],
        &["ZRANDMEMBER", "z", "0", "WITHSCORES"],
        &["~any", "ZRANDMEMBER", "z"],
        &["~any", "ZRANDMEMBER", "z", "-5", "WITHSCORES"],
        &["~any", "ZRANDMEMBER", "z", "2"],
        &["ZRANDMEMBER", "z", "x"],
        &["ZRANDMEMBER", "z", "1", "FOO"],
        &["ZRANDMEMBER", "z", "1", "WITHSCORES", "x"],
        &["ZRANDMEMBER", "z", "-9223372036854775808"],
        &["ZRANDMEMBER", "z", "9223372036854775807", "WITHSCORES"],
        &["ZRANDMEMBER", "z", "-9223372036854775807", "WITHSCORES"],
        &["SET", "s", "v"],
        &["ZRANDMEMBER", "s"],
        &["ZRANDMEMBER", "s", "1"],
        &["ZSCAN", "z", "0"],
        &["ZSCAN", "z", "0", "MATCH", "[ab]"],
        &["ZSCAN", "z", "0", "COUNT", "1"],
        &["ZSCAN", "z", "0", "COUNT", "0"],
        &["ZSCAN", "z", "0", "COUNT", "x"],
        &["ZSCAN", "z", "0", "TYPE", "zset"],
        &["ZSCAN", "z", "0", "MATCH"],
        &["ZSCAN", "z", "x"],
        &["ZSCAN", "nokey", "0"],
        &["ZSCAN", "nokey", "x"],
        &["ZSCAN", "s", "0"],
        &[
            "ZADD", "f", "0.1", "a", "1e20", "b", "-0", "c", "inf", "d", "1.5", "e",
        ],
        &["ZSCAN", "f", "0"],
        &["ZRANGE", "f", "0", "-1", "WITHSCORES"],
    ]];
    assert_no_diffs(p.diff(seqs));

    // Random shapes: distinct picks are members, negative counts may repeat.
    let mut c = p.ours.conn();
    let mut c3 = p.ours.conn3();
    let members: Vec<String> = (0..300).map(|i| format!("m{i}")).collect();
    for m in &members {
        let _: () = redis::cmd("ZADD")
            .arg("big")
            .arg(1)
            .arg(m)
            .query(&mut c)
            .unwrap();
    }
    let picks: Vec<String> = redis::cmd("ZRANDMEMBER")
        .arg("big")
        .arg(50)
        .query(&mut c)
        .unwrap();
    let uniq: std::collections::HashSet<_> = picks.iter().collect();
    assert_eq!(uniq.len(), 50);
    assert!(picks.iter().all(|m| members.contains(m)));
    let picks: Vec<String> = redis::cmd("ZRANDMEMBER")
        .arg("big")
        .arg(-400)
        .query(&mut c)
        .unwrap();
    assert_eq!(picks.len(), 400);
    let v: V = redis::cmd("ZRANDMEMBER")
        .arg("big")
        .arg(3)
        .arg("WITHSCORES")
        .query(&mut c3)
        .unwrap();
    match v {
        V::Array(items) => {
            assert_eq!(items.len(), 3);
            for it in items {
                assert!(matches!(&it, V::Array(p) if p.len() == 2 && p[1] == V::Double(1.0)));
            }
        }
        other => panic!("unexpected {other:?}"),
    }
    // A full ZSCAN of a big set returns every member exactly once (no rehash in between).
    let mut cursor = "0".to_string();
    let mut seen = std::collections::HashSet::new();
    loop {
        let (next, items): (String, Vec<String>) = redis::cmd("ZSCAN")
            .arg("big")
            .arg(&cursor)
            .arg("COUNT")
            .arg(20)
            .query(&mut c)
            .unwrap();
        for pair in items.chunks(2) {
            assert_eq!(pair[1], "1");
            seen.insert(pair[0].clone());
        }
        cursor = next;
        if cursor == "0" {
            break;
        }
    }
    assert_eq!(seen.len(), 300);
}

#[test]
fn encodings_follow_limits() {
    let p = pair!();
    let long = "x".repeat(65);
    let seqs: Vec<Vec<Vec<String>>> = vec![{
        let mut s: Vec<Vec<String>> = Vec::new();
        let c = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        s.push(c(&["ZADD", "small", "1", "a"]));
        s.push(c(&["OBJECT", "ENCODING", "small"]));
        s.push(c(&["ZADD", "small", "1", &long]));
        s.push(c(&["OBJECT", "ENCODING", "small"]));
        s.push(c(&["ZREM", "small", &long]));
        s.push(c(&["OBJECT", "ENCODING", "small"]));
        let mut add = c(&["ZADD", "many"]);
        for i in 0..128 {
            add.push(i.to_string());
            add.push(format!("m{i}"));
        }
        s.push(add);
        s.push(c(&["OBJECT", "ENCODING", "many"]));
        s.push(c(&["ZADD", "many", "1000", "extra"]));
        s.push(c(&["OBJECT", "ENCODING", "many"]));
        s.push(c(&["ZPOPMAX", "many", "10"]));
        s.push(c(&["OBJECT", "ENCODING", "many"]));
        s.push(c(&["ZRANGESTORE", "st", "many", "0", "9"]));
        s.push(c(&["OBJECT", "ENCODING", "st"]));
        s.push(c(&["ZUNIONSTORE", "u", "1", "many"]));
        s.push(c(&["OBJECT", "ENCODING", "u"]));
        s.push(c(&["ZUNIONSTORE", "u2", "2", "small", "many"]));
        s.push(c(&["OBJECT", "ENCODING", "u2"]));
        s.push(c(&["ZRANGE", "many", "0", "-1", "WITHSCORES"]));
        s.push(c(&["ZRANGE", "many", "-5", "-1", "REV"]));
        s.push(c(&["ZRANK", "many", "m77"]));
        s.push(c(&["ZREVRANK", "many", "m77"]));
        s.push(c(&["ZCOUNT", "many", "(10", "50"]));
        s.push(c(&[
            "ZRANGEBYSCORE",
            "many",
            "(10",
            "50",
            "LIMIT",
            "3",
            "4",
        ]));
        s.push(c(&[
            "ZREVRANGEBYSCORE",
            "many",
            "50",
            "(10",
            "LIMIT",
            "3",
            "4",
        ]));
        s.push(c(&["CONFIG", "SET", "zset-max-listpack-entries", "2"]));
        s.push(c(&["ZADD", "t", "1", "a", "2", "b"]));
        s.push(c(&["OBJECT", "ENCODING", "t"]));
        s.push(c(&["ZADD", "t", "3", "c"]));
        s.push(c(&["OBJECT", "ENCODING", "t"]));
        s.push(c(&["ZADD", "t2", "1", "a", "2", "b", "3", "c"]));
        s.push(c(&["OBJECT", "ENCODING", "t2"]));
        s.push(c(&["CONFIG", "SET", "zset-max-listpack-entries", "128"]));
        s.push(c(&["CONFIG", "SET", "zset-max-listpack-value", "1"]));
        s.push(c(&["ZADD", "v", "1", "ab"]));
        s.push(c(&["OBJECT", "ENCODING", "v"]));
        s.push(c(&["CONFIG", "SET", "zset-max-listpack-value", "64"]));
        s
    }];
    assert_no_diffs(diff_owned(&p, &seqs, &|_, v| v));
}

/// A random command over a few keys; lex queries only touch `lx`, whose scores are all 0 (the
/// only case where Redis defines their result).
fn random_command(rng: &mut impl Rng) -> Vec<String> {
    let keys = ["k1", "k2", "k3"];
    let member = |rng: &mut dyn rand::RngCore| format!("m{}", rng.gen_range(0..12));
    let score = |rng: &mut dyn rand::RngCore| {
        [
            "0", "1", "1", "2", "-1", "2.5", "inf", "-inf", "0.1", "3", "-0", "1e3", "7",
        ][rng.gen_range(0..13)]
        .to_string()
    };
    let bound = |rng: &mut dyn rand::RngCore| {
        let b = score(rng);
        if rng.gen_bool(0.3) {
            format!("({b}")
        } else {
            b
        }
    };
    let lexb = |rng: &mut dyn rand::RngCore| {
        let m = member(rng);
        match rng.gen_range(0..6) {
            0 => "-".to_string(),
            1 => "+".to_string(),
            2 => format!("({m}"),
            _ => format!("[{m}"),
        }
    };
    let idx = |rng: &mut dyn rand::RngCore| rng.gen_range(-8..10).to_string();
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<String>>();
    let k = keys[rng.gen_range(0..keys.len())].to_string();
    match rng.gen_range(0..30) {
        0..=5 => {
            let mut c = s(&["ZADD", &k]);
            for opt in ["NX", "XX", "GT", "LT", "CH"] {
                if rng.gen_bool(0.12) {
                    c.push(opt.into());
                }
            }
            for _ in 0..rng.gen_range(1..5) {
                c.push(score(rng));
                c.push(member(rng));
            }
            c
        }
        6 => s(&["ZINCRBY", &k, &score(rng), &member(rng)]),
        7 => s(&["ZADD", &k, "INCR", &score(rng), &member(rng)]),
        8 => s(&["ZREM", &k, &member(rng), &member(rng)]),
        9 => s(&["ZRANGE", &k, &idx(rng), &idx(rng), "WITHSCORES"]),
        10 => s(&["ZREVRANGE", &k, &idx(rng), &idx(rng), "WITHSCORES"]),
        11 => {
            let mut c = s(&["ZRANGEBYSCORE", &k, &bound(rng), &bound(rng), "WITHSCORES"]);
            if rng.gen_bool(0.5) {
                c.extend(s(&["LIMIT", &idx(rng), &idx(rng)]));
            }
            c
        }
        12 => {
            let mut c = s(&["ZREVRANGEBYSCORE", &k, &bound(rng), &bound(rng)]);
            if rng.gen_bool(0.5) {
                c.extend(s(&["LIMIT", &idx(rng), &idx(rng)]));
            }
            c
        }
        13 => s(&["ZCOUNT", &k, &bound(rng), &bound(rng)]),
        14 => s(&["ZRANK", &k, &member(rng)]),
        15 => s(&["ZREVRANK", &k, &member(rng)]),
        16 => s(&["ZSCORE", &k, &member(rng)]),
        17 => s(&["ZMSCORE", &k, &member(rng), &member(rng)]),
        18 => s(&["ZREMRANGEBYRANK", &k, &idx(rng), &idx(rng)]),
        19 => s(&["ZREMRANGEBYSCORE", &k, &bound(rng), &bound(rng)]),
        20 => s(&["ZPOPMIN", &k, &rng.gen_range(0..3).to_string()]),
        21 => s(&["ZPOPMAX", &k]),
        22 => s(&["ZADD", "lx", "0", &member(rng), "0", &member(rng)]),
        23 => {
            let mut c = if rng.gen_bool(0.5) {
                s(&["ZRANGEBYLEX", "lx", &lexb(rng), &lexb(rng)])
            } else {
                s(&["ZREVRANGEBYLEX", "lx", &lexb(rng), &lexb(rng)])
            };
            if rng.gen_bool(0.4) {
                c.extend(s(&["LIMIT", &idx(rng), &idx(rng)]));
            }
            c
        }
        24 => s(&["ZLEXCOUNT", "lx", &lexb(rng), &lexb(rng)]),
        25 => s(&["ZREMRANGEBYLEX", "lx", &lexb(rng), &lexb(rng)]),
        26 => {
            let op = ["ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE"][rng.gen_range(0..3)];
            let mut c = s(&[op, &k, "2", "k1", "k2"]);
            if op != "ZDIFFSTORE" && rng.gen_bool(0.5) {
                c.extend(s(&[
                    "AGGREGATE",
                    ["SUM", "MIN", "MAX"][rng.gen_range(0..3)],
                ]));
            }
            c
        }
        27 => {
            let op = ["ZUNION", "ZINTER", "ZDIFF"][rng.gen_range(0..3)];
            s(&[op, "3", "k1", "k2", "k3", "WITHSCORES"])
        }
        28 => s(&[
            "ZMPOP",
            "2",
            &k,
            "k3",
            "MAX",
            "COUNT",
            &rng.gen_range(1..4).to_string(),
        ]),
        _ => s(&["ZRANGESTORE", "k3", &k, &bound(rng), &bound(rng), "BYSCORE"]),
    }
}

#[test]
fn random_sequences_match_redis() {
    let p = pair!();
    let mut rng = rand::rngs::SmallRng::seed_from_u64(0x5eed_2024);
    let mut seqs = Vec::new();
    for _ in 0..6 {
        let mut seq: Vec<Vec<String>> = (0..300).map(|_| random_command(&mut rng)).collect();
        for k in ["k1", "k2", "k3", "lx"] {
            seq.push(vec![
                "ZRANGE".into(),
                k.into(),
                "0".into(),
                "-1".into(),
                "WITHSCORES".into(),
            ]);
        }
        seqs.push(seq);
    }
    // Same again on big sets (skiplist encoding) by lowering the listpack limit on both.
    let mut seq: Vec<Vec<String>> = vec![vec![
        "CONFIG".into(),
        "SET".into(),
        "zset-max-listpack-entries".into(),
        "4".into(),
    ]];
    seq.extend((0..600).map(|_| random_command(&mut rng)));
    for k in ["k1", "k2", "k3"] {
        seq.push(vec!["OBJECT".into(), "ENCODING".into(), k.into()]);
        seq.push(vec![
            "ZRANGE".into(),
            k.into(),
            "0".into(),
            "-1".into(),
            "WITHSCORES".into(),
        ]);
    }
    seq.push(vec![
        "CONFIG".into(),
        "SET".into(),
        "zset-max-listpack-entries".into(),
        "128".into(),
    ]);
    seqs.push(seq);
    // OBJECT ENCODING of a key that went away and came back may legitimately be missing on
    // both; everything else compares exactly.
    assert_no_diffs(diff_owned(&p, &seqs, &|_, v| v));
}

// ---------------------------------------------------------------------------------------------
// Blocking pops.
// ---------------------------------------------------------------------------------------------

fn bulk(s: &str) -> V {
    V::BulkString(s.as_bytes().to_vec())
}

/// Waits until `n` clients are blocked.
fn wait_blocked(port: u16, n: i64) {
    let mut c = Raw::connect(port);
    let ok = wait_until(Duration::from_secs(10), || {
        let list = c.call(&["CLIENT", "LIST"]);
        text_of(&list.value).is_some_and(|t| t.matches("flags=b").count() as i64 == n)
    });
    assert!(ok, "clients did not block");
}

#[test]
fn blocking_pops_are_served_in_arrival_order() {
    let s = Server::start(&[]);
    let mut a = Raw::connect(s.port);
    let mut b = Raw::connect(s.port);
    let mut c = Raw::connect(s.port);
    a.send(&["BZPOPMIN", "q1", "q2", "0"]);
    wait_blocked(s.port, 1);
    b.send(&["BZPOPMAX", "q2", "0"]);
    wait_blocked(s.port, 2);
    c.send(&["BZMPOP", "0", "1", "q2", "MIN", "COUNT", "5"]);
    wait_blocked(s.port, 3);
    let mut w = Raw::connect(s.port);
    // One ZADD of three members: the first waiter takes the lowest, the second the highest,
    // the third what is left.
    assert_eq!(
        w.call(&["ZADD", "q2", "1", "x", "2", "y", "3", "z"]).value,
        V::Int(3)
    );
    assert_eq!(
        a.read().value,
        V::Array(vec![bulk("q2"), bulk("x"), bulk("1")])
    );
    assert_eq!(
        b.read().value,
        V::Array(vec![bulk("q2"), bulk("z"), bulk("3")])
    );
    assert_eq!(
        c.read().value,
        V::Array(vec![
            bulk("q2"),
            V::Array(vec![V::Array(vec![bulk("y"), bulk("2")])])
        ])
    );
    assert_eq!(w.call(&["EXISTS", "q2"]).value, V::Int(0));
    wait_blocked(s.port, 0);
}

#[test]
fn blocking_pop_timeouts_and_resp3() {
    let s = Server::start(&[]);
    let mut a = Raw::connect(s.port);
    let start = Instant::now();
    let r = a.call(&["BZPOPMIN", "none", "0.2"]);
    let took = start.elapsed();
    assert_eq!(r.value, V::Nil);
    assert_eq!(r.sig, "*");
    assert!(took >= Duration::from_millis(190), "{took:?}");
    assert!(took < Duration::from_secs(3), "{took:?}");
    let r = a.call(&["BZMPOP", "0.1", "1", "none", "MAX"]);
    assert_eq!(r.value, V::Nil);

    // RESP3: served reply carries a double score; timeout is a null.
    a.call(&["HELLO", "3"]);
    let r = a.call(&["BZPOPMAX", "none", "0.05"]);
    assert_eq!(r.sig, "_");
    a.send(&["BZPOPMAX", "k", "0"]);
    wait_blocked(s.port, 1);
    let mut w = Raw::connect(s.port);
    w.call(&["ZADD", "k", "2.5", "m"]);
    let r = a.read();
    assert_eq!(
        r.value,
        V::Array(vec![bulk("k"), bulk("m"), V::Double(2.5)])
    );

    // A write to another key leaves a waiter blocked until its timeout; MULTI never blocks.
    a.send(&["BZPOPMIN", "k", "0.3"]);
    wait_blocked(s.port, 1);
    w.call(&["ZADD", "other", "1", "x"]);
    let r = a.read();
    assert_eq!(r.value, V::Nil);
    assert_eq!(w.call(&["MULTI"]).value, V::Okay);
    w.call(&["BZPOPMIN", "k", "0"]);
    let r = w.call(&["EXEC"]);
    assert_eq!(r.value, V::Array(vec![V::Nil]));
}

#[test]
fn blocking_pop_served_by_zadd_inside_exec_and_by_zunionstore() {
    let s = Server::start(&[]);
    let mut a = Raw::connect(s.port);
    let mut w = Raw::connect(s.port);
    a.send(&["BZPOPMIN", "dst", "0"]);
    wait_blocked(s.port, 1);
    w.call(&["ZADD", "src", "5", "five", "4", "four"]);
    w.call(&["ZUNIONSTORE", "dst", "1", "src"]);
    assert_eq!(
        a.read().value,
        V::Array(vec![bulk("dst"), bulk("four"), bulk("4")])
    );
    a.send(&["BZMPOP", "10", "2", "x", "y", "MAX", "COUNT", "2"]);
    wait_blocked(s.port, 1);
    w.call(&["MULTI"]);
    w.call(&["ZADD", "y", "1", "a", "2", "b", "3", "c"]);
    w.call(&["ZREM", "y", "c"]);
    w.call(&["EXEC"]);
    assert_eq!(
        a.read().value,
        V::Array(vec![
            bulk("y"),
            V::Array(vec![
                V::Array(vec![bulk("b"), bulk("2")]),
                V::Array(vec![bulk("a"), bulk("1")])
            ])
        ])
    );
    assert_eq!(w.call(&["EXISTS", "y"]).value, V::Int(0));
}

#[test]
fn big_sets_stay_fast() {
    // 200k members through the skiplist encoding: rank and range queries must not be linear.
    let s = Server::start(&[]);
    let mut c = Raw::connect(s.port);
    let n = 200_000;
    for chunk in (0..n).collect::<Vec<_>>().chunks(1000) {
        let mut cmd = vec!["ZADD".to_string(), "big".to_string()];
        for i in chunk {
            cmd.push(((i * 7919) % n).to_string());
            cmd.push(format!("member:{i}"));
        }
        c.call(&cmd);
    }
    assert_eq!(c.call(&["ZCARD", "big"]).value, V::Int(n as i64));
    let start = Instant::now();
    for i in 0..2000 {
        let m = format!("member:{}", i * 97);
        let r = c.call(&["ZRANK", "big", &m]);
        let want = ((i * 97) * 7919) % n;
        assert_eq!(r.value, V::Int(want as i64));
        let idx = (i * 89 % n).to_string();
        let r = c.call(&["ZRANGE", "big", &idx, &idx, "WITHSCORES"]);
        assert!(matches!(r.value, V::Array(ref a) if a.len() == 2 && a[1] == bulk(&idx)));
        let r = c.call(&["ZCOUNT", "big", &idx, "+inf"]);
        assert_eq!(r.value, V::Int((n - i * 89 % n) as i64));
    }
    // Generous bound for debug builds: linear scans would take minutes.
    assert!(
        start.elapsed() < Duration::from_secs(30),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(
        c.call(&["ZREMRANGEBYRANK", "big", "1000", "-1001"]).value,
        V::Int(n as i64 - 2000)
    );
    assert_eq!(c.call(&["ZCARD", "big"]).value, V::Int(2000));
    let r = c.call(&["ZPOPMIN", "big", "2000"]);
    assert!(matches!(r.value, V::Array(ref a) if a.len() == 4000));
    assert_eq!(c.call(&["EXISTS", "big"]).value, V::Int(0));
}
