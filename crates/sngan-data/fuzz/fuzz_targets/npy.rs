//! `.npy` parser (sngan-core's, through the image reader data sets use) on arbitrary bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(image) = sngan_data::Image::from_npy(data, "fuzz") {
        assert_eq!(image.shape().iter().product::<usize>(), image.pixels.len());
    }
});
