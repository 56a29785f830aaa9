//! Integration tests of sngan-metrics: formula parity against numpy/scipy/torch-fidelity/prdc
//! fixtures, `.npz` I/O, the Inception port against pytorch-fid and torch-fidelity with
//! hash-initialised weights, the weights fetch, and the MNIST yardstick.

mod common;
mod eval;
mod formulas;
mod inception;
mod mnist;
mod npz;
