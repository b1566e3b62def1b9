//! A domain as the look-alike checks read it: its labels decoded from `xn--`, each label's
//! skeleton (what a hurried reader sees, in ASCII) and where its public suffix starts.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use crate::domain::{decode_label, plain_host, suffix_labels};
use crate::text::defang_url;

/// A domain read once.
#[derive(Debug, Clone)]
pub(super) struct Host {
    /// See `plain_host`: what `Pack::owns_domain` is asked about.
    pub(super) plain: String,
    /// Labels with `xn--` decoded.
    pub(super) labels: Vec<String>,
    /// The ASCII skeleton of each label (see `Fold::skeleton`).
    pub(super) skel: Vec<String>,
    /// Each skeleton without hyphens.
    pub(super) compact: Vec<String>,
    /// How many trailing labels make the public suffix.
    pub(super) suffix: usize,
}

impl Host {
    pub(super) fn parse(fold: &Fold, domain: &str) -> Option<Host> {
        let plain = plain_host(domain);
        if plain.is_empty() {
            return None;
        }
        let labels: Vec<String> = plain.split('.').map(decode_label).collect();
        let skel: Vec<String> = labels.iter().map(|l| fold.skeleton(l)).collect();
        let compact = skel.iter().map(|s| compact(s)).collect();
        let suffix = suffix_labels(&plain).min(labels.len());
        Some(Host {
            plain,
            labels,
            skel,
            compact,
            suffix,
        })
    }

    /// Index of the label left of the public suffix.
    pub(super) fn name_index(&self) -> Option<usize> {
        self.labels.len().checked_sub(self.suffix + 1)
    }

    /// The label left of the public suffix, as written and as skeleton.
    pub(super) fn name(&self) -> Option<(&str, &str)> {
        let i = self.name_index()?;
        Some((&self.labels[i], &self.skel[i]))
    }

    pub(super) fn suffix(&self) -> String {
        self.labels[self.labels.len() - self.suffix..].join(".")
    }

    /// The Unicode reading of `xn--` labels, defanged, when it differs from the host.
    pub(super) fn unicode(&self) -> Option<String> {
        let unicode = self.labels.join(".");
        (unicode != self.plain).then(|| defang_url(&unicode))
    }
}

pub(super) fn compact(skel: &str) -> String {
    skel.replace('-', "")
}

/// How labels are folded for comparison; the rules may add confusables (`Words::confusables`).
#[derive(Debug, Clone, Default)]
pub(super) struct Fold {
    pub(super) extra: Vec<(char, char)>,
}

impl Fold {
    /// What a label looks like to a hurried reader, in ASCII: full-width letters folded (NFKC),
    /// accents dropped, letters of other scripts mapped to the Latin ones they are confusable with
    /// (UTS #39), and the digit and letter confusions `0`→o, `1`/`i`→l, `5`→s, `3`→e, `rn`→m,
    /// `vv`→w folded together.
    pub(super) fn skeleton(&self, label: &str) -> String {
        let mut folded = String::with_capacity(label.len());
        let lower = label
            .nfkc()
            .flat_map(char::to_lowercase)
            .collect::<String>();
        for c in lower.nfd().filter(|c| !is_combining_mark(*c)) {
            self.latin(c, &mut folded);
        }
        folded
            .replace("rn", "m")
            .replace("vv", "w")
            .chars()
            .map(|c| match c {
                '0' => 'o',
                '1' | 'i' => 'l',
                '5' => 's',
                '3' => 'e',
                c => c,
            })
            .collect()
    }

    /// Pushes the Latin letters a non-Latin letter is mistaken for, or the letter itself.
    fn latin(&self, c: char, out: &mut String) {
        if c.is_ascii() {
            out.push(c);
            return;
        }
        if let Some((_, l)) = self.extra.iter().find(|(x, _)| *x == c) {
            out.push(*l);
            return;
        }
        let mut buf = [0u8; 4];
        let proto: String = unicode_security::skeleton(c.encode_utf8(&mut buf))
            .filter(|p| !is_combining_mark(*p))
            .flat_map(char::to_lowercase)
            .collect();
        if !proto.is_empty() && proto.chars().all(|p| p.is_ascii_alphanumeric()) {
            out.push_str(&proto);
        } else {
            out.push(c);
        }
    }
}
