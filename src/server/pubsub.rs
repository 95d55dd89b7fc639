//! Pub/sub subscriptions: channels, patterns and shard channels, and message delivery into the
//! subscribers' push queues. Held under the keyspace lock, so PUBLISH (and keyspace
//! notifications fired by writes) are ordered with the commands around them.

use super::ClientHandle;
use crate::protocol::{Out, Resp};
use crate::store::glob::glob_match;
use bytes::Bytes;
use std::collections::HashMap;
use std::sync::Arc;

/// A subscribed connection and the protocol its messages are encoded in.
#[derive(Debug, Clone)]
pub struct Subscriber {
    pub handle: Arc<ClientHandle>,
    pub resp: Resp,
}

/// Which namespace a subscription lives in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// SUBSCRIBE / PUBLISH.
    Channel,
    /// PSUBSCRIBE (glob patterns over channels).
    Pattern,
    /// SSUBSCRIBE / SPUBLISH.
    Shard,
}

/// All subscriptions.
#[derive(Default, Debug)]
pub struct PubSub {
    channels: HashMap<Vec<u8>, Vec<Subscriber>>,
    patterns: HashMap<Vec<u8>, Vec<Subscriber>>,
    shards: HashMap<Vec<u8>, Vec<Subscriber>>,
}

fn encode(resp: Resp, parts: &[&[u8]]) -> Bytes {
    let size = 16 + parts.iter().map(|p| p.len() + 16).sum::<usize>();
    let mut out = Out::with_capacity(resp, size);
    out.push(parts.len());
    for p in parts {
        out.bulk(p);
    }
    out.buf.freeze()
}

impl PubSub {
    fn map(&mut self, kind: Kind) -> &mut HashMap<Vec<u8>, Vec<Subscriber>> {
        match kind {
            Kind::Channel => &mut self.channels,
            Kind::Pattern => &mut self.patterns,
            Kind::Shard => &mut self.shards,
        }
    }

    fn map_ref(&self, kind: Kind) -> &HashMap<Vec<u8>, Vec<Subscriber>> {
        match kind {
            Kind::Channel => &self.channels,
            Kind::Pattern => &self.patterns,
            Kind::Shard => &self.shards,
        }
    }

    /// Adds a subscription; false if it already existed.
    pub fn subscribe(&mut self, kind: Kind, name: &[u8], sub: Subscriber) -> bool {
        let list = self.map(kind).entry(name.to_vec()).or_default();
        if list.iter().any(|s| s.handle.id == sub.handle.id) {
            return false;
        }
        list.push(sub);
        true
    }

    /// Removes a subscription; false if it did not exist.
    pub fn unsubscribe(&mut self, kind: Kind, name: &[u8], id: u64) -> bool {
        let map = self.map(kind);
        let Some(list) = map.get_mut(name) else {
            return false;
        };
        let before = list.len();
        list.retain(|s| s.handle.id != id);
        let removed = list.len() != before;
        if list.is_empty() {
            map.remove(name);
        }
        removed
    }

    /// Delivers a PUBLISH (or SPUBLISH) and returns the number of receivers.
    pub fn publish(&self, kind: Kind, channel: &[u8], message: &[u8]) -> usize {
        let mut n = 0;
        let (direct, word): (&HashMap<_, _>, &[u8]) = match kind {
            Kind::Shard => (&self.shards, b"smessage"),
            _ => (&self.channels, b"message"),
        };
        if let Some(subs) = direct.get(channel) {
            for s in subs {
                s.handle.push(encode(s.resp, &[word, channel, message]));
                n += 1;
            }
        }
        if kind != Kind::Shard {
            for (pattern, subs) in &self.patterns {
                if glob_match(pattern, channel, false) {
                    for s in subs {
                        s.handle
                            .push(encode(s.resp, &[b"pmessage", pattern, channel, message]));
                        n += 1;
                    }
                }
            }
        }
        n
    }

    /// True when nobody subscribes to anything (keyspace notifications skip their work then).
    pub fn is_empty(&self) -> bool {
        self.channels.is_empty() && self.patterns.is_empty() && self.shards.is_empty()
    }

    /// Active channel (or shard channel) names matching an optional pattern.
    pub fn names(&self, kind: Kind, pattern: Option<&[u8]>) -> Vec<Vec<u8>> {
        self.map_ref(kind)
            .keys()
            .filter(|c| pattern.is_none_or(|p| glob_match(p, c, false)))
            .cloned()
            .collect()
    }

    /// Subscribers of a channel (PUBSUB NUMSUB / SHARDNUMSUB).
    pub fn count(&self, kind: Kind, name: &[u8]) -> usize {
        self.map_ref(kind).get(name).map_or(0, Vec::len)
    }

    /// Number of distinct subscribed patterns (PUBSUB NUMPAT).
    pub fn pattern_count(&self) -> usize {
        self.patterns.len()
    }

    /// Number of channels / patterns / shard channels with subscribers (INFO stats).
    pub fn len(&self, kind: Kind) -> usize {
        self.map_ref(kind).len()
    }

    /// Drops every subscription of a disconnecting client.
    pub fn remove_client(&mut self, id: u64) {
        for kind in [Kind::Channel, Kind::Pattern, Kind::Shard] {
            let map = self.map(kind);
            map.retain(|_, subs| {
                subs.retain(|s| s.handle.id != id);
                !subs.is_empty()
            });
        }
    }
}
