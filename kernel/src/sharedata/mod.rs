//! sharedata: read-only config tables built once and shared by every service in the node.
//! Each table is an immutable tree behind an `Arc`; an update installs a new tree and flags the
//! old one stale, so readers holding the old one re-resolve on their next access.

pub mod lua;
pub mod stm;

use parking_lot::RwLock;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Key {
    Int(i64),
    Str(Arc<[u8]>),
    Bool(bool),
}

#[derive(Clone, Debug)]
pub enum Val {
    Bool(bool),
    Int(i64),
    Num(f64),
    Str(Arc<[u8]>),
    Table(Arc<Table>),
}

/// Entries keep insertion order so `pairs` can resume from a key.
#[derive(Debug, Default)]
pub struct Table {
    pub entries: Vec<(Key, Val)>,
    pub index: HashMap<Key, usize>,
    /// Length of the 1..n integer-key prefix (`#t`).
    pub len: usize,
}

impl Table {
    pub fn from_entries(mut entries: Vec<(Key, Val)>) -> Table {
        // Array part first, in order, so `#` and ipairs behave like a Lua sequence.
        entries.sort_by_key(|(k, _)| match k {
            Key::Int(i) if *i >= 1 => (0, *i),
            _ => (1, 0),
        });
        let index = entries
            .iter()
            .enumerate()
            .map(|(i, (k, _))| (k.clone(), i))
            .collect::<HashMap<_, _>>();
        let mut len = 0;
        while index.contains_key(&Key::Int(len as i64 + 1)) {
            len += 1;
        }
        Table {
            entries,
            index,
            len,
        }
    }

    pub fn get(&self, k: &Key) -> Option<&Val> {
        self.index.get(k).map(|i| &self.entries[*i].1)
    }
}

/// One published version of a named table.
#[derive(Debug)]
pub struct Entry {
    pub root: Arc<Table>,
    stale: AtomicBool,
}

impl Entry {
    pub fn is_stale(&self) -> bool {
        self.stale.load(Ordering::Acquire)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ShareError {
    #[error("sharedata {0} already exists")]
    Exists(String),
    #[error("sharedata {0} not found")]
    NotFound(String),
}

#[derive(Default)]
pub struct Store {
    tables: RwLock<HashMap<String, Arc<Entry>>>,
}

pub fn store() -> &'static Store {
    static S: OnceLock<Store> = OnceLock::new();
    S.get_or_init(Store::default)
}

impl Store {
    pub fn new_table(&self, name: &str, root: Table) -> Result<(), ShareError> {
        let mut t = self.tables.write();
        if t.contains_key(name) {
            return Err(ShareError::Exists(name.into()));
        }
        t.insert(
            name.into(),
            Arc::new(Entry {
                root: Arc::new(root),
                stale: AtomicBool::new(false),
            }),
        );
        Ok(())
    }

    pub fn update(&self, name: &str, root: Table) -> Result<(), ShareError> {
        let mut t = self.tables.write();
        let old = t
            .get(name)
            .ok_or_else(|| ShareError::NotFound(name.into()))?
            .clone();
        t.insert(
            name.into(),
            Arc::new(Entry {
                root: Arc::new(root),
                stale: AtomicBool::new(false),
            }),
        );
        old.stale.store(true, Ordering::Release);
        Ok(())
    }

    pub fn delete(&self, name: &str) -> Result<(), ShareError> {
        let old = self
            .tables
            .write()
            .remove(name)
            .ok_or_else(|| ShareError::NotFound(name.into()))?;
        old.stale.store(true, Ordering::Release);
        Ok(())
    }

    pub fn get(&self, name: &str) -> Option<Arc<Entry>> {
        self.tables.read().get(name).cloned()
    }
}
