//! Every seeded experiment as a typed preset (its `configs/<stem>.json` is written from here by
//! `cargo xtask configs`), with the source of each hyper-parameter named beside it.

use sngan_models::std_cnn::{StdCnnDiscriminatorConfig, StdCnnGeneratorConfig};
use sngan_models::{DiscriminatorConfig, GeneratorConfig};

use crate::config::{AdamSettings, DataConfig, Dataset, TrainConfig};
use crate::loss::Loss;

/// The quick-start: a narrow conditional SNGAN standard CNN (base width 8 instead of the paper's
/// 64; class-conditional BN in G, projection in D) on the 10,000-image MNIST test split resized to
/// 32x32, hinge loss, one D step per G step, sized to finish in a few minutes on a laptop CPU.
pub fn mnist_quickstart() -> TrainConfig {
    let generator = StdCnnGeneratorConfig::new(4)
        .with_width(8)
        .with_n_classes(Some(10))
        .with_image_channels(1);
    let discriminator = StdCnnDiscriminatorConfig::new(32)
        .with_width(8)
        .with_n_classes(Some(10))
        .with_image_channels(1);
    let adam = AdamSettings::new(2e-4, 0.5, 0.999); // chainer-gan-lib's n_dis = 1 setting
    TrainConfig::new(
        "mnist_quickstart".into(),
        GeneratorConfig::StdCnn(generator),
        DiscriminatorConfig::StdCnn(discriminator),
        DataConfig::new(Dataset::Mnist)
            .with_split(Some("test".into()))
            .with_size(Some(32)),
        adam.clone(),
        adam,
        1500,
    )
    .with_loss(Loss::Hinge)
    .with_n_dis(1)
    .with_batch_size(64)
    .with_g_batch_size(64)
    .with_log_every(100)
    .with_sample_every(500)
    .with_checkpoint_every(500)
}
