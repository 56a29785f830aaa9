//! MNIST IDX parser on arbitrary bytes: an error or a consistent result, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for ndim in [1, 3] {
        if let Ok((dims, payload)) = sngan_data::parse_idx(data, ndim, "fuzz") {
            assert_eq!(dims.len(), ndim);
            assert_eq!(dims.iter().product::<usize>(), payload.len());
        }
    }
});
