//! Unit tests: every preset's parameter counts against the published ones, the named variants,
//! forward shapes, and a training-mode forward + backward of each architecture at reduced width.

use burn::optim::GradientsParams;
use burn::prelude::*;
use burn::tensor::Distribution;

use crate::blocks::resblock::HiddenChannels;
use crate::resnet::{ResNetDiscriminatorConfig, ResNetGeneratorConfig};
use crate::std_cnn::{DenseNorm, StdCnnDiscriminatorConfig, StdCnnGeneratorConfig, StdCnnLayout};
use crate::*;

fn device() -> Device {
    Device::flex()
}

#[test]
fn every_preset_has_its_published_parameter_counts() {
    let mut checked = 0;
    for preset in presets() {
        let counts = preset.count(&device());
        if let Some(published) = preset.published {
            assert_eq!(counts, published, "{}: (G, D) parameters", preset.name);
            checked += 1;
        }
    }
    assert_eq!(checked, 13, "presets with a published count");
}

#[test]
fn named_variants_have_their_published_counts() {
    let d = device();
    let g = |c: StdCnnGeneratorConfig| count_parameters(&c.init(&d));
    // BN + ReLU over the dense features (BSN, chainer-gan-lib).
    for (bottom, count) in [(4, 3_828_739), (6, 5_170_179), (8, 7_048_195)] {
        let config = StdCnnGeneratorConfig::new(bottom).with_dense_norm(DenseNorm::Features);
        assert_eq!(g(config), count, "std CNN G M_g={bottom} with dense BN");
    }
    let wide = |size| {
        count_parameters(
            &StdCnnDiscriminatorConfig::new(size)
                .with_layout(StdCnnLayout::Wide)
                .init(&d),
        )
    };
    assert_eq!(
        [wide(48), wide(64)],
        [5_871_105, 5_885_441],
        "wide std CNN D at 48, 64"
    );
    // Hidden = out (StudioGAN, mmgen) vs hidden = in (official Chainer, mimicry).
    let resnet_d = |c: ResNetDiscriminatorConfig| count_parameters(&c.init(&d));
    assert_eq!(
        resnet_d(ResNetDiscriminatorConfig::sngan_imagenet128().with_hidden(HiddenChannels::Input)),
        30_041_857,
        "SNGAN-128 D, hidden = in (official)"
    );
    assert_eq!(
        resnet_d(ResNetDiscriminatorConfig::sngan_stl48().with_hidden(HiddenChannels::Output)),
        19_542_721,
        "SNGAN-48 D, hidden = out"
    );
    assert_eq!(
        resnet_d(ResNetDiscriminatorConfig::sngan_cifar32().with_linear_bias(true)),
        1_053_825,
        "SNGAN-32 D with a linear bias"
    );
}

/// A preset scaled down to `width` channels everywhere, for cheap forward/backward tests.
fn narrow_g(config: &GeneratorConfig) -> GeneratorConfig {
    match config {
        GeneratorConfig::StdCnn(c) => GeneratorConfig::StdCnn(c.clone()),
        GeneratorConfig::ResNet(c) => {
            let n = c.channels.len();
            let narrow = ResNetGeneratorConfig {
                channels: vec![16; n],
                ..c.clone()
            };
            GeneratorConfig::ResNet(narrow.with_n_classes(c.n_classes.map(|_| 3)))
        }
    }
}

fn narrow_d(config: &DiscriminatorConfig) -> DiscriminatorConfig {
    match config {
        DiscriminatorConfig::StdCnn(c) => DiscriminatorConfig::StdCnn(c.clone()),
        DiscriminatorConfig::ResNet(c) => {
            let mut channels = vec![16; c.channels.len()];
            channels[0] = 3;
            let narrow = ResNetDiscriminatorConfig {
                channels,
                ..c.clone()
            };
            DiscriminatorConfig::ResNet(narrow.with_n_classes(c.n_classes.map(|_| 3)))
        }
    }
}

#[test]
fn every_architecture_runs_forward_and_backward_in_training_mode() {
    let device = device().autodiff();
    device.seed(0);
    for preset in presets() {
        // The ResNets run at 16 channels (and 3 classes); the std CNN is cheap as it is.
        let g_config = narrow_g(&preset.generator);
        let d_config = narrow_d(&preset.discriminator);
        let g = g_config.init(&device);
        let d = d_config.init(&device);
        let batch = 2;
        let z = Tensor::<2>::random(
            [batch, g_config.z_dim()],
            Distribution::Normal(0.0, 1.0),
            &device,
        );
        let y = g_config
            .n_classes()
            .map(|_| Tensor::<1, Int>::from_ints([0, 2], &device));
        let size = g_config.image_size();
        let x = g.forward(z, y.clone());
        assert_eq!(
            x.dims(),
            [batch, g_config.image_channels(), size, size],
            "{}: G output",
            preset.name
        );
        let logits = d.forward(x, y);
        assert_eq!(logits.dims(), [batch, 1], "{}: D output", preset.name);
        let grads = logits.mean().backward();
        let mut grads_g = grads;
        let g_grads = GradientsParams::from_module(&mut grads_g, &g);
        let d_grads = GradientsParams::from_module(&mut grads_g, &d);
        assert!(
            !g_grads.is_empty() && !d_grads.is_empty(),
            "{}: both networks get gradients",
            preset.name
        );
    }
}

