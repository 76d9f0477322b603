//! Process-wide schema slots behind `sprotoloader`: one service compiles a schema once
//! (`register` / `save`), every other Lua state in the process `load`s the same `Arc`'d
//! schema instead of parsing it again. cloudwu keeps raw pointers in a static array; here
//! the slots are a mutex-guarded array of `Arc`s, so replacing a slot is safe.

use super::error::SlotError;
use super::schema::Sproto;
use std::sync::{Arc, Mutex, MutexGuard};

/// Number of slots, as in cloudwu's `MAX_GLOBALSPROTO`.
pub const SLOTS: usize = 16;

static STORE: Mutex<[Option<Arc<Sproto>>; SLOTS]> = Mutex::new([const { None }; SLOTS]);

fn store() -> MutexGuard<'static, [Option<Arc<Sproto>>; SLOTS]> {
    // A panic while holding the lock cannot leave a half-written slot: writes are one store.
    STORE.lock().unwrap_or_else(|e| e.into_inner())
}

fn slot(index: i64) -> Result<usize, SlotError> {
    usize::try_from(index)
        .ok()
        .filter(|&i| i < SLOTS)
        .ok_or(SlotError(index))
}

/// Publish `sp` in slot `index`, replacing what was there.
pub fn save(index: i64, sp: Arc<Sproto>) -> Result<(), SlotError> {
    let i = slot(index)?;
    store()[i] = Some(sp);
    Ok(())
}

/// The schema in slot `index`, if one was saved.
pub fn load(index: i64) -> Result<Option<Arc<Sproto>>, SlotError> {
    let i = slot(index)?;
    Ok(store()[i].clone())
}

/// Compile a schema file and publish it in slot `index`.
pub fn register_file(path: &std::path::Path, index: i64) -> anyhow::Result<Arc<Sproto>> {
    use anyhow::Context;
    slot(index)?;
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("can't open sproto file {}", path.display()))?;
    let sp = Arc::new(Sproto::parse(&text).with_context(|| format!("{}", path.display()))?);
    save(index, sp.clone())?;
    Ok(sp)
}
