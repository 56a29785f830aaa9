//! Formula parity: FID against pytorch-fid/scipy `sqrtm`, IS against torch-fidelity, KID against
//! torch-fidelity's `kernel_mmd`, P/R against torch-fidelity, P/R/D/C against clovaai `prdc`
//! (fixtures/formulas/export.py).

use sngan_metrics::{
    FidReference, KidConfig, Statistics, StatsAccumulator, fid, fid_from_files, inception_score,
    kid_with_subsets, prdc, precision_recall,
};

use crate::common::{cases, f, fixture, hash_features, hash_logits, rel, temp_dir};

fn stats_of(tag: &str, n: usize, d: usize, offset: f64) -> Statistics {
    let x = hash_features(tag, n, d, offset);
    // Two batches, to exercise streaming accumulation.
    let mut acc = StatsAccumulator::new(d);
    let split = n / 3;
    acc.push(&x.data[..split * d], split).expect("batch fits");
    acc.push(&x.data[split * d..], n - split)
        .expect("batch fits");
    acc.finish().expect("n >= 2")
}

/// The headline check: 2048-d FID from two stats files equals scipy's `sqrtm` route
/// within 1e-6 relative (measured: far below; see the assertion message on failure).
#[test]
fn fid_2048_from_stats_files_matches_scipy_sqrtm() {
    let c = &cases("formulas")["fid2048"];
    let (n, d) = (2500, 2048);
    let a = stats_of("fid2048/a", n, d, f(&c["offset_a"]));
    let b = stats_of("fid2048/b", n, d, f(&c["offset_b"]));
    assert!(rel(a.trace(), f(&c["trace_a"])) < 1e-12);
    assert!(rel(b.trace(), f(&c["trace_b"])) < 1e-12);
    assert!(rel(a.mu.iter().sum(), f(&c["mu_a_sum"])) < 1e-10);
    assert!(rel(a.sigma[0], f(&c["sigma_a_00"])) < 1e-12);
    assert!(rel(a.sigma[1], f(&c["sigma_a_01"])) < 1e-9);

    let dir = temp_dir("fid2048");
    let (pa, pb) = (dir.join("a.npz"), dir.join("b.npz"));
    a.write(&pa).expect("stats write");
    b.write(&pb).expect("stats write");
    let ours = fid_from_files(&pa, &pb).expect("fid");
    let scipy = f(&c["fid_scipy_sqrtm"]);
    let err = rel(ours, scipy);
    eprintln!("fid2048: ours {ours:.12} scipy {scipy:.12} rel {err:.2e}");
    assert!(err < 1e-6, "FID {ours} vs scipy {scipy}: rel {err:e}");
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn fid_from_pytorch_fid_npz_matches_scipy() {
    let c = &cases("formulas")["fid64"];
    let a = Statistics::read(&fixture("formulas", "stats_a.npz")).expect("read a");
    let b = Statistics::read(&fixture("formulas", "stats_b.npz")).expect("read b");
    let r = Statistics::read(&fixture("formulas", "stats_rankdef.npz")).expect("read rankdef");
    assert_eq!((a.dim(), a.n, a.preprocessing), (64, None, None));
    let ab = fid(&a, &b).expect("fid");
    let ar = fid(&r, &a).expect("fid");
    eprintln!(
        "fid64: full rank rel {:.2e}, rank-deficient rel {:.2e}",
        rel(ab, f(&c["fid_a_b"])),
        rel(ar, f(&c["fid_a_rankdef"]))
    );
    assert!(rel(ab, f(&c["fid_a_b"])) < 1e-9, "{ab} vs {}", c["fid_a_b"]);
    // Rank-deficient (N = 50 < 64): routes agree only to about 1e-5 (research/metrics.md 5).
    let ar = fid(&r, &a).expect("fid");
    assert!(
        rel(ar, f(&c["fid_a_rankdef"])) < 1e-5,
        "{ar} vs {}",
        c["fid_a_rankdef"]
    );
    // The cached reference factor gives the same value.
    let reference = FidReference::new(a.clone()).expect("factor");
    assert!(rel(reference.fid(&b).expect("fid"), ab) < 1e-12);
}

#[test]
fn statistics_match_np_cov() {
    let c = &cases("formulas")["fid64"];
    let s = &c["sets"]["a"];
    let ours = stats_of("fid64/a", 3000, 64, f(&s["offset"]));
    let file = Statistics::read(&fixture("formulas", "stats_a.npz")).expect("read");
    assert!(rel(ours.mu[0], f(&c["mu_a_0"])) < 1e-11);
    assert!(rel(ours.sigma[0], f(&c["sigma_a_00"])) < 1e-12);
    assert!(rel(ours.sigma[5], f(&c["sigma_a_05"])) < 1e-10);
    let max_diff = ours
        .sigma
        .iter()
        .zip(&file.sigma)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max);
    assert!(
        max_diff < 1e-14,
        "sigma differs from np.cov by {max_diff:e}"
    );
}