#[test]
fn eval_generators_are_deterministic_and_leave_state_alone() {
    let device = device().autodiff();
    device.seed(1);
    let config = ResNetGeneratorConfig::sngan_cifar32_conditional();
    let g = ResNetGeneratorConfig {
        channels: vec![16; 4],
        ..config
    }
    .init(&device);
    let eval = g.valid();
    let inner = device.clone().inner();
    let z = Tensor::<2>::random([2, 128], Distribution::Normal(0.0, 1.0), &inner);
    let y = Tensor::<1, Int>::from_ints([1, 7], &inner);
    let a = eval.forward(z.clone(), Some(y.clone())).into_data();
    let b = eval.forward(z, Some(y)).into_data();
    assert_eq!(a, b);
}

/// Strict SN takes each conv's input size from the network, so it works in any zoo model: here
/// the standard CNN D and SAGAN's ResNet G and D (attention included) at reduced width, each
/// layer's sigma the operator norm at its own input size.
#[test]
fn strict_spectral_norm_works_in_zoo_models() {
    use sngan_spectral::{SigmaMode, SpectralLayer, SpectralNormConfig};
    let device = device().autodiff();
    device.seed(5);
    let strict = Some(SpectralNormConfig::new().with_mode(SigmaMode::Strict));
    let std_d = StdCnnDiscriminatorConfig::new(16)
        .with_width(2)
        .with_sn(strict.clone());
    let sagan_d = ResNetDiscriminatorConfig {
        channels: vec![3, 8, 8, 8],
        downsample: vec![true, true, false],
        ..ResNetDiscriminatorConfig::sagan_cifar32()
    }
    .with_image_size(Some(16))
    .with_sn(strict.clone());
    let sagan_g = ResNetGeneratorConfig {
        channels: vec![16, 16, 8],
        ..ResNetGeneratorConfig::sagan_cifar32()
    }
    .with_sn(strict.clone());
    for d in [
        DiscriminatorConfig::StdCnn(std_d),
        DiscriminatorConfig::ResNet(sagan_d),
    ] {
        d.validate().expect("valid");
        let net = d.init(&device);
        let x = Tensor::<4>::random([2, 3, 16, 16], Distribution::Normal(0.0, 1.0), &device);
        let out = net.forward(x, d.n_classes().map(|_| Tensor::from_ints([1, 2], &device)));
        assert_eq!(out.dims(), [2, 1]);
    }
    sagan_g.validate().expect("valid");
    let g = sagan_g.init(&device);
    let z = Tensor::<2>::random([2, 128], Distribution::Normal(0.0, 1.0), &device);
    let x = g.forward(z, Some(Tensor::from_ints([3, 4], &device)));
    assert_eq!(x.dims(), [2, 3, 16, 16]);
    // The 1x1 shortcut of G's last block runs on 16x16 maps: its strict vectors are images.
    let sn = g.blocks[1].conv2d0.spectral_norm().expect("normalised");
    assert_eq!(
        (sn.u.value().dims(), sn.v.value().dims()),
        ([8 * 16 * 16], [16 * 16 * 16])
    );
    assert!(g.blocks[1].conv2d0.sigma().expect("sigma").value() > 0.0);
}

