//! JPEG/PNG/BMP/PNM decoding with the EOI check, then the crop presets on what decodes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sngan_data::{CelebaCrop, Pipeline, decode_rgb};

fuzz_target!(|data: &[u8]| {
    if let Ok(img) = decode_rgb(data, "fuzz") {
        assert_eq!(img.pixels.len(), img.height * img.width * 3);
        if img.height * img.width <= 1 << 20 {
            for p in [
                Pipeline::bssn_imagenet(16),
                Pipeline::biggan_imagenet(16),
                CelebaCrop::Dcgan108.pipeline(16),
            ] {
                if let Ok(out) = p.apply(img.clone(), "fuzz") {
                    assert_eq!(out.shape(), [16, 16, 3]);
                }
            }
        }
    }
});
