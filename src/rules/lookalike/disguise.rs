//! How a look-alike copies the genuine domain, as facts. Worded in both languages where the
//! reasons are (`assess/reason/render`), so a Japanese alert can say it as well as an English one.

/// The kind of imitation, strongest first. `name` is the genuine domain's distinctive label as
/// written (`sbisec`, `rakuten-sec`); a domain that could become a link is defanged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Disguise {
    /// The whole genuine domain used as a subdomain of `parent` (`sbisec.co.jp.evil.example`).
    GenuineAsSubdomain { parent: String },
    /// The genuine domain with its dots turned into hyphens (`sbisec-co-jp.com`).
    DotsToHyphens,
    /// The genuine domain with its dots left out (`sbiseccojp.net`).
    DotsRemoved,
    /// Characters that look like the genuine ones (`m0nex`); `unicode` when they are letters of
    /// another script (`ѕсhwаb`).
    Letters { unicode: bool, swap: Swap },
    /// The genuine name with its hyphens moved, added or left out (`sbi-sec`, `rakutensec`).
    HyphensMoved { name: String },
    /// The genuine name with words added (`sbisec-login`); never empty in practice.
    WordsAdded { name: String, words: Vec<String> },
    /// The genuine name split into `a` and `b`, the two swapped (`sec-sbi`).
    Swapped { name: String, a: String, b: String },
    /// The same name under another public suffix (`sbisec.com` for `sbisec.co.jp`).
    OtherSuffix { suffix: String, genuine: String },
    /// The genuine name in a subdomain of `parent` (`sbisec.evil.example`).
    NameInSubdomain { name: String, parent: String },
    /// The genuine name misspelt by `letters` letters, perhaps with words added (`schwbab`).
    Misspelt {
        name: String,
        letters: usize,
        added: Vec<String>,
    },
}

/// Which characters stand in for the genuine ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Swap {
    /// (look-alike, genuine) at each place they differ, when both are as long.
    Pairs(Vec<(char, char)>),
    /// The whole name, when they are not (`rnonex` reads as `monex`).
    Whole { raw: String, genuine: String },
}

impl Swap {
    /// The characters of `raw` that differ from `genuine`'s.
    pub(super) fn of(raw: &str, genuine: &str) -> Swap {
        let (a, b): (Vec<char>, Vec<char>) = (raw.chars().collect(), genuine.chars().collect());
        if a.len() != b.len() {
            return Swap::Whole {
                raw: raw.to_string(),
                genuine: genuine.to_string(),
            };
        }
        Swap::Pairs(a.into_iter().zip(b).filter(|(x, y)| x != y).collect())
    }
}