#[test]
fn invalid_model_configs_name_the_field_the_value_and_what_is_allowed() {
    use sngan_spectral::{SigmaMode, SpectralNormConfig};
    let cases: [(DiscriminatorConfig, &str); 5] = [
        (
            DiscriminatorConfig::StdCnn(StdCnnDiscriminatorConfig::new(30)),
            "StdCnn.image_size = 30: a positive multiple of 8",
        ),
        (
            DiscriminatorConfig::StdCnn(
                StdCnnDiscriminatorConfig::new(32)
                    .with_sn(Some(SpectralNormConfig::new().with_n_power_iterations(0))),
            ),
            "StdCnn.sn.n_power_iterations = 0: at least 1",
        ),
        (
            DiscriminatorConfig::ResNet(
                ResNetDiscriminatorConfig::sngan_cifar32().with_attention_after(Some(7)),
            ),
            "ResNet.attention_after = 7: a block number in 1..=4, or null",
        ),
        (
            DiscriminatorConfig::ResNet(
                ResNetDiscriminatorConfig::sngan_cifar32()
                    .with_image_size(None)
                    .with_sn(Some(SpectralNormConfig::new().with_mode(SigmaMode::Strict))),
            ),
            "ResNet.image_size = null: the input side, which strict spectral norm needs",
        ),
        (
            DiscriminatorConfig::ResNet(ResNetDiscriminatorConfig::new(vec![3], vec![])),
            "ResNet.channels = [3]: at least two widths",
        ),
    ];
    for (config, want) in cases {
        let e = config.validate().expect_err(want).to_string();
        assert!(e.starts_with(want), "{e}");
    }
    let g = GeneratorConfig::ResNet(ResNetGeneratorConfig {
        z_dim: 81,
        ..ResNetGeneratorConfig::biggan_cifar32_studio()
    });
    assert!(
        g.validate()
            .expect_err("z chunks")
            .to_string()
            .starts_with("ResNet.z_dim = 81: a multiple of 4"),
    );
    for preset in presets() {
        preset.generator.validate().expect(preset.name);
        preset.discriminator.validate().expect(preset.name);
    }
}

#[test]
fn orthogonal_regularization_matches_its_gradient_formula() {
    let device = device().autodiff();
    device.seed(2);
    let config = ResNetGeneratorConfig::biggan_cifar32_studio();
    let g = ResNetGeneratorConfig {
        channels: vec![16; 4],
        ..config
    }
    .init(&device);
    let loss = orthogonal_regularization(&g, 1e-4, &["shared"]).expect("weights qualify");
    let grads = loss.backward();
    // d/dW of strength/2 ||(W W^T) * (1 - I)||^2 = strength * 2 ((W W^T) * (1 - I)) W.
    let w = g.linear0.weight.val();
    let rows = w.dims()[0];
    let inner = w.clone().inner();
    let mask =
        Tensor::<2>::ones([rows, rows], &inner.device()) - Tensor::eye(rows, &inner.device());
    let expected =
        (inner.clone().matmul(inner.clone().transpose()) * mask).matmul(inner) * (2.0 * 1e-4);
    let actual = w.grad(&grads).expect("linear0 gets a gradient");
    actual
        .into_data()
        .assert_approx_eq::<f32>(&expected.into_data(), burn::tensor::Tolerance::default());
    let shared = g
        .shared
        .as_ref()
        .expect("BigGAN has a shared embedding")
        .weight
        .val();
    assert!(
        shared.grad(&grads).is_none(),
        "the shared embedding is skipped"
    );
}

#[test]
fn tangent_pass_is_the_input_gradient_along_the_direction() {
    let device = device().autodiff();
    device.seed(1);
    let mut checked = 0;
    for preset in presets() {
        // Without SN each forward is the same function (no power iteration between passes).
        let (d, n_classes) = match narrow_d(&preset.discriminator) {
            DiscriminatorConfig::StdCnn(c) => (
                DiscriminatorConfig::StdCnn(c.clone().with_sn(None)),
                c.n_classes,
            ),
            DiscriminatorConfig::ResNet(c) => (
                DiscriminatorConfig::ResNet(c.clone().with_sn(None)),
                c.n_classes,
            ),
        };
        let d = d.init(&device);
        let size = preset.generator.image_size();
        let shape = [2, preset.generator.image_channels(), size, size];
        let x = Tensor::<4>::random(shape, Distribution::Uniform(-1.0, 1.0), &device);
        let t = Tensor::<4>::random(shape, Distribution::Normal(0.0, 1.0), &device);
        let y = n_classes.map(|_| Tensor::<1, Int>::from_ints([0, 2], &device));
        let Some(tangent) = d.directional_derivative(x.clone(), t.clone(), y.clone()) else {
            continue; // self-attention
        };
        let probe = x.require_grad();
        let grads = d.forward(probe.clone(), y).sum().backward();
        let g = Tensor::<4>::from_inner(probe.grad(&grads).expect("input gradient"));
        let expected = (g * t).sum_dim(1).sum_dim(2).sum_dim(3).reshape([2, 1]);
        let (a, e): (Vec<f32>, Vec<f32>) = (
            tangent.into_data().convert::<f32>().try_to_vec().unwrap(),
            expected.into_data().convert::<f32>().try_to_vec().unwrap(),
        );
        for (a, e) in a.iter().zip(&e) {
            assert!(
                (a - e).abs() <= 1e-4 * e.abs().max(1.0),
                "{}: tangent {a} vs v . grad {e}",
                preset.name
            );
        }
        checked += 1;
    }
    assert!(
        checked >= 8,
        "attention-free discriminators checked: {checked}"
    );
}
