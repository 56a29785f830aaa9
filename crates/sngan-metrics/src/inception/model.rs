//! The FID Inception network (TensorFlow graph `inception-2015-12-05`, Szegedy et al., "Rethinking
//! the Inception Architecture for Computer Vision", arXiv:1512.00567) in Burn, block for block as
//! pytorch-fid ports it (mseitzer/pytorch-fid `src/pytorch_fid/inception.py` at b9c1811:
//! torchvision's `inception_v3` with `FIDInceptionA/C/E_1/E_2`) and as torch-fidelity does
//! (toshas/torch-fidelity `feature_extractor_inceptionv3.py` at 5e211a9).
//!
//! What differs from torchvision's Inception v3, and why each matters for FID:
//! - BatchNorm eps is 1e-3 (TF), not 1e-5;
//! - the branch average pools of the A, C and first E blocks exclude padding (TF semantics);
//! - the last E block (`Mixed_7c`) pools its branch with a 3x3 **max** pool;
//! - the classifier has 1008 classes, no auxiliary head, no `transform_input`.
//!
//! Field names follow the PyTorch state dict (`Conv2d_1a_3x3` becomes `conv2d_1a_3x3`,
//! `Mixed_5b` becomes `mixed_5b`; branches keep their names), so loading is two key remaps.

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Initializer, Linear, LinearConfig, PaddingConfig2d};
use burn::prelude::*;
use burn::tensor::activation::relu;
use burn::tensor::module::{avg_pool2d, max_pool2d};
use burn::tensor::ops::{AvgPoolOptions, MaxPoolOptions};

/// BatchNorm epsilon of the TF graph (torchvision's `BasicConv2d` uses 0.001 as well).
pub const BN_EPS: f64 = 1e-3;
/// Classes of the TF 2015-12-05 classifier (1000 ImageNet classes plus 8 unused).
pub const NUM_CLASSES: usize = 1008;
/// Width of the pool3 features FID uses.
pub const POOL3_DIM: usize = 2048;
/// Side of the square input the graph was trained on.
pub const INPUT_SIZE: usize = 299;

/// Convolution without bias, BatchNorm (eps 1e-3, running statistics), ReLU: torchvision's
/// `BasicConv2d`.
#[derive(Module, Debug)]
pub struct BasicConv2d {
    /// Convolution, weight `[out, in, kh, kw]`, no bias.
    pub conv: Conv2d,
    /// BatchNorm over `out` channels.
    pub bn: BatchNorm,
}

/// Configuration of a [`BasicConv2d`].
#[derive(Config, Debug)]
pub struct BasicConv2dConfig {
    /// `[channels_in, channels_out]`.
    pub channels: [usize; 2],
    /// `[kh, kw]`.
    pub kernel_size: [usize; 2],
    /// `[sh, sw]`. Default: `[1, 1]`
    #[config(default = "[1, 1]")]
    pub stride: [usize; 2],
    /// Symmetric padding `[ph, pw]`. Default: `[0, 0]`
    #[config(default = "[0, 0]")]
    pub padding: [usize; 2],
}

impl BasicConv2dConfig {
    /// Builds the layer with zero weights and identity BatchNorm (weights come from a state dict).
    pub fn init(&self, device: &Device) -> BasicConv2d {
        let [ph, pw] = self.padding;
        BasicConv2d {
            conv: Conv2dConfig::new(self.channels, self.kernel_size)
                .with_stride(self.stride)
                .with_padding(PaddingConfig2d::Explicit(ph, pw, ph, pw))
                .with_bias(false)
                .with_initializer(Initializer::Zeros)
                .init(device),
            bn: BatchNormConfig::new(self.channels[1])
                .with_epsilon(BN_EPS)
                .init(device),
        }
    }
}

impl BasicConv2d {
    /// # Shapes
    /// - `x`: `[batch, in, h, w]`
    /// - output: `[batch, out, h', w']`
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        relu(self.bn.forward(self.conv.forward(x)))
    }
}

fn conv(cin: usize, cout: usize, k: [usize; 2], pad: [usize; 2], device: &Device) -> BasicConv2d {
    BasicConv2dConfig::new([cin, cout], k)
        .with_padding(pad)
        .init(device)
}

