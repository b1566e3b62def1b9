//! Parse + classify throughput (issue #7 part 3): `pipeline::judge`, exactly as `brokerwatch test`
//! runs it, over a mixed corpus: the golden fixtures (broker notices in ISO-2022-JP, Shift_JIS,
//! EUC-JP, QP, base64; phishing copies; forwarded notices) and ordinary mail from
//! `bench/scan/gen_corpus.py` (newsletters, receipts, attachments; English and Japanese).
//!
//! `cargo bench --bench parse`; `bench/parse.sh` also runs the Python baseline on the same files.
//! The generated part lives in `bench/.corpus/parse` (deterministic, not in git) and is written on
//! first use.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::Command;

use brokerwatch::assess::Context;
use brokerwatch::pipeline::judge;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
/// Ordinary mails in the generated part (plus one copy of each fixture from the generator).
const GENERATED: &str = "1000";
/// A fixed clock: expectations and ages never depend on when the bench runs.
const NOW: i64 = 1_795_000_000;

fn eml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "eml"));
    files.sort();
    files
}

/// The corpus directories, generating the ordinary mail first if it is not there yet.
fn corpus_dirs() -> [PathBuf; 2] {
    let root = Path::new(ROOT);
    let generated = root.join("bench/.corpus/parse");
    if eml_files(&generated).is_empty() {
        let status = Command::new("python3")
            .arg(root.join("bench/scan/gen_corpus.py"))
            .args(["--copies", "0", "--count", GENERATED, "--plain"])
            .arg(&generated)
            .status()
            .expect("run python3 bench/scan/gen_corpus.py");
        assert!(status.success(), "gen_corpus.py failed");
    }
    [root.join("tests/fixtures/mail"), generated]
}

/// The large-attachment set (`bench/parse.sh` writes it): the corpus plus a mail carrying a 2.8 MB
/// base64 attachment, the shape that issue #17 measured at 6.5x Python against 8.7x without it.
fn large_dir() -> PathBuf {
    Path::new(ROOT).join("bench/.corpus/parse-large")
}

fn parse_classify(c: &mut Criterion) {
    let config = Path::new(ROOT).join("tests/fixtures/config.yaml");
    let (cfg, rules) = match brokerwatch::config::load_checked(Some(&config)) {
        Ok(loaded) => loaded,
        Err(problems) => panic!("{}: {problems:?}", config.display()),
    };
    let mails: Vec<Vec<u8>> = corpus_dirs()
        .iter()
        .flat_map(|d| eml_files(d))
        .map(|f| std::fs::read(&f).unwrap_or_else(|e| panic!("{}: {e}", f.display())))
        .collect();
    let bytes: u64 = mails.iter().map(|m| m.len() as u64).sum();
    eprintln!("corpus: {} mails, {bytes} bytes", mails.len());
    let ctx = Context {
        config: &cfg,
        expectations: &[],
        now: NOW,
    };
    let run = || {
        for m in &mails {
            black_box(judge(black_box(m), true, &rules, &ctx));
        }
    };
    let mut g = c.benchmark_group("parse_classify");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(bytes));
    g.bench_function("bytes", |b| b.iter(run));
    g.throughput(Throughput::Elements(mails.len() as u64));
    g.bench_function("mails", |b| b.iter(run));
    let large: Vec<Vec<u8>> = eml_files(&large_dir())
        .iter()
        .map(|f| std::fs::read(f).unwrap_or_else(|e| panic!("{}: {e}", f.display())))
        .collect();
    if !large.is_empty() {
        let with_large = || {
            run();
            for m in &large {
                black_box(judge(black_box(m), true, &rules, &ctx));
            }
        };
        g.throughput(Throughput::Elements((mails.len() + large.len()) as u64));
        g.bench_function("mails_with_large", |b| b.iter(with_large));
    }
    g.finish();
}

criterion_group!(benches, parse_classify);
criterion_main!(benches);
