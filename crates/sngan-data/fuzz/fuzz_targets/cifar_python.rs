//! CIFAR python batches (pickles) on arbitrary bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sngan_data::{Cifar100Label, CifarVariant, parse_cifar_python};

fuzz_target!(|data: &[u8]| {
    for variant in [CifarVariant::Cifar10, CifarVariant::Cifar100] {
        if let Ok(imgs) = parse_cifar_python(data, variant, Cifar100Label::Fine, None, "fuzz") {
            assert_eq!(imgs.pixels.len(), imgs.len() * 3072);
        }
    }
});
