//! SNGAN standard CNN generator and discriminator (Miyato et al., ICLR 2018, Table 3), for 32, 48
//! and 64 px (`M_g = M / 8`), as coded in the BSN repository (`no_gamma-CNN/gan/network.py`) and
//! chainer-gan-lib (`common/net.py`); the conditional variant follows koshian2/SNGAN.

use burn::module::Param;
use burn::prelude::*;
use burn::tensor::activation::{relu, tanh};
use sngan_core::{InvalidField, ensure};
use sngan_spectral::{
    SnConv2d, SnConv2dConfig, SnConvTranspose2d, SnConvTranspose2dConfig, SnEmbedding,
    SnEmbeddingConfig, SnLinear, SnLinearConfig, SpectralNormConfig,
};

use crate::blocks::batch_norm::{BatchNorm, BatchNormConfig, Condition, Conditioning, GenNorm};
use crate::blocks::tangent::Pass;
use crate::init::{LayerKind, WeightInit};
use crate::resnet::project;
use crate::zoo::{check_channels, check_classes, check_sn};

/// Normalisation of the generator's dense output.
#[derive(Config, Debug, PartialEq, Eq)]
pub enum DenseNorm {
    /// None (the paper's table; StudioGAN's DCGAN, koshian2/SNGAN): 3,812,355 parameters at 32 px.
    None,
    /// BN + ReLU over all `M_g^2 * 512` features (BSN `layer0`, chainer-gan-lib `bn0`).
    Features,
    /// BN2d(512) + ReLU after the reshape (w86763777/pytorch-gan-collections).
    Channels,
}

/// How a conditional [`StdCnnGenerator`] takes its class.
#[derive(Config, Debug, PartialEq, Eq)]
pub enum ClassInput {
    /// Conditional BN in every deconv block: a gain and bias per class (koshian2/SNGAN,
    /// StudioGAN's cBN).
    BatchNorm,
    /// A one-hot label concatenated to `z` before the dense layer, and plain BN in the blocks
    /// (Mirza & Osindero's cGAN input conditioning): class and style share one path. On the
    /// MNIST quick-start it kept far more writing styles per class than conditional BN (issue
    /// #12: recall 0.27-0.29 against 0.06-0.17 over three seeds).
    Concat,
}

/// Configuration of a [`StdCnnGenerator`].
#[derive(Config, Debug)]
pub struct StdCnnGeneratorConfig {
    /// Latent size.
    #[config(default = 128)]
    pub z_dim: usize,
    /// `M_g`: side of the first feature map (4, 6, 8 for 32, 48, 64 px).
    pub bottom: usize,
    /// Normalisation of the dense output.
    #[config(default = "DenseNorm::None")]
    pub dense_norm: DenseNorm,
    /// Classes for conditional BN in the deconv blocks (koshian2/SNGAN); `None` unconditional.
    #[config(default = "None")]
    pub n_classes: Option<usize>,
    /// How the class enters (without `n_classes`, neither takes one).
    #[config(default = "ClassInput::BatchNorm")]
    pub class_input: ClassInput,
    /// Weight initialisation.
    #[config(default = "WeightInit::Normal02")]
    pub init: WeightInit,
    /// Output image channels.
    #[config(default = 3)]
    pub image_channels: usize,
    /// Base width `w`: the maps are `8w, 4w, 2w, w` (64 in the paper: 512-256-128-64).
    #[config(default = 64)]
    pub width: usize,
}

/// `z -> dense -> [512, M_g, M_g] -> 3 x (deconv 4x4 s2 -> BN -> ReLU) (512-256-128-64) ->
/// conv 3x3 -> tanh`.
#[derive(Module, Debug)]
pub struct StdCnnGenerator {
    /// `z -> 512 M_g^2`.
    pub linear0: SnLinear,
    /// Dense-output BN.
    pub bn0: Option<BatchNorm>,
    /// Whether `bn0` runs over the flat features (else over the 512 channels).
    pub bn0_over_features: bool,
    /// Up-sampling deconvs.
    pub deconvs: Vec<SnConvTranspose2d>,
    /// Their BNs.
    pub bns: Vec<GenNorm>,
    /// `64 -> image channels`, 3x3.
    pub conv_out: SnConv2d,
    /// `M_g`.
    pub bottom: usize,
    /// Maps out of the dense layer (`8w`).
    pub channels: usize,
    /// Classes one-hot concatenated to `z` ([`ClassInput::Concat`]); 0 otherwise.
    pub concat_classes: usize,
}

