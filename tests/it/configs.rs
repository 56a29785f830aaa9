//! configs/*.json: each equals its Rust preset, loads and re-saves byte-identically, and trains
//! two iterations at reduced width on synthetic images of its shape.

use std::sync::Arc;

use sngan::burn::prelude::*;
use sngan::data::{ImageSource, Images};
use sngan::models::resnet::{ResNetDiscriminatorConfig, ResNetGeneratorConfig};
use sngan::models::{DiscriminatorConfig, GeneratorConfig};
use sngan::train::{RunOptions, TrainConfig, experiments, train};

fn configs_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("configs")
}

fn to_json(config: &TrainConfig) -> String {
    serde_json::to_string_pretty(config).expect("configs serialise") + "\n"
}

#[test]
fn every_experiment_has_a_config_file_that_round_trips() {
    let presets = experiments::all();
    let files = std::fs::read_dir(configs_dir())
        .expect("configs/ exists")
        .count();
    assert_eq!(
        files,
        presets.len(),
        "one configs/*.json per experiment (cargo xtask configs)"
    );
    for preset in presets {
        let path = configs_dir().join(format!("{}.json", preset.name));
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(
            text,
            to_json(&preset),
            "{}: differs from its preset; run cargo xtask configs",
            path.display()
        );
        let loaded = TrainConfig::read(&path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            to_json(&loaded),
            text,
            "{}: load + save is not byte-identical",
            path.display()
        );
        let examples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
        assert!(
            examples.join(format!("{}.rs", preset.name)).exists(),
            "examples/{}.rs",
            preset.name
        );
    }
}

/// The same networks at 4 (std CNN) or 16 (ResNet) channels, batches of 2.
fn narrow(mut config: TrainConfig) -> TrainConfig {
    config.generator = match config.generator {
        GeneratorConfig::StdCnn(g) => GeneratorConfig::StdCnn(g.with_width(4)),
        GeneratorConfig::ResNet(g) => {
            let channels = vec![16; g.channels.len()];
            GeneratorConfig::ResNet(ResNetGeneratorConfig { channels, ..g })
        }
    };
    config.discriminator = match config.discriminator {
        DiscriminatorConfig::StdCnn(d) => DiscriminatorConfig::StdCnn(d.with_width(4)),
        DiscriminatorConfig::ResNet(d) => {
            let mut channels = vec![16; d.channels.len()];
            channels[0] = d.channels[0];
            DiscriminatorConfig::ResNet(ResNetDiscriminatorConfig { channels, ..d })
        }
    };
    config.iterations = 2;
    config.lr_decay_start = config.lr_decay_start.map(|s| s.min(1));
    config.batch_size = 2;
    config.g_batch_size = 2;
    config
}

fn images(config: &TrainConfig) -> Arc<dyn ImageSource> {
    let (size, channels) = (
        config.generator.image_size(),
        config.generator.image_channels(),
    );
    let classes = config.generator.n_classes().unwrap_or(10);
    let n = 4;
    Arc::new(Images {
        height: size,
        width: size,
        channels,
        pixels: (0..n * size * size * channels)
            .map(|i| (i * 37 % 251) as u8)
            .collect(),
        labels: (0..n).map(|i| Some((i % classes) as u32)).collect(),
        num_classes: Some(classes),
        class_names: Vec::new(),
    })
}

#[test]
fn every_config_trains_two_iterations_at_reduced_width() {
    let device = Device::flex().autodiff();
    for config in experiments::all() {
        let name = config.name.clone();
        let config = narrow(config);
        let out = std::env::temp_dir().join(format!("sngan-config-{name}-{}", std::process::id()));
        let options = RunOptions {
            quiet: true,
            ..RunOptions::new(out.clone())
        };
        let summary = train(&config, images(&config), &device, &options)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(summary.step, 2, "{name}");
        assert!(
            summary.last.loss_d.is_finite() && summary.last.loss_g.is_finite(),
            "{name}"
        );
        let _ = std::fs::remove_dir_all(out);
    }
}
