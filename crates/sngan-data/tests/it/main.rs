//! Integration tests of sngan-data: every reader on format-exact synthetic files built here,
//! the real MNIST in `../shared/data/mnist`, resize parity with Pillow/OpenCV fixtures, Burn
//! integration, downloads against a server on 127.0.0.1, and the inspector.

mod batch;
mod celeba;
mod cifar;
mod fetch;
mod fixtures;
mod imagenet;
mod inspect;
mod mnist;
mod resize;
mod stl10;