fn conv_s2(cin: usize, cout: usize, k: usize, device: &Device) -> BasicConv2d {
    BasicConv2dConfig::new([cin, cout], [k, k])
        .with_stride([2, 2])
        .init(device)
}

/// 3x3, stride 1, pad 1 average pool that ignores the padded zeros (TF `AvgPool` semantics).
fn avg_pool_3x3_exclude_pad(x: Tensor<4>) -> Tensor<4> {
    avg_pool2d(
        x,
        AvgPoolOptions::new([3, 3])
            .with_stride([1, 1])
            .with_padding([1, 1])
            .with_count_include_pad(false),
    )
}

/// 3x3, stride 1, pad 1 max pool. Its inputs are post-ReLU (>= 0), so zero and -inf padding agree.
fn max_pool_3x3_s1(x: Tensor<4>) -> Tensor<4> {
    max_pool2d(
        x,
        MaxPoolOptions::new([3, 3])
            .with_stride([1, 1])
            .with_padding([1, 1]),
    )
}

/// 3x3, stride 2, unpadded max pool.
fn max_pool_3x3_s2(x: Tensor<4>) -> Tensor<4> {
    max_pool2d(x, MaxPoolOptions::new([3, 3]).with_stride([2, 2]))
}

/// Mixed_5b/5c/5d (`FIDInceptionA`): concat [1x1, 5x5, 3x3dbl, pool] = 224 + `pool_features`.
#[derive(Module, Debug)]
pub struct InceptionA {
    /// in -> 64, 1x1.
    pub branch1x1: BasicConv2d,
    /// in -> 48, 1x1.
    pub branch5x5_1: BasicConv2d,
    /// 48 -> 64, 5x5 pad 2.
    pub branch5x5_2: BasicConv2d,
    /// in -> 64, 1x1.
    pub branch3x3dbl_1: BasicConv2d,
    /// 64 -> 96, 3x3 pad 1.
    pub branch3x3dbl_2: BasicConv2d,
    /// 96 -> 96, 3x3 pad 1.
    pub branch3x3dbl_3: BasicConv2d,
    /// in -> pool_features, 1x1 after the padding-excluding average pool.
    pub branch_pool: BasicConv2d,
}

impl InceptionA {
    fn new(cin: usize, pool_features: usize, d: &Device) -> Self {
        Self {
            branch1x1: conv(cin, 64, [1, 1], [0, 0], d),
            branch5x5_1: conv(cin, 48, [1, 1], [0, 0], d),
            branch5x5_2: conv(48, 64, [5, 5], [2, 2], d),
            branch3x3dbl_1: conv(cin, 64, [1, 1], [0, 0], d),
            branch3x3dbl_2: conv(64, 96, [3, 3], [1, 1], d),
            branch3x3dbl_3: conv(96, 96, [3, 3], [1, 1], d),
            branch_pool: conv(cin, pool_features, [1, 1], [0, 0], d),
        }
    }

    /// # Shapes
    /// - `x`: `[batch, in, 35, 35]`
    /// - output: `[batch, 224 + pool_features, 35, 35]`
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let b1 = self.branch1x1.forward(x.clone());
        let b5 = self
            .branch5x5_2
            .forward(self.branch5x5_1.forward(x.clone()));
        let b3 = self.branch3x3dbl_3.forward(
            self.branch3x3dbl_2
                .forward(self.branch3x3dbl_1.forward(x.clone())),
        );
        let bp = self.branch_pool.forward(avg_pool_3x3_exclude_pad(x));
        Tensor::cat(vec![b1, b5, b3, bp], 1)
    }
}

/// Mixed_6a (torchvision `InceptionB`): concat [3x3 s2, 3x3dbl s2, max pool s2] = 384 + 96 + in.
#[derive(Module, Debug)]
pub struct InceptionB {
    /// in -> 384, 3x3 stride 2.
    pub branch3x3: BasicConv2d,
    /// in -> 64, 1x1.
    pub branch3x3dbl_1: BasicConv2d,
    /// 64 -> 96, 3x3 pad 1.
    pub branch3x3dbl_2: BasicConv2d,
    /// 96 -> 96, 3x3 stride 2.
    pub branch3x3dbl_3: BasicConv2d,
}

