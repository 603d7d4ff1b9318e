//! Locking shared state of live runs and serve mode: a poisoned mutex means
//! a task panicked already; what it guards (recorded events, broker state)
//! is still usable, so the run goes on instead of losing it.

use std::sync::{Mutex, MutexGuard};

/// Lock `m`, taking the guard of a poisoned mutex too.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}
