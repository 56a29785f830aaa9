//! `.npy` u8 parser on arbitrary bytes, free shape and fixed shape.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok((shape, pixels)) = sngan_data::parse_npy_u8(data, None, "fuzz") {
        assert_eq!(shape.iter().product::<usize>(), pixels.len());
    }
    let _ = sngan_data::parse_npy_u8(data, Some([4, 4, 3]), "fuzz");
});