impl InceptionB {
    fn new(cin: usize, d: &Device) -> Self {
        Self {
            branch3x3: conv_s2(cin, 384, 3, d),
            branch3x3dbl_1: conv(cin, 64, [1, 1], [0, 0], d),
            branch3x3dbl_2: conv(64, 96, [3, 3], [1, 1], d),
            branch3x3dbl_3: conv_s2(96, 96, 3, d),
        }
    }

    /// # Shapes
    /// - `x`: `[batch, 288, 35, 35]`
    /// - output: `[batch, 768, 17, 17]`
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let b3 = self.branch3x3.forward(x.clone());
        let bd = self.branch3x3dbl_3.forward(
            self.branch3x3dbl_2
                .forward(self.branch3x3dbl_1.forward(x.clone())),
        );
        let bp = max_pool_3x3_s2(x);
        Tensor::cat(vec![b3, bd, bp], 1)
    }
}

/// Mixed_6b..6e (`FIDInceptionC`): concat [1x1, 7x7, 7x7dbl, pool] = 4 x 192.
#[derive(Module, Debug)]
pub struct InceptionC {
    /// in -> 192, 1x1.
    pub branch1x1: BasicConv2d,
    /// in -> c7, 1x1.
    pub branch7x7_1: BasicConv2d,
    /// c7 -> c7, 1x7 pad (0, 3).
    pub branch7x7_2: BasicConv2d,
    /// c7 -> 192, 7x1 pad (3, 0).
    pub branch7x7_3: BasicConv2d,
    /// in -> c7, 1x1.
    pub branch7x7dbl_1: BasicConv2d,
    /// c7 -> c7, 7x1.
    pub branch7x7dbl_2: BasicConv2d,
    /// c7 -> c7, 1x7.
    pub branch7x7dbl_3: BasicConv2d,
    /// c7 -> c7, 7x1.
    pub branch7x7dbl_4: BasicConv2d,
    /// c7 -> 192, 1x7.
    pub branch7x7dbl_5: BasicConv2d,
    /// in -> 192, 1x1 after the padding-excluding average pool.
    pub branch_pool: BasicConv2d,
}

impl InceptionC {
    fn new(cin: usize, c7: usize, d: &Device) -> Self {
        let (k17, p17, k71, p71) = ([1, 7], [0, 3], [7, 1], [3, 0]);
        Self {
            branch1x1: conv(cin, 192, [1, 1], [0, 0], d),
            branch7x7_1: conv(cin, c7, [1, 1], [0, 0], d),
            branch7x7_2: conv(c7, c7, k17, p17, d),
            branch7x7_3: conv(c7, 192, k71, p71, d),
            branch7x7dbl_1: conv(cin, c7, [1, 1], [0, 0], d),
            branch7x7dbl_2: conv(c7, c7, k71, p71, d),
            branch7x7dbl_3: conv(c7, c7, k17, p17, d),
            branch7x7dbl_4: conv(c7, c7, k71, p71, d),
            branch7x7dbl_5: conv(c7, 192, k17, p17, d),
            branch_pool: conv(cin, 192, [1, 1], [0, 0], d),
        }
    }

    /// # Shapes
    /// - `x`: `[batch, 768, 17, 17]`
    /// - output: `[batch, 768, 17, 17]`
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let b1 = self.branch1x1.forward(x.clone());
        let b7 = self.branch7x7_3.forward(
            self.branch7x7_2
                .forward(self.branch7x7_1.forward(x.clone())),
        );
        let mut bd = self.branch7x7dbl_1.forward(x.clone());
        for layer in [
            &self.branch7x7dbl_2,
            &self.branch7x7dbl_3,
            &self.branch7x7dbl_4,
            &self.branch7x7dbl_5,
        ] {
            bd = layer.forward(bd);
        }
        let bp = self.branch_pool.forward(avg_pool_3x3_exclude_pad(x));
        Tensor::cat(vec![b1, b7, bd, bp], 1)
    }
}

/// Mixed_7a (torchvision `InceptionD`): concat [3x3 s2, 7x7x3 s2, max pool s2] = 320 + 192 + in.
#[derive(Module, Debug)]
pub struct InceptionD {
    /// in -> 192, 1x1.
    pub branch3x3_1: BasicConv2d,
    /// 192 -> 320, 3x3 stride 2.
    pub branch3x3_2: BasicConv2d,
    /// in -> 192, 1x1.
    pub branch7x7x3_1: BasicConv2d,
    /// 192 -> 192, 1x7 pad (0, 3).
    pub branch7x7x3_2: BasicConv2d,
    /// 192 -> 192, 7x1 pad (3, 0).
    pub branch7x7x3_3: BasicConv2d,
    /// 192 -> 192, 3x3 stride 2.
    pub branch7x7x3_4: BasicConv2d,
}

