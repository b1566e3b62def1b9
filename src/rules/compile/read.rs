//! Reading rule files: each text parsed once when it reads cleanly (start-up parses ≈ 420 KB of
//! shipped YAML, most of the daemon's start-up CPU), and the files of a large load parsed on two
//! threads. Building the packs from what was read stays on the calling thread: the pattern
//! interning of a load (`lazy::interning`) is per thread.

use super::*;

/// A rule file as read: a broker's pack or the generic rules.
pub(super) enum RawFile {
    Pack(Box<RawPack>),
    Generic(Box<RawGeneric>),
}

/// One file's reading: what could be read, and the problems found on the way.
pub(super) type Read = (Option<RawFile>, Vec<crate::yaml::Problem>);

/// Below this many bytes a second thread costs more than it saves (a user's own rules, tests).
const PARALLEL_FROM: usize = 64 * 1024;

/// Reads every file, in order; a large load on two threads.
pub(super) fn read_all(files: &[(String, String)]) -> Vec<Read> {
    let total: usize = files.iter().map(|(_, t)| t.len()).sum();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if total < PARALLEL_FROM || cores < 2 || files.len() < 2 {
        return files.iter().map(|(l, t)| read_one(l, t)).collect();
    }
    // Two halves of about the same size: the work is proportional to the bytes.
    let mut acc = 0;
    let split = files
        .iter()
        .position(|(_, t)| {
            acc += t.len();
            acc * 2 >= total
        })
        .map_or(files.len(), |i| i + 1)
        .min(files.len() - 1);
    let (first, second) = files.split_at(split);
    let read = |part: &[(String, String)]| -> Vec<Read> {
        part.iter().map(|(l, t)| read_one(l, t)).collect()
    };
    std::thread::scope(|s| {
        let other = s.spawn(|| read(second));
        let mut out = read(first);
        match other.join() {
            Ok(rest) => out.extend(rest),
            // A panic in the parser is a bug; re-raise it here as it would have been raised
            // had the files been read on this thread.
            Err(p) => std::panic::resume_unwind(p),
        }
        out
    })
}

/// Reads one file as whichever kind it is.
///
/// A file that reads cleanly is parsed once: as a pack first (a generic file fails that at its
/// first key, `generic` being unknown to a pack), then as the generic rules (whose `generic`
/// key is required, so a file that reads as them is one). Only a file with mistakes is told
/// apart by its `generic` key first and then read piece by piece for every problem.
pub(super) fn read_one(label: &str, text: &str) -> Read {
    if let Ok(p) = serde_saphyr::from_str::<RawPack>(text) {
        return (Some(RawFile::Pack(Box::new(p))), Vec::new());
    }
    if let Ok(g) = serde_saphyr::from_str::<RawGeneric>(text) {
        return (Some(RawFile::Generic(Box::new(g))), Vec::new());
    }
    let mut c = Collector::new(label);
    let raw = if is_generic(text) {
        c.read::<RawGeneric>(text)
            .map(|g| RawFile::Generic(Box::new(g)))
    } else {
        c.read::<RawPack>(text).map(|p| RawFile::Pack(Box::new(p)))
    };
    (raw, c.problems)
}

/// A file with a `generic` key at the top is broker-neutral knowledge, not a broker's pack.
pub(super) fn is_generic(text: &str) -> bool {
    #[derive(serde::Deserialize)]
    struct Probe {
        generic: Option<serde::de::IgnoredAny>,
    }
    serde_saphyr::from_str::<Probe>(text).is_ok_and(|p| p.generic.is_some())
}
