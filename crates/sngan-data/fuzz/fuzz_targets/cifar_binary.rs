//! CIFAR binary records on arbitrary bytes, both variants, with and without a count.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sngan_data::{Cifar100Label, CifarVariant, parse_cifar_binary};

fuzz_target!(|data: &[u8]| {
    for variant in [CifarVariant::Cifar10, CifarVariant::Cifar100] {
        for label in [Cifar100Label::Fine, Cifar100Label::Coarse] {
            for expected in [None, Some(1), Some(3)] {
                if let Ok(imgs) = parse_cifar_binary(data, variant, label, expected, "fuzz") {
                    assert_eq!(imgs.pixels.len(), imgs.len() * 3072);
                    assert_eq!(imgs.len() * variant.record_bytes(), data.len());
                }
            }
        }
    }
});
