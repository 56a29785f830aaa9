//! Unit tests: every preset's parameter counts against the published ones, the named variants,
//! forward shapes, and a training-mode forward + backward of each architecture at reduced width.

use burn::optim::GradientsParams;
use burn::prelude::*;
use burn::tensor::Distribution;

use crate::blocks::resblock::HiddenChannels;
use crate::resnet::{ResNetDiscriminatorConfig, ResNetGeneratorConfig};
use crate::std_cnn::{
    ClassInput, DenseNorm, StdCnnDiscriminatorConfig, StdCnnGeneratorConfig, StdCnnLayout,
};
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

/// Counts the f32 gradients in `.0` of the visited parameters, and those with an inf or NaN.
struct F32Gradients<'a>(&'a GradientsParams, usize, usize);

impl burn::module::ModuleVisitor for F32Gradients<'_> {
    fn visit_float<const D: usize>(&mut self, param: &burn::module::Param<Tensor<D>>) {
        if let Some(grad) = self.0.get::<D>(param.id) {
            self.1 += usize::from(grad.dtype() == burn::tensor::DType::F32);
            let finite = grad.is_finite().all().into_scalar::<bool>();
            self.2 += usize::from(!finite);
        }
    }
}

/// Every architecture runs forward and backward in training mode at reduced width, in f32 and
/// in the low precisions of mixed-precision training (one preset of each kind of network, to
/// keep the test short): the copies of [`cast_parameters`] run in bf16 and f16 (what stays f32
/// inside, SN's sigma and BN's statistics, does), their gradients reach the f32 parameters in
/// f32, and their logits stay near the f32 ones (same weights): within 10 % in bf16 (8-bit
/// mantissa; measured up to 5.5 %, BigGAN) and 1 % in f16 (measured up to 0.35 %).
#[test]
fn every_architecture_runs_forward_and_backward_in_training_mode_in_each_precision() {
    use burn::tensor::{DType, FloatDType};
    const IN_LOW_PRECISION: [&str; 6] = [
        "sngan_cifar10_std_cnn",
        "sngan_stl10_resnet",
        "sngan_cifar10_resnet_projection",
        "sagan_cifar10",
        "biggan_cifar10",
        "biggan_cifar10_studio",
    ];
    let device = device().autodiff();
    for preset in presets() {
        // The ResNets run at 16 channels (and 3 classes); the std CNN is cheap as it is.
        let g_config = narrow_g(&preset.generator);
        let d_config = narrow_d(&preset.discriminator);
        let batch = 2;
        let mut f32_logits = Vec::new();
        let dtypes = match IN_LOW_PRECISION.contains(&preset.name) {
            true => &[FloatDType::F32, FloatDType::BF16, FloatDType::F16][..],
            false => &[FloatDType::F32][..],
        };
        for &dtype in dtypes {
            device.seed(0);
            let g = g_config.init(&device);
            let d = d_config.init(&device);
            let z = Tensor::<2>::random(
                [batch, g_config.z_dim()],
                Distribution::Normal(0.0, 1.0),
                &device,
            );
            let y = g_config
                .n_classes()
                .map(|_| Tensor::<1, Int>::from_ints([0, 2], &device));
            let size = g_config.image_size();
            let x = cast_parameters(&g, dtype).forward(z.cast(dtype), y.clone());
            let name = format!("{} in {dtype:?}", preset.name);
            assert_eq!(
                x.dims(),
                [batch, g_config.image_channels(), size, size],
                "{name}: G output"
            );
            assert_eq!(x.dtype(), DType::from(dtype), "{name}: G output precision");
            let logits = cast_parameters(&d, dtype)
                .forward(x, y)
                .cast(FloatDType::F32);
            assert_eq!(logits.dims(), [batch, 1], "{name}: D output");
            let values: Vec<f32> = logits.to_data().try_to_vec().expect("f32 logits");
            let grads = logits.mean().backward();
            let mut grads_g = grads;
            let g_grads = GradientsParams::from_module(&mut grads_g, &g);
            let d_grads = GradientsParams::from_module(&mut grads_g, &d);
            assert!(
                !g_grads.is_empty() && !d_grads.is_empty(),
                "{name}: both networks get gradients"
            );
            for (grads, net) in [(&g_grads, "G"), (&d_grads, "D")] {
                let mut check = F32Gradients(grads, 0, 0);
                match net {
                    "G" => g.visit(&mut check),
                    _ => d.visit(&mut check),
                }
                assert_eq!(
                    (check.1, check.2),
                    (grads.len(), 0),
                    "{name}: {net}'s gradients are f32 (count) and finite (count of others)"
                );
            }
            if dtype == FloatDType::F32 {
                f32_logits = values;
                continue;
            }
            let bound = match dtype {
                FloatDType::BF16 => 0.1,
                _ => 0.01,
            };
            for (low, high) in values.iter().zip(&f32_logits) {
                assert!(
                    (low - high).abs() <= bound * high.abs().max(0.1),
                    "{name}: logit {low}, f32 {high}"
                );
            }
        }
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

/// `ClassInput::Concat`: the dense layer reads `[z, one_hot(y)]` (10 more inputs, no class
/// embeddings in the BNs), the class changes the image, and without classes it is the
/// unconditional generator.
#[test]
fn concatenated_classes_feed_the_dense_layer_and_need_classes() {
    let device = device();
    device.seed(3);
    let config = StdCnnGeneratorConfig::new(4)
        .with_width(4)
        .with_image_channels(1)
        .with_n_classes(Some(10));
    let concat = config.clone().with_class_input(ClassInput::Concat);
    concat.validate().expect("a conditional concat generator");
    let (g_bn, g_cat) = (config.init(&device), concat.init(&device));
    let features = 32 * 4 * 4;
    let embeddings: usize = [16, 8, 4].iter().map(|c| 2 * 10 * c).sum();
    assert_eq!(
        g_cat.num_params(),
        g_bn.num_params() - embeddings
            + 10 * features
            + [16, 8, 4].iter().map(|c| 2 * c).sum::<usize>(),
        "one-hot inputs in, class embeddings out (plain BNs keep a gain and bias)"
    );
    let z = Tensor::<2>::random([1, 128], Distribution::Normal(0.0, 1.0), &device);
    let image = |y: i64| {
        g_cat
            .forward(z.clone(), Some(Tensor::<1, Int>::from_ints([y], &device)))
            .into_data()
    };
    assert_ne!(image(0), image(1), "the class changes the image");
    let plain = config.with_n_classes(None);
    let plain_concat = plain.clone().with_class_input(ClassInput::Concat);
    plain_concat.validate().expect("no classes, no class input");
    assert_eq!(
        plain_concat.init(&device).num_params(),
        plain.init(&device).num_params(),
        "without classes, Concat is the unconditional generator"
    );
}