impl InceptionD {
    fn new(cin: usize, d: &Device) -> Self {
        Self {
            branch3x3_1: conv(cin, 192, [1, 1], [0, 0], d),
            branch3x3_2: conv_s2(192, 320, 3, d),
            branch7x7x3_1: conv(cin, 192, [1, 1], [0, 0], d),
            branch7x7x3_2: conv(192, 192, [1, 7], [0, 3], d),
            branch7x7x3_3: conv(192, 192, [7, 1], [3, 0], d),
            branch7x7x3_4: conv_s2(192, 192, 3, d),
        }
    }

    /// # Shapes
    /// - `x`: `[batch, 768, 17, 17]`
    /// - output: `[batch, 1280, 8, 8]`
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let b3 = self
            .branch3x3_2
            .forward(self.branch3x3_1.forward(x.clone()));
        let mut b7 = self.branch7x7x3_1.forward(x.clone());
        for layer in [
            &self.branch7x7x3_2,
            &self.branch7x7x3_3,
            &self.branch7x7x3_4,
        ] {
            b7 = layer.forward(b7);
        }
        let bp = max_pool_3x3_s2(x);
        Tensor::cat(vec![b3, b7, bp], 1)
    }
}

/// Mixed_7b (`FIDInceptionE_1`, average pool) and Mixed_7c (`FIDInceptionE_2`, max pool):
/// concat [1x1, (2a, 2b), (3a, 3b), pool] = 320 + 768 + 768 + 192 = 2048.
#[derive(Module, Debug)]
pub struct InceptionE {
    /// in -> 320, 1x1.
    pub branch1x1: BasicConv2d,
    /// in -> 384, 1x1.
    pub branch3x3_1: BasicConv2d,
    /// 384 -> 384, 1x3 pad (0, 1).
    pub branch3x3_2a: BasicConv2d,
    /// 384 -> 384, 3x1 pad (1, 0).
    pub branch3x3_2b: BasicConv2d,
    /// in -> 448, 1x1.
    pub branch3x3dbl_1: BasicConv2d,
    /// 448 -> 384, 3x3 pad 1.
    pub branch3x3dbl_2: BasicConv2d,
    /// 384 -> 384, 1x3 pad (0, 1).
    pub branch3x3dbl_3a: BasicConv2d,
    /// 384 -> 384, 3x1 pad (1, 0).
    pub branch3x3dbl_3b: BasicConv2d,
    /// in -> 192, 1x1 after the branch pool.
    pub branch_pool: BasicConv2d,
    /// Branch pool: `true` = 3x3 max pool (Mixed_7c), `false` = padding-excluding average pool.
    pub max_pool: bool,
}

impl InceptionE {
    fn new(cin: usize, max_pool: bool, d: &Device) -> Self {
        let (k13, p13, k31, p31) = ([1, 3], [0, 1], [3, 1], [1, 0]);
        Self {
            branch1x1: conv(cin, 320, [1, 1], [0, 0], d),
            branch3x3_1: conv(cin, 384, [1, 1], [0, 0], d),
            branch3x3_2a: conv(384, 384, k13, p13, d),
            branch3x3_2b: conv(384, 384, k31, p31, d),
            branch3x3dbl_1: conv(cin, 448, [1, 1], [0, 0], d),
            branch3x3dbl_2: conv(448, 384, [3, 3], [1, 1], d),
            branch3x3dbl_3a: conv(384, 384, k13, p13, d),
            branch3x3dbl_3b: conv(384, 384, k31, p31, d),
            branch_pool: conv(cin, 192, [1, 1], [0, 0], d),
            max_pool,
        }
    }