#[test]
fn inception_score_matches_torch_fidelity() {
    let all = cases("formulas");
    let c = &all["inception_score"];
    let logits = hash_logits("is/logits", 500, 1008);
    let is = inception_score(&logits, 10).expect("is");
    assert!(
        rel(is.mean, f(&c["mean"])) < 1e-10,
        "{} vs {}",
        is.mean,
        c["mean"]
    );
    assert!(
        rel(is.std, f(&c["std"])) < 1e-7,
        "{} vs {}",
        is.std,
        c["std"]
    );
    // 497 rows in 3 splits: boundaries i*N/S as in the original.
    let c = &all["inception_score_497_3"];
    let sub = logits.select(&(0..497).collect::<Vec<_>>()).expect("rows");
    let is = inception_score(&sub, 3).expect("is");
    assert!(rel(is.mean, f(&c["mean"])) < 1e-10);
    assert!(rel(is.std, f(&c["std"])) < 1e-7);
}

#[test]
fn kid_matches_torch_fidelity_on_explicit_subsets() {
    let c = &cases("formulas")["kid"];
    let real = hash_features("kid/real", 1200, 64, f(&c["real"]["offset"]));
    let fake = hash_features("kid/fake", 1200, 64, f(&c["fake"]["offset"]));
    let idx = |v: &serde_json::Value| -> Vec<usize> {
        v.as_array()
            .expect("index list")
            .iter()
            .map(|i| i.as_u64().expect("index") as usize)
            .collect()
    };
    let subsets: Vec<(Vec<usize>, Vec<usize>)> = c["subsets"]
        .as_array()
        .expect("subsets")
        .iter()
        .map(|s| (idx(&s["real"]), idx(&s["fake"])))
        .collect();
    let kid = kid_with_subsets(&real, &fake, &subsets, &KidConfig::default()).expect("kid");
    for (ours, s) in kid
        .per_subset
        .iter()
        .zip(c["subsets"].as_array().expect("subsets"))
    {
        assert!(rel(*ours, f(&s["mmd2"])) < 1e-10, "{ours} vs {}", s["mmd2"]);
    }
    assert!(rel(kid.mean, f(&c["mean"])) < 1e-10);
    assert!(rel(kid.std, f(&c["std"])) < 1e-8);
}

#[test]
fn precision_recall_and_prdc_match_reference_counts() {
    let c = &cases("formulas")["prdc"];
    let real = hash_features("pr/real", 500, 64, f(&c["real"]["offset"]));
    let fake = hash_features("pr/fake", 500, 64, f(&c["fake"]["offset"]));
    let count = |v: f64| (v * 500.0).round() as i64;
    let pr = precision_recall(&real, &fake, 3).expect("pr");
    assert_eq!(count(pr.precision), count(f(&c["pr_k3"]["precision"])));
    assert_eq!(count(pr.recall), count(f(&c["pr_k3"]["recall"])));
    let d = prdc(&real, &fake, 5).expect("prdc");
    let r = &c["prdc_k5"];
    assert_eq!(count(d.precision), count(f(&r["precision"])));
    assert_eq!(count(d.recall), count(f(&r["recall"])));
    assert_eq!(count(d.coverage), count(f(&r["coverage"])));
    // density = hits / (k n): compare hit counts.
    assert_eq!(
        (d.density * 2500.0).round() as i64,
        (f(&r["density"]) * 2500.0).round() as i64
    );
}
