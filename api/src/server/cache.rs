//! Rendered versions kept in memory. A stored version never changes (its text is a
//! content-addressed tree; afbreken marks it but does not change it), so an answer can be reused
//! for as long as the server runs. Bounded in bytes; the oldest entries go first.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use axum::body::Bytes;

use super::routes::Formaat;

type Key = (String, Formaat);

#[derive(Default)]
struct Inner {
    map: HashMap<Key, Bytes>,
    order: VecDeque<Key>,
    bytes: usize,
}

pub struct Cache {
    max: usize,
    inner: Mutex<Inner>,
}

impl Cache {
    /// A cache of at most `max` bytes (0: off).
    pub fn new(max: usize) -> Cache {
        Cache { max, inner: Mutex::default() }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn get(&self, id: &str, f: Formaat) -> Option<Bytes> {
        if self.max == 0 {
            return None;
        }
        self.lock().map.get(&(id.to_string(), f)).cloned()
    }

    pub fn put(&self, id: &str, f: Formaat, body: Bytes) {
        if body.len() > self.max / 4 {
            return;
        }
        let mut c = self.lock();
        let key = (id.to_string(), f);
        if c.map.contains_key(&key) {
            return;
        }
        while c.bytes + body.len() > self.max {
            let Some(old) = c.order.pop_front() else { break };
            if let Some(b) = c.map.remove(&old) {
                c.bytes -= b.len();
            }
        }
        c.bytes += body.len();
        c.order.push_back(key.clone());
        c.map.insert(key, body);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evicts_oldest_within_the_byte_bound() {
        let c = Cache::new(40);
        c.put("a", Formaat::Json, Bytes::from(vec![0; 10]));
        c.put("b", Formaat::Json, Bytes::from(vec![0; 10]));
        c.put("c", Formaat::Json, Bytes::from(vec![0; 10]));
        c.put("d", Formaat::Json, Bytes::from(vec![0; 10]));
        c.put("e", Formaat::Json, Bytes::from(vec![0; 10]));
        assert!(c.get("a", Formaat::Json).is_none());
        assert!(c.get("e", Formaat::Json).is_some());
        assert!(c.get("e", Formaat::Xml).is_none());
        assert!(Cache::new(0).get("e", Formaat::Json).is_none());
    }
}