impl StdCnnGeneratorConfig {
    /// Checks every field; `Err` names the field, its value and what is allowed.
    pub fn validate(&self) -> Result<(), InvalidField> {
        ensure(self.z_dim > 0, "z_dim", self.z_dim, "at least 1")?;
        ensure(
            self.bottom > 0,
            "bottom",
            self.bottom,
            "at least 1 (the side is 8 * bottom)",
        )?;
        ensure(self.width > 0, "width", self.width, "at least 1")?;
        check_classes(self.n_classes)?;
        check_channels(self.image_channels)
    }

    /// Build the generator.
    pub fn init(&self, device: &Device) -> StdCnnGenerator {
        let w = self.width;
        let widths = [8 * w, 4 * w, 2 * w, w];
        let features = widths[0] * self.bottom * self.bottom;
        let concat_classes = match self.class_input {
            ClassInput::Concat => self.n_classes.unwrap_or(0),
            ClassInput::BatchNorm => 0,
        };
        let conditioning = match self.class_input {
            ClassInput::BatchNorm => self.n_classes.map(Conditioning::ClassEmbedding),
            ClassInput::Concat => None,
        };
        let linear = SnLinearConfig::new(self.z_dim + concat_classes, features).with_sn(None);
        let deconv = |c_in, c_out| {
            let config = SnConvTranspose2dConfig::new([c_in, c_out], [4, 4])
                .with_stride([2, 2])
                .with_padding([1, 1])
                .with_sn(None);
            self.init.conv_transpose(config, device)
        };
        let conv_out = SnConv2dConfig::new([widths[3], self.image_channels], [3, 3])
            .with_padding([1, 1])
            .with_sn(None);
        StdCnnGenerator {
            linear0: self.init.linear(linear, LayerKind::Linear, device),
            bn0: match self.dense_norm {
                DenseNorm::None => None,
                DenseNorm::Features => Some(BatchNormConfig::new(features).init(device)),
                DenseNorm::Channels => Some(BatchNormConfig::new(widths[0]).init(device)),
            },
            bn0_over_features: self.dense_norm == DenseNorm::Features,
            deconvs: widths.windows(2).map(|w| deconv(w[0], w[1])).collect(),
            bns: widths[1..]
                .iter()
                .map(|&c| GenNorm::new(c, conditioning.as_ref(), 1e-5, None, &self.init, device))
                .collect(),
            conv_out: self.init.conv(conv_out, LayerKind::Conv, device),
            bottom: self.bottom,
            channels: widths[0],
            concat_classes,
        }
    }
}

impl StdCnnGenerator {
    /// # Shapes
    /// - `z`: `[batch, z_dim]`; `y`: `[batch]` class ids (conditional only)
    /// - output: `[batch, image_channels, 8 M_g, 8 M_g]` in `[-1, 1]`
    pub fn forward(&self, z: Tensor<2>, y: Option<Tensor<1, Int>>) -> Tensor<4> {
        let [batch, _] = z.dims();
        let (c, m) = (self.channels, self.bottom);
        // [z, one_hot(y)]: `[batch, z_dim + classes]`, in z's precision (bf16/f16 runs).
        let (z, y) = match (y, self.concat_classes) {
            (Some(y), k) if k > 0 => {
                let one_hot = y.one_hot::<2>(k).float().cast(z.dtype());
                (Tensor::cat(vec![z, one_hot], 1), None)
            }
            (y, _) => (z, y),
        };
        let h = self.linear0.forward(z);
        let mut h = match &self.bn0 {
            Some(bn) if self.bn0_over_features => relu(bn.forward(h)).reshape([batch, c, m, m]),
            Some(bn) => relu(bn.forward(h.reshape([batch, c, m, m]))),
            None => h.reshape([batch, c, m, m]),
        };
        let condition = y.map(Condition::Class);
        for (deconv, bn) in self.deconvs.iter().zip(&self.bns) {
            h = relu(bn.forward(deconv.forward(h), condition.as_ref()));
        }
        tanh(self.conv_out.forward(h))
    }
}

