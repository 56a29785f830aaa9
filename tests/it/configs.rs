//! configs/*.json: each equals its Rust preset, loads and re-saves byte-identically, and trains
//! two iterations at reduced width on synthetic images of its shape.

use std::sync::Arc;

use sngan::burn::prelude::*;
use sngan::data::{ImageSource, Images};
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
        let config = experiments::narrow(config);
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
