//! Integration tests of the sngan workspace: one binary, one module per area, fixtures beside.

mod configs;
mod convert;
mod models;
mod scores;
mod spectral;
mod train;

use sngan::burn::prelude::*;

/// Largest absolute difference over the largest reference magnitude must stay within `tol`
/// (so "1e-5 relative" is judged against the tensor's scale, not element by element near 0).
#[track_caller]
pub fn assert_close(what: &str, actual: &[f32], expected: &[f32], tol: f32) {
    assert_eq!(actual.len(), expected.len(), "{what}: length");
    let scale = expected
        .iter()
        .fold(0f32, |m, x| m.max(x.abs()))
        .max(f32::MIN_POSITIVE);
    let diff = actual
        .iter()
        .zip(expected)
        .fold(0f32, |m, (a, b)| m.max((a - b).abs()));
    assert!(
        diff <= tol * scale,
        "{what}: max |diff| {diff:e} > {tol:e} x scale {scale:e}\n actual   {:?}\n expected {:?}",
        &actual[..actual.len().min(8)],
        &expected[..expected.len().min(8)]
    );
}

/// A tensor's values as a flat `Vec<f32>`.
pub fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data()
        .convert::<f32>()
        .try_to_vec::<f32>()
        .expect("tensor data should be f32")
}