/// Channel layout of the standard-CNN discriminator.
#[derive(Config, Debug, PartialEq, Eq)]
pub enum StdCnnLayout {
    /// The paper's Table 3: 64, 64, 128, 128, 256, 256, 512 (BSN, christiancosgrove).
    Paper,
    /// The stride-2 convs widen: 64, 128, 128, 256, 256, 512, 512 (chainer-gan-lib, koshian2,
    /// w86763777).
    Wide,
}

impl StdCnnLayout {
    /// `(c_in, c_out, kernel, stride)` of the seven convs at base width `w` (64 in the paper).
    fn convs(&self, w: usize) -> [(usize, usize, usize, usize); 7] {
        let c = match self {
            StdCnnLayout::Paper => [w, w, 2 * w, 2 * w, 4 * w, 4 * w, 8 * w],
            StdCnnLayout::Wide => [w, 2 * w, 2 * w, 4 * w, 4 * w, 8 * w, 8 * w],
        };
        let mut out = [(0, 0, 0, 0); 7];
        for (i, slot) in out.iter_mut().enumerate() {
            let c_in = if i == 0 { 3 } else { c[i - 1] };
            let (kernel, stride) = if i % 2 == 1 { (4, 2) } else { (3, 1) };
            *slot = (c_in, c[i], kernel, stride);
        }
        out
    }
}

/// Configuration of a [`StdCnnDiscriminator`].
#[derive(Config, Debug)]
pub struct StdCnnDiscriminatorConfig {
    /// Input side `M` (32, 48, 64; a multiple of 8).
    pub image_size: usize,
    /// Channel layout.
    #[config(default = "StdCnnLayout::Paper")]
    pub layout: StdCnnLayout,
    /// Leaky-ReLU slope (0.1 in the paper; chainer-gan-lib uses Chainer's default 0.2).
    #[config(default = 0.1)]
    pub leak: f64,
    /// Classes for a projection on the flattened features (koshian2/SNGAN); `None` unconditional.
    #[config(default = "None")]
    pub n_classes: Option<usize>,
    /// Input channels.
    #[config(default = 3)]
    pub image_channels: usize,
    /// Base width `w` (64 in the paper: 64 ... 512).
    #[config(default = 64)]
    pub width: usize,
    /// Spectral norm of every layer. BSN's final linear layer keeps plain SN (its `mode` is
    /// ignored there) but takes the same `scale`.
    #[config(default = "Some(SpectralNormConfig::new())")]
    pub sn: Option<SpectralNormConfig>,
    /// One trainable gain (init 1) shared by all eight layers, multiplying their normalised
    /// weights and biases (BSN `same_gamma`).
    #[config(default = false)]
    pub shared_gamma: bool,
    /// Weight initialisation.
    #[config(default = "WeightInit::Normal02")]
    pub init: WeightInit,
}

/// Seven convs with leaky ReLU, flatten, dense to one logit (+ projection).
#[derive(Module, Debug)]
pub struct StdCnnDiscriminator {
    /// The convs.
    pub convs: Vec<SnConv2d>,
    /// `(M/8)^2 * 512 -> 1`.
    pub linear: SnLinear,
    /// Projection embedding.
    pub embedding: Option<SnEmbedding>,
    /// BSN `same_gamma`: the gain shared by every layer, `[1]`.
    pub gamma: Option<Param<Tensor<1>>>,
    /// Leaky-ReLU slope.
    pub leak: f64,
}

impl StdCnnDiscriminatorConfig {
    /// Checks every field; `Err` names the field, its value and what is allowed.
    pub fn validate(&self) -> Result<(), InvalidField> {
        let size = self.image_size;
        ensure(
            size > 0 && size.is_multiple_of(8),
            "image_size",
            size,
            "a positive multiple of 8 (three stride-2 convs halve it)",
        )?;
        ensure(self.width > 0, "width", self.width, "at least 1")?;
        ensure(
            self.leak.is_finite() && (0.0..1.0).contains(&self.leak),
            "leak",
            self.leak,
            "a slope in [0, 1)",
        )?;
        check_classes(self.n_classes)?;
        check_channels(self.image_channels)?;
        check_sn(self.sn.as_ref())
    }

