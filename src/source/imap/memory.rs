//! Giving memory back after a huge message.
//!
//! A 50 MB mail passes through the IMAP reader's buffer, the FETCH literal, the handler's copy and
//! the MIME parser's decoded parts; all of it is freed once the message is recorded, but glibc's
//! allocator keeps freed heap (and raises its mmap threshold after the first large free, so the
//! next large buffers come from the heap too): the daemon stayed at 119 MB instead of its idle
//! ≈ 30 MB. `malloc_trim` returns the free pages of every arena to the system.

/// Messages at least this large are followed by a trim (a trim costs a walk of the heap, ~1 ms).
pub(crate) const LARGE: usize = 4 << 20;

/// After a batch whose largest message had `largest` bytes: return freed memory to the system.
pub(crate) fn after_batch(largest: usize) {
    if largest >= LARGE {
        trim();
    }
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn trim() {
    // SAFETY: malloc_trim only walks and shrinks the allocator's own free lists; it has no
    // preconditions and is thread-safe (it takes each arena's lock).
    let released = unsafe { libc::malloc_trim(0) };
    tracing::debug!(released, "returned freed memory after a large message");
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn trim() {}