    /// # Shapes
    /// - `x`: `[batch, in, 8, 8]`
    /// - output: `[batch, 2048, 8, 8]`
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let b1 = self.branch1x1.forward(x.clone());
        let b3 = self.branch3x3_1.forward(x.clone());
        let b3 = Tensor::cat(
            vec![
                self.branch3x3_2a.forward(b3.clone()),
                self.branch3x3_2b.forward(b3),
            ],
            1,
        );
        let bd = self
            .branch3x3dbl_2
            .forward(self.branch3x3dbl_1.forward(x.clone()));
        let bd = Tensor::cat(
            vec![
                self.branch3x3dbl_3a.forward(bd.clone()),
                self.branch3x3dbl_3b.forward(bd),
            ],
            1,
        );
        let pooled = match self.max_pool {
            true => max_pool_3x3_s1(x),
            false => avg_pool_3x3_exclude_pad(x),
        };
        let bp = self.branch_pool.forward(pooled);
        Tensor::cat(vec![b1, b3, bd, bp], 1)
    }
}

/// Configuration of the FID Inception. It has no options: the graph is fixed by its weights.
#[derive(Config, Debug)]
pub struct FidInceptionConfig {}

/// The FID Inception network. Build it with [`FidInceptionConfig::init`], then load weights with
/// [`crate::load_fid_inception`] (the `.pth` users download) or
/// [`crate::inception::hash_init`] (deterministic test weights).
#[derive(Module, Debug)]
pub struct FidInception {
    /// 3 -> 32, 3x3 stride 2.
    pub conv2d_1a_3x3: BasicConv2d,
    /// 32 -> 32, 3x3.
    pub conv2d_2a_3x3: BasicConv2d,
    /// 32 -> 64, 3x3 pad 1.
    pub conv2d_2b_3x3: BasicConv2d,
    /// 64 -> 80, 1x1.
    pub conv2d_3b_1x1: BasicConv2d,
    /// 80 -> 192, 3x3.
    pub conv2d_4a_3x3: BasicConv2d,
    /// A, pool features 32.
    pub mixed_5b: InceptionA,
    /// A, pool features 64.
    pub mixed_5c: InceptionA,
    /// A, pool features 64.
    pub mixed_5d: InceptionA,
    /// B.
    pub mixed_6a: InceptionB,
    /// C, c7 = 128.
    pub mixed_6b: InceptionC,
    /// C, c7 = 160.
    pub mixed_6c: InceptionC,
    /// C, c7 = 160.
    pub mixed_6d: InceptionC,
    /// C, c7 = 192.
    pub mixed_6e: InceptionC,
    /// D.
    pub mixed_7a: InceptionD,
    /// E with average pool.
    pub mixed_7b: InceptionE,
    /// E with max pool.
    pub mixed_7c: InceptionE,
    /// 2048 -> 1008 classifier (Burn layout: weight `[2048, 1008]`).
    pub fc: Linear,
}

impl FidInceptionConfig {
    /// Builds the network with zero weights.
    pub fn init(&self, device: &Device) -> FidInception {
        let d = device;
        FidInception {
            conv2d_1a_3x3: conv_s2(3, 32, 3, d),
            conv2d_2a_3x3: conv(32, 32, [3, 3], [0, 0], d),
            conv2d_2b_3x3: conv(32, 64, [3, 3], [1, 1], d),
            conv2d_3b_1x1: conv(64, 80, [1, 1], [0, 0], d),
            conv2d_4a_3x3: conv(80, 192, [3, 3], [0, 0], d),
            mixed_5b: InceptionA::new(192, 32, d),
            mixed_5c: InceptionA::new(256, 64, d),
            mixed_5d: InceptionA::new(288, 64, d),
            mixed_6a: InceptionB::new(288, d),
            mixed_6b: InceptionC::new(768, 128, d),
            mixed_6c: InceptionC::new(768, 160, d),
            mixed_6d: InceptionC::new(768, 160, d),
            mixed_6e: InceptionC::new(768, 192, d),
            mixed_7a: InceptionD::new(768, d),
            mixed_7b: InceptionE::new(1280, false, d),
            mixed_7c: InceptionE::new(2048, true, d),
            fc: LinearConfig::new(POOL3_DIM, NUM_CLASSES)
                .with_initializer(Initializer::Zeros)
                .init(d),
        }
    }
}

