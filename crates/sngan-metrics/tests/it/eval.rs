//! `sngan stats` / `sngan eval` library paths end to end on the hash-init Inception (the real
//! weights cannot be downloaded here): references with features round-trip through `.npz`, and
//! the report's scores equal the metric functions called directly.

use burn::prelude::*;
use sngan_metrics::inception::hash_init;
use sngan_metrics::protocol::Protocol;
use sngan_metrics::{
    Images, InceptionExtractor, KidConfig, Metric, Preprocess, Reference, StatsBuilder, evaluate,
    fid, fid_from_files, inception_stats,
};

use crate::common::temp_dir;

fn images(seed: u64, n: usize) -> Images {
    let mut rng = sngan_core::SplitMix64::new(seed);
    let data = (0..n * 16 * 16 * 3)
        .map(|_| (rng.next_u64() >> 56) as u8)
        .collect();
    Images::from_nhwc(data, [n, 16, 16, 3]).expect("shape")
}

#[test]
fn stats_then_eval_with_every_inception_metric() {
    let device = Device::flex();
    let ex = InceptionExtractor::new(
        hash_init(&device).expect("weights"),
        Preprocess::TfExact,
        &device,
    )
    .with_batch_size(4);
    let (real, fake) = (images(1, 5), images(2, 4));

    let mut builder = StatsBuilder::new(&ex, true);
    builder.push(real.view().slice(0, 4)).expect("batch");
    builder.push(real.view().slice(4, 5)).expect("batch");
    let reference = builder.finish().expect("reference");
    assert_eq!(reference.stats.n, Some(5));
    assert_eq!(reference.stats.preprocessing, Some(Preprocess::TfExact));
    let dir = temp_dir("eval");
    let path = dir.join("ref.npz");
    reference.write(&path).expect("write");
    let back = Reference::read(&path).expect("read");
    assert_eq!(back, reference);

    let protocol = Protocol {
        kid: KidConfig {
            subsets: 3,
            subset_size: 4,
            ..KidConfig::default()
        },
        is_splits: 2,
        pr_k: 2,
        prdc_k: 2,
        ..Protocol::sngan_paper()
    };
    let metrics = Metric::parse_list("is,fid,kid,pr,prdc").expect("metrics");
    let report = evaluate(
        Some(&ex),
        fake.view(),
        Some(&back),
        &metrics,
        &protocol,
        None,
        None,
    )
    .expect("evaluate");
    let fake_stats = inception_stats(&ex, fake.view()).expect("stats");
    let direct = fid(&fake_stats, &reference.stats).expect("fid");
    assert!((report.fid.expect("fid") - direct).abs() <= 1e-9 * direct);
    assert!(report.is.expect("is").mean >= 1.0);
    assert!(report.kid.is_some() && report.pr.is_some() && report.prdc.is_some());
    let text = report.to_string();
    eprintln!("{text}");
    assert!(
        text.contains("FID ") && text.contains("protocol sngan-paper"),
        "{text}"
    );
    assert!(text.contains("note: FID on 4 samples"), "{text}");

    // `sngan eval --stats A.npz --ref B.npz`.
    let a = dir.join("fake.npz");
    fake_stats.write(&a).expect("write");
    let from_files = fid_from_files(&a, &path).expect("fid");
    assert!((from_files - direct).abs() <= 1e-9 * direct);
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn metric_lists_and_protocols_parse() {
    assert_eq!(
        Metric::parse_list("is, fid,KID,pr").expect("list"),
        [Metric::Is, Metric::Fid, Metric::Kid, Metric::Pr]
    );
    let e = Metric::parse_list("is,swd").expect_err("unknown");
    assert!(e.to_string().contains("swd"), "{e}");
    for name in ["sngan-paper", "mmgen", "studiogan"] {
        let p = Protocol::from_name(name).expect("preset");
        assert!(p.to_string().starts_with(&format!("protocol {name}:")));
    }
    let sngan = Protocol::sngan_paper();
    assert_eq!(
        (sngan.n_fake, sngan.n_real, sngan.is_splits),
        (5_000, Some(10_000), 10)
    );
    let sg = Protocol::studiogan();
    assert_eq!(
        (sg.n_fake, sg.n_real, sg.is_splits, sg.prdc_k),
        (50_000, None, 1, 5)
    );
    assert_eq!(Protocol::mmgen().is_splits, 10);
}
