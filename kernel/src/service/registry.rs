//! Handle table and local names. Handles grow monotonically (wrapping past 2^24) so a stale
//! address rarely lands on a new service.

use super::message::Handle;
use super::slot::Slot;
use parking_lot::RwLock;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

/// Handles are already well distributed integers: hashing them again is wasted work.
#[derive(Default)]
pub struct IdHasher(u64);
impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 << 8) | *b as u64;
        }
    }
    fn write_u32(&mut self, i: u32) {
        self.0 = i as u64;
    }
}
type IdMap<V> = HashMap<Handle, V, BuildHasherDefault<IdHasher>>;

const INDEX_MASK: u32 = 0x00ff_ffff;

pub struct Registry {
    harbor: u32,
    next: AtomicU32,
    slots: RwLock<IdMap<Arc<Slot>>>,
    names: RwLock<HashMap<String, Handle>>,
}

#[derive(Debug, thiserror::Error)]
pub enum NameError {
    #[error("name {0} is already registered")]
    Taken(String),
    #[error("no service {0}")]
    NoService(String),
}

impl Registry {
    pub fn new(harbor: u8) -> Self {
        Registry {
            harbor: (harbor as u32) << 24,
            next: AtomicU32::new(1),
            slots: RwLock::new(IdMap::default()),
            names: RwLock::new(HashMap::new()),
        }
    }

    /// Reserve a fresh handle and insert the slot built for it.
    pub fn insert_with(&self, build: impl FnOnce(Handle) -> Arc<Slot>) -> Arc<Slot> {
        let mut slots = self.slots.write();
        let handle = loop {
            let idx = self.next.fetch_add(1, Ordering::Relaxed) & INDEX_MASK;
            let h = self.harbor | idx;
            if idx != 0 && !slots.contains_key(&h) {
                break h;
            }
        };
        let slot = build(handle);
        slots.insert(handle, slot.clone());
        slot
    }

    pub fn get(&self, h: Handle) -> Option<Arc<Slot>> {
        self.slots.read().get(&h).cloned()
    }

    /// Remove a handle and every name bound to it.
    pub fn remove(&self, h: Handle) -> Option<Arc<Slot>> {
        let slot = self.slots.write().remove(&h);
        if slot.is_some() {
            self.names.write().retain(|_, v| *v != h);
        }
        slot
    }

    pub fn bind_name(&self, name: &str, h: Handle) -> Result<(), NameError> {
        if self.get(h).is_none() {
            return Err(NameError::NoService(super::message::fmt_handle(h)));
        }
        let mut names = self.names.write();
        if names.contains_key(name) {
            return Err(NameError::Taken(name.to_string()));
        }
        names.insert(name.to_string(), h);
        Ok(())
    }

    pub fn find_name(&self, name: &str) -> Option<Handle> {
        self.names.read().get(name).copied()
    }

    pub fn names_of(&self, h: Handle) -> Vec<String> {
        let mut v: Vec<String> = self
            .names
            .read()
            .iter()
            .filter(|(_, x)| **x == h)
            .map(|(k, _)| k.clone())
            .collect();
        v.sort();
        v
    }

    pub fn all(&self) -> Vec<Arc<Slot>> {
        let mut v: Vec<Arc<Slot>> = self.slots.read().values().cloned().collect();
        v.sort_by_key(|s| s.handle);
        v
    }

    pub fn len(&self) -> usize {
        self.slots.read().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn harbor_of(&self, h: Handle) -> u8 {
        (h >> 24) as u8
    }

    pub fn is_local(&self, h: Handle) -> bool {
        h & !INDEX_MASK == self.harbor
    }
}