/// Every output the FID/IS/KID implementations read, for one batch.
#[derive(Debug, Clone)]
pub struct InceptionOutput {
    /// Global average of the first max pool (pytorch-fid block 0, torch-fidelity `"64"`): `[batch, 64]`.
    pub pool_64: Tensor<2>,
    /// Global average of the second max pool (block 1, `"192"`): `[batch, 192]`.
    pub pool_192: Tensor<2>,
    /// Global average after Mixed_6e (block 2, `"768"`): `[batch, 768]`.
    pub mixed_768: Tensor<2>,
    /// pool3, the FID features (block 3, `"2048"`): `[batch, 2048]`.
    pub pool3: Tensor<2>,
    /// `pool3 · Wᵀ` without the fc bias (what the original IS uses): `[batch, 1008]`.
    pub logits_unbiased: Tensor<2>,
    /// `pool3 · Wᵀ + b`: `[batch, 1008]`.
    pub logits: Tensor<2>,
}

fn global_avg(x: Tensor<4>) -> Tensor<2> {
    let [b, c, h, w] = x.dims();
    x.reshape([b, c, h * w]).mean_dim(2).reshape([b, c])
}

impl FidInception {
    /// Stem up to the first max pool: `[b, 3, H, W]` -> `[b, 64, h, w]`.
    fn block0(&self, x: Tensor<4>) -> Tensor<4> {
        let x = self.conv2d_1a_3x3.forward(x);
        let x = self.conv2d_2a_3x3.forward(x);
        let x = self.conv2d_2b_3x3.forward(x);
        max_pool_3x3_s2(x)
    }

    fn block1(&self, x: Tensor<4>) -> Tensor<4> {
        let x = self.conv2d_3b_1x1.forward(x);
        let x = self.conv2d_4a_3x3.forward(x);
        max_pool_3x3_s2(x)
    }

    fn block2(&self, x: Tensor<4>) -> Tensor<4> {
        let x = self.mixed_5b.forward(x);
        let x = self.mixed_5c.forward(x);
        let x = self.mixed_5d.forward(x);
        let x = self.mixed_6a.forward(x);
        let x = self.mixed_6b.forward(x);
        let x = self.mixed_6c.forward(x);
        let x = self.mixed_6d.forward(x);
        self.mixed_6e.forward(x)
    }

    fn block3(&self, x: Tensor<4>) -> Tensor<2> {
        let x = self.mixed_7a.forward(x);
        let x = self.mixed_7b.forward(x);
        let x = self.mixed_7c.forward(x);
        global_avg(x)
    }

    fn heads(&self, pool3: Tensor<2>) -> (Tensor<2>, Tensor<2>) {
        let unbiased = pool3.matmul(self.fc.weight.val());
        let logits = match &self.fc.bias {
            Some(bias) => unbiased.clone() + bias.val().unsqueeze_dim(0),
            None => unbiased.clone(),
        };
        (unbiased, logits)
    }

    /// pool3 features and logits of a preprocessed batch (see [`crate::Preprocess`]).
    ///
    /// # Shapes
    /// - `x`: `[batch, 3, 299, 299]`, normalised to about [-1, 1]
    /// - outputs: pool3 `[batch, 2048]`, logits without and with bias `[batch, 1008]`
    pub fn forward(&self, x: Tensor<4>) -> (Tensor<2>, Tensor<2>, Tensor<2>) {
        let pool3 = self.block3(self.block2(self.block1(self.block0(x))));
        let (unbiased, logits) = self.heads(pool3.clone());
        (pool3, unbiased, logits)
    }

    /// Only the 64-channel tap (cheap: the stem): `[batch, 3, H, W]` -> `[batch, 64]`.
    pub fn forward_pool_64(&self, x: Tensor<4>) -> Tensor<2> {
        global_avg(self.block0(x))
    }

    /// Every tap pytorch-fid and torch-fidelity expose.
    ///
    /// # Shapes
    /// - `x`: `[batch, 3, 299, 299]`, normalised
    pub fn forward_all(&self, x: Tensor<4>) -> InceptionOutput {
        let x0 = self.block0(x);
        let pool_64 = global_avg(x0.clone());
        let x1 = self.block1(x0);
        let pool_192 = global_avg(x1.clone());
        let x2 = self.block2(x1);
        let mixed_768 = global_avg(x2.clone());
        let pool3 = self.block3(x2);
        let (logits_unbiased, logits) = self.heads(pool3.clone());
        InceptionOutput {
            pool_64,
            pool_192,
            mixed_768,
            pool3,
            logits_unbiased,
            logits,
        }
    }
}
