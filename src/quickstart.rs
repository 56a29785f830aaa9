//! The quick-start's data, embedded in every binary: the MNIST test split (LeCun et al., 1998;
//! 10,000 digits, gzip IDX, `assets/mnist`), which the quick-start trains on and the MNIST
//! yardstick takes its reference statistics from, so neither depends on the machine the binary
//! was built on.

use std::sync::{Arc, OnceLock};

use anyhow::Result;

use crate::data::{ImageSource, Images, parse_mnist};
use crate::train::TrainConfig;

const IMAGES: &[u8] = include_bytes!("../assets/mnist/t10k-images-idx3-ubyte.gz");
const LABELS: &[u8] = include_bytes!("../assets/mnist/t10k-labels-idx1-ubyte.gz");

/// The embedded MNIST test split (28x28x1, labels 0..10), decoded once per process.
pub fn embedded_mnist() -> Result<&'static Images> {
    static CELL: OnceLock<Images> = OnceLock::new();
    if let Some(images) = CELL.get() {
        return Ok(images);
    }
    let images = parse_mnist(IMAGES, LABELS, "embedded MNIST test split")?;
    Ok(CELL.get_or_init(|| images))
}

/// The embedded split prepared as `config.data` asks (the quick-start resizes it to 32x32).
pub fn embedded_source(config: &TrainConfig) -> Result<Arc<dyn ImageSource>> {
    Ok(config.data.in_memory(embedded_mnist()?.clone()))
}