    /// Build the discriminator.
    ///
    /// # Panics
    /// If `image_size` is not a positive multiple of 8.
    pub fn init(&self, device: &Device) -> StdCnnDiscriminator {
        assert!(
            self.image_size > 0 && self.image_size.is_multiple_of(8),
            "the standard CNN needs a side divisible by 8, got {}",
            self.image_size
        );
        // Each stride-2 conv (k4 s2 p1) halves the side for the convs after it.
        let mut side = self.image_size;
        let convs = self
            .layout
            .convs(self.width)
            .iter()
            .enumerate()
            .map(|(i, &(c_in, c_out, k, s))| {
                let c_in = if i == 0 { self.image_channels } else { c_in };
                let config = SnConv2dConfig::new([c_in, c_out], [k, k])
                    .with_stride([s, s])
                    .with_padding([1, 1])
                    .with_input_size(Some([side, side]))
                    .with_sn(self.sn.clone());
                side /= s;
                self.init.conv(config, LayerKind::Conv, device)
            })
            .collect();
        let features = 8 * self.width * (self.image_size / 8).pow(2);
        let linear_sn = self
            .sn
            .clone()
            .map(|sn| sn.with_mode(sngan_spectral::SigmaMode::Standard));
        let linear = SnLinearConfig::new(features, 1).with_sn(linear_sn);
        StdCnnDiscriminator {
            convs,
            linear: self.init.linear(linear, LayerKind::Linear, device),
            embedding: self.n_classes.map(|n| {
                self.init.embedding(
                    SnEmbeddingConfig::new(n, features).with_sn(self.sn.clone()),
                    device,
                )
            }),
            gamma: self
                .shared_gamma
                .then(|| sngan_spectral::shared_gamma(device)),
            leak: self.leak,
        }
    }
}

impl StdCnnDiscriminator {
    /// # Shapes
    /// - `x`: `[batch, channels, M, M]`; `y`: `[batch]` class ids (projection only)
    /// - output: `[batch, 1]` logits
    pub fn forward(&self, x: Tensor<4>, y: Option<Tensor<1, Int>>) -> Tensor<2> {
        self.forward_pass(x, y, Pass::Plain)
    }

    /// [`forward`](Self::forward), or a tangent pass on a pair (see [`Pass`]).
    pub fn forward_pass(&self, x: Tensor<4>, y: Option<Tensor<1, Int>>, pass: Pass) -> Tensor<2> {
        let [batch, _, _, _] = x.dims();
        let mut h = x;
        let gamma = self.gamma.as_ref().map(Param::val);
        for conv in &self.convs {
            let y = match &gamma {
                Some(g) => conv.forward_with_gamma(h, g.clone()),
                None => conv.forward(h),
            };
            h = pass.leaky_relu(y, self.leak);
        }
        let h = h.reshape([batch as i32, -1]);
        let out = match gamma {
            Some(g) => self.linear.forward_with_gamma(h.clone(), g),
            None => self.linear.forward(h.clone()),
        };
        project(out, h, self.embedding.as_ref(), y)
    }
}

/// Presets.
impl StdCnnGeneratorConfig {
    /// CIFAR-10 32x32 (`M_g = 4`), paper table without BN on the dense output: 3,812,355 params.
    pub fn sngan_cifar32() -> Self {
        Self::new(4)
    }

    /// STL-10 48x48 (`M_g = 6`).
    pub fn sngan_stl48() -> Self {
        Self::new(6)
    }

    /// CelebA 64x64 (`M_g = 8`).
    pub fn sngan_celeba64() -> Self {
        Self::new(8)
    }
}

/// Presets.
impl StdCnnDiscriminatorConfig {
    /// CIFAR-10 32x32, the paper's layout: 2,935,873 parameters.
    pub fn sngan_cifar32() -> Self {
        Self::new(32)
    }

    /// STL-10 48x48, the paper's layout.
    pub fn sngan_stl48() -> Self {
        Self::new(48)
    }

    /// CelebA 64x64, the paper's layout.
    pub fn sngan_celeba64() -> Self {
        Self::new(64)
    }
}
