//! Whole readers on an arbitrary file: CIFAR and STL-10 from a (gzipped) tar, the ImageNet
//! tar of tars (index, then a few loads), CelebA from a zip. The bytes go to a file in the
//! system temp dir because these readers take paths.
#![no_main]

use std::path::PathBuf;

use libfuzzer_sys::fuzz_target;
use sngan_data::{
    CelebA, CelebaCrop, CelebaSplit, CifarOptions, CifarSplit, CifarVariant, ImageSource, Pipeline,
    Stl10Options, Stl10Split, TarOfTars, load_cifar, load_stl10,
};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sngan-data-fuzz-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    dir.join(name)
}

fuzz_target!(|data: &[u8]| {
    let lax = CifarOptions {
        check_counts: false,
        ..CifarOptions::default()
    };
    let tgz = scratch("cifar-10-binary.tar.gz");
    if std::fs::write(&tgz, data).is_ok() {
        let _ = load_cifar(&tgz, CifarVariant::Cifar10, CifarSplit::Test, lax);
        let stl = Stl10Options {
            resize: None,
            check_counts: false,
        };
        let _ = load_stl10(&tgz, Stl10Split::Train, stl);
        if let Ok(t) = TarOfTars::open(&tgz, Pipeline::bssn_imagenet(8)) {
            for i in 0..t.len().min(3) {
                let _ = t.load(i);
            }
        }
    }
    let zip = scratch("img_align_celeba.zip");
    if std::fs::write(&zip, data).is_ok()
        && let Ok(c) = CelebA::open(&zip, CelebaSplit::All, CelebaCrop::Bssn128, 8)
    {
        for i in 0..c.len().min(3) {
            let _ = c.load(i);
        }
    }
});
