//! Imports of the peers' checkpoints (sngan-convert) against the outputs the peers' own module
//! layouts computed in eval mode (fixtures/convert_*/export.py), the error cases, and exports
//! that read back to the same tensors.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use sngan::burn::prelude::*;
use sngan::burn::tensor::TensorData;
use sngan::convert::{ConvertError, Net, Source, import};
use sngan::core::npy::Npz;
use sngan::models::resnet::{ResNetDiscriminatorConfig, ResNetGeneratorConfig};
use sngan::models::{DiscriminatorConfig, GeneratorConfig};
use sngan::train::{TrainConfig, experiments};

use crate::{assert_close, values};

fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/it/fixtures")
        .join(path)
}

/// The arrays of a fixture folder's `cases.npz`, by name.
struct Cases(HashMap<String, (Vec<usize>, Vec<f64>)>);

impl Cases {
    fn read(folder: &str) -> Self {
        let path = fixture(folder).join("cases.npz");
        let mut npz = Npz::open(&path).expect("fixture cases are committed");
        let mut out = HashMap::new();
        for name in npz.names() {
            let array = npz.array(&name).unwrap();
            // Classes and strides are int64, network outputs float32.
            let data = array.to_f64(&name).unwrap_or_else(|_| {
                let ints = array.to_i64(&name).unwrap();
                ints.into_iter().map(|x| x as f64).collect()
            });
            out.insert(name, (array.shape, data));
        }
        Self(out)
    }

    fn floats(&self, name: &str) -> Vec<f32> {
        self.0[name].1.iter().map(|&x| x as f32).collect()
    }

    fn tensor<const D: usize>(&self, name: &str, device: &Device) -> Tensor<D> {
        let (shape, _) = &self.0[name];
        Tensor::from_data(TensorData::new(self.floats(name), shape.clone()), device)
    }

    fn classes(&self, name: &str, device: &Device) -> Tensor<1, Int> {
        let (shape, data) = &self.0[name];
        let ids: Vec<i64> = data.iter().map(|&x| x as i64).collect();
        Tensor::from_data(TensorData::new(ids, shape.clone()), device)
    }
}

/// `config` at the fixtures' widths and 10 classes: G maps `g` (its first entry the dense
/// layer's), D maps `d`.
fn narrow(mut config: TrainConfig, z_dim: usize, g: Vec<usize>, d: Vec<usize>) -> TrainConfig {
    let (GeneratorConfig::ResNet(gc), DiscriminatorConfig::ResNet(dc)) =
        (&mut config.generator, &mut config.discriminator)
    else {
        panic!("ResNet presets")
    };
    gc.z_dim = z_dim;
    gc.channels = g;
    gc.n_classes = Some(10);
    dc.channels = d;
    dc.n_classes = Some(10);
    config
}

/// The experiment with the StudioGAN BigGAN-32 networks.
fn studiogan_biggan(z_dim: usize, shared: usize, g: Vec<usize>, d: Vec<usize>) -> TrainConfig {
    let mut config = experiments::biggan_cifar10();
    config.generator = GeneratorConfig::ResNet(
        ResNetGeneratorConfig::biggan_cifar32_studio().with_shared_dim(Some(shared)),
    );
    config.discriminator =
        DiscriminatorConfig::ResNet(ResNetDiscriminatorConfig::biggan_cifar32_studio());
    narrow(config, z_dim, g, d)
}

fn files(folder: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(fixture(folder))
        .expect("fixture folder")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "pth" || e == "npz"))
        .filter(|p| !p.ends_with("cases.npz"))
        .collect();
    files.sort();
    files
}

/// The fixtures' D input: `x[b, c, h, w] = sin(0.37 h + 0.61 w + 1.3 c + 2.1 b)` (export.py's
/// `image_batch`).
fn image_batch(batch: usize, size: usize, device: &Device) -> Tensor<4> {
    let mut data = Vec::with_capacity(batch * 3 * size * size);
    for b in 0..batch {
        for c in 0..3 {
            for h in 0..size {
                for w in 0..size {
                    let t = 0.37 * h as f64 + 0.61 * w as f64 + 1.3 * c as f64 + 2.1 * b as f64;
                    data.push(t.sin() as f32);
                }
            }
        }
    }
    Tensor::from_data(TensorData::new(data, [batch, 3, size, size]), device)
}

/// Reverses the colour channels (BGR <-> RGB).
fn flip_channels(x: Tensor<4>) -> Tensor<4> {
    x.flip([1])
}

/// Imports `files`, then runs G (and the EMA G, and D) in eval mode on the case's inputs and
/// compares with the peer's outputs to 1e-5 of their scale; for a BGR peer our images are the
/// peer's with the channels reversed.
fn reproduces(
    source: Source,
    files: &[PathBuf],
    config: TrainConfig,
    cases: &Cases,
    case: &str,
    bgr: bool,
) {
    let device = Device::flex();
    let size = config.generator.image_size();
    let imported = import(source, files, config, &device.clone().autodiff())
        .unwrap_or_else(|e| panic!("{case}: {e}"));
    let gan = &imported.gan;
    let z = cases.tensor::<2>(&format!("{case}.z"), &device);
    let y = cases.classes(&format!("{case}.y"), &device);
    let stride = cases.0[&format!("{case}.stride")].1[0] as usize;
    let peer_order = |x: Tensor<4>| if bgr { flip_channels(x) } else { x };
    let has = |net: Net| imported.sources.iter().any(|(n, _)| *n == net);
    let mut worst = 0f32;
    let mut compare = |what: &str, actual: Tensor<4>, key: &str| {
        let actual = values(subsample(peer_order(actual), stride));
        let expected = cases.floats(key);
        assert_close(&format!("{case} {what}"), &actual, &expected, 1e-5);
        worst = worst.max(max_relative(&actual, &expected));
    };
    if has(Net::Generator) {
        let out = gan.g.valid().forward(z.clone(), Some(y.clone()));
        compare("G", out, &format!("{case}.g"));
    }
    if has(Net::GeneratorEma) {
        let ema = gan.ema.as_ref().expect("an EMA generator");
        compare(
            "G_ema",
            ema.forward(z, Some(y.clone())),
            &format!("{case}.g_ema"),
        );
    }
    if has(Net::Discriminator) {
        let expected = cases.floats(&format!("{case}.d"));
        let x = peer_order(image_batch(expected.len(), size, &device));
        let out = values(gan.d.valid().forward(x, Some(y)));
        assert_close(&format!("{case} D"), &out, &expected, 1e-5);
        worst = worst.max(max_relative(&out, &expected));
    }
    eprintln!(
        "{case}: {:?} reproduced, max |diff| / scale {worst:.1e}",
        imported.sources.iter().map(|(n, _)| *n).collect::<Vec<_>>()
    );
}

/// Every `stride`-th pixel of each row and column, as the fixtures keep large outputs.
fn subsample(x: Tensor<4>, stride: usize) -> Tensor<4> {
    let [b, c, h, w] = x.dims();
    let x = x.reshape([b, c, h / stride, stride, w / stride, stride]);
    x.narrow(3, 0, 1)
        .narrow(5, 0, 1)
        .reshape([b, c, h / stride, w / stride])
}

/// `max |a - b| / max |b|`.
fn max_relative(actual: &[f32], expected: &[f32]) -> f32 {
    let scale = expected.iter().fold(0f32, |m, x| m.max(x.abs()));
    let diff = actual
        .iter()
        .zip(expected)
        .fold(0f32, |m, (a, b)| m.max((a - b).abs()));
    diff / scale
}

#[test]
fn studiogan_sngan_sagan_and_biggan_reproduce_their_outputs() {
    let cases = Cases::read("convert_studiogan");
    let (g, d) = (vec![8; 4], vec![3, 8, 8, 8, 8]);
    let sngan = narrow(
        experiments::sngan_cifar10_resnet_projection(),
        32,
        g.clone(),
        d.clone(),
    );
    for case in ["sngan", "sngan_old"] {
        let files = files(&format!("convert_studiogan/{case}"));
        reproduces(
            Source::StudioGan,
            &files,
            sngan.clone(),
            &cases,
            case,
            false,
        );
    }
    let sagan = narrow(experiments::sagan_cifar10(), 32, g.clone(), d.clone());
    let sagan_files = files("convert_studiogan/sagan");
    reproduces(
        Source::StudioGan,
        &sagan_files,
        sagan,
        &cases,
        "sagan",
        false,
    );
    let biggan = studiogan_biggan(40, 8, g, d);
    let biggan_files = files("convert_studiogan/biggan");
    reproduces(
        Source::StudioGan,
        &biggan_files,
        biggan,
        &cases,
        "biggan",
        false,
    );
}

/// The one mmgen file of a case.
fn mmgen_file(prefix: &str) -> Vec<PathBuf> {
    files("convert_mmgen")
        .into_iter()
        .filter(|f| f.file_name().unwrap().to_string_lossy().starts_with(prefix))
        .collect()
}

#[test]
fn mmgen_sngan_proj_sagan_and_biggan_reproduce_their_outputs() {
    let cases = Cases::read("convert_mmgen");
    let (g, d) = (vec![8; 4], vec![3, 8, 8, 8, 8]);
    let sngan = narrow(
        experiments::sngan_cifar10_resnet_projection(),
        32,
        g.clone(),
        d.clone(),
    );
    for (case, file) in [
        (
            "sngan_proj_wo",
            "sngan_proj_cifar10_32_lr-2e-4_b64x1_woReLUinplace",
        ),
        (
            "sngan_proj_w",
            "sngan_proj_cifar10_32_lr-2e-4_b64x1_wReLUinplace",
        ),
    ] {
        reproduces(
            Source::Mmgen,
            &mmgen_file(file),
            sngan.clone(),
            &cases,
            case,
            true,
        );
    }
    let sagan = narrow(experiments::sagan_cifar10(), 32, g.clone(), d.clone());
    reproduces(
        Source::Mmgen,
        &mmgen_file("sagan_cifar10"),
        sagan,
        &cases,
        "sagan",
        true,
    );
    let biggan = narrow(experiments::biggan_cifar10(), 32, g, d);
    reproduces(
        Source::Mmgen,
        &mmgen_file("biggan_cifar10"),
        biggan,
        &cases,
        "biggan",
        true,
    );

    // BigGAN-128 converted from BigGAN-PyTorch: ajbrock SN, RGB, mmagic's EMA prefix.
    let cvt_files = mmgen_file("biggan_imagenet1k_128x128_cvt");
    reproduces(
        Source::Mmgen,
        &cvt_files,
        biggan128(),
        &cases,
        "biggan_cvt",
        false,
    );
}

/// The BigGAN-128 experiment at the fixtures' width: G 16-16-16-8-8-8, D 8-8-8-16-16-16, a shared
/// embedding of 8, 10 classes.
fn biggan128() -> TrainConfig {
    let mut config = narrow(
        experiments::biggan_imagenet128(),
        120,
        vec![16, 16, 16, 8, 8, 8],
        vec![3, 8, 8, 8, 16, 16, 16],
    );
    if let GeneratorConfig::ResNet(g) = &mut config.generator {
        g.shared_dim = Some(8);
    }
    config
}

#[test]
fn biggan_pytorch_legacy_files_reproduce_their_outputs() {
    let cases = Cases::read("convert_biggan_pytorch");
    let files: Vec<PathBuf> = ["G.pth", "G_ema.pth", "D.pth"]
        .iter()
        .map(|f| fixture("convert_biggan_pytorch").join(f))
        .collect();
    reproduces(
        Source::BigGanPytorch,
        &files,
        biggan128(),
        &cases,
        "biggan",
        false,
    );

    // The training-state file is refused by name, not read as a network.
    let mut with_state = files.clone();
    with_state.push(fixture("convert_biggan_pytorch/state_dict.pth"));
    let text = error_text(import(
        Source::BigGanPytorch,
        &with_state,
        biggan128(),
        &Device::flex().autodiff(),
    ));
    assert!(
        text.contains("state_dict.pth") && text.contains("training counters"),
        "{text}"
    );
}

fn studiogan_g(file: &str) -> Result<sngan::convert::Imported, ConvertError> {
    let config = narrow(
        experiments::sngan_cifar10_resnet_projection(),
        32,
        vec![8; 4],
        vec![3, 8, 8, 8, 8],
    );
    let path = fixture("convert_studiogan/errors").join(file);
    import(
        Source::StudioGan,
        &[path],
        config,
        &Device::flex().autodiff(),
    )
}

fn error_text(result: Result<sngan::convert::Imported, ConvertError>) -> String {
    match result {
        Ok(_) => panic!("the import should fail"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn unmapped_missing_and_misshapen_keys_are_each_listed() {
    let text = error_text(studiogan_g("model=G-unmapped.pth"));
    assert!(text.contains("model=G-unmapped.pth"), "{text}");
    assert!(
        text.contains("state_dict.blocks.0.0.bn1.gain.weight_extra (nearest expected key: state_dict.blocks.0.0.bn1.gain.weight)"),
        "{text}"
    );
    assert!(text.contains("state_dict.linear9.weight"), "{text}");
    assert!(
        text.contains("missing keys (1):\n    state_dict.blocks.0.0.bn1.gain.weight"),
        "{text}"
    );

    let text = error_text(studiogan_g("model=G-missing.pth"));
    assert!(text.contains("missing keys (2)"), "{text}");
    assert!(text.contains("state_dict.conv2d5.bias"), "{text}");
    assert!(
        text.contains("state_dict.blocks.2.0.bn2.bn.running_var"),
        "{text}"
    );

    let text = error_text(studiogan_g("model=G-shape.pth"));
    assert!(
        text.contains("state_dict.linear0.weight: expected [128, 32], found [7, 32]"),
        "{text}"
    );
}

#[test]
fn a_pickle_calling_a_function_is_refused_and_a_truncated_file_is_an_error() {
    let text = error_text(studiogan_g("model=G-calls-os-system.pth"));
    assert!(
        text.contains("posix.system") && text.contains("nothing from the file was executed"),
        "{text}"
    );

    let whole = std::fs::read(fixture(
        "convert_studiogan/sngan/model=G-best-weights-step=3.pth",
    ))
    .unwrap();
    let dir = std::env::temp_dir().join(format!("sngan-convert-truncated-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("model=G-best-weights-step=3.pth");
    std::fs::write(&path, &whole[..whole.len() * 2 / 3]).unwrap();
    let config = narrow(
        experiments::sngan_cifar10_resnet_projection(),
        32,
        vec![8; 4],
        vec![3, 8, 8, 8, 8],
    );
    let text = error_text(import(
        Source::StudioGan,
        std::slice::from_ref(&path),
        config,
        &Device::flex().autodiff(),
    ));
    assert!(
        text.contains(&path.display().to_string()) && text.contains("not a readable checkpoint"),
        "{text}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn chainer_sngan_projection_128_reproduces_its_outputs() {
    let cases = Cases::read("convert_chainer");
    let config = narrow(
        experiments::sngan_imagenet128_projection(),
        16,
        vec![32, 32, 16, 8, 4, 2],
        vec![3, 2, 4, 8, 16, 32, 32],
    );
    reproduces(
        Source::Chainer,
        &files("convert_chainer"),
        config,
        &cases,
        "chainer",
        false,
    );
}

/// The float tensors of a `torch.save`d state dict (under `key` when given), with their shapes.
fn state_dict(path: &Path, key: Option<&str>) -> HashMap<String, (Vec<usize>, Vec<u8>)> {
    use sngan::burn::store::pytorch_reader::PytorchReader;
    let reader = match key {
        Some(key) => PytorchReader::with_top_level_key(path, key),
        None => PytorchReader::new(path),
    }
    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    reader
        .tensors()
        .iter()
        .map(|(k, t)| (k.clone(), (t.shape().to_vec(), t.read().unwrap())))
        .collect()
}

/// Same keys and shapes; the same bytes except `num_batches_tracked` (ours are 0).
#[track_caller]
fn assert_same_state(
    what: &str,
    ours: &HashMap<String, (Vec<usize>, Vec<u8>)>,
    theirs: &HashMap<String, (Vec<usize>, Vec<u8>)>,
) {
    let mut keys: Vec<&String> = ours.keys().collect();
    keys.sort();
    let mut expected: Vec<&String> = theirs.keys().collect();
    expected.sort();
    assert_eq!(keys, expected, "{what}: key sets");
    for key in keys {
        assert_eq!(ours[key].0, theirs[key].0, "{what}: {key} shape");
        if !key.ends_with("num_batches_tracked") {
            assert!(ours[key].1 == theirs[key].1, "{what}: {key} values differ");
        }
    }
}

#[test]
fn exports_in_studiogan_layout_hold_the_imported_tensors() {
    use sngan::convert::{ExportFormat, convert, export};
    let device = Device::flex();
    let dir = std::env::temp_dir().join(format!("sngan-convert-export-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    // SNGAN_EXPORT_DIR keeps the files for `export.py --check DIR` (PyTorch's strict load).
    let keep = std::env::var_os("SNGAN_EXPORT_DIR").map(PathBuf::from);
    let (g, d) = (vec![8; 4], vec![3, 8, 8, 8, 8]);
    let cases = [
        (
            "sngan",
            narrow(
                experiments::sngan_cifar10_resnet_projection(),
                32,
                g.clone(),
                d.clone(),
            ),
        ),
        ("biggan", studiogan_biggan(40, 8, g, d)),
    ];
    for (case, config) in cases {
        let sources = files(&format!("convert_studiogan/{case}"));
        let source = |model: &str| {
            let prefix = format!("model={model}-");
            sources
                .iter()
                .find(|f| {
                    f.file_name()
                        .unwrap()
                        .to_string_lossy()
                        .starts_with(&prefix)
                })
                .unwrap()
        };
        let run = convert(
            Source::StudioGan,
            &sources,
            config,
            &dir.join(case).join("run"),
            &device.clone().autodiff(),
        )
        .unwrap()
        .run;
        let out = keep
            .as_ref()
            .map_or(dir.join(case).join("studiogan"), |k| k.join(case));
        let written = export(&run, ExportFormat::StudioGan, None, &out, &device).unwrap();
        assert!(written.notes.is_empty(), "{:?}", written.notes);
        assert_eq!(written.files.len(), sources.len(), "{case}");
        for file in &sources {
            let name = file.file_name().unwrap().to_string_lossy().to_string();
            let model = &name[6..name.find("-best").unwrap()];
            let ours = out.join(format!("model={model}-current-weights-step=0.pth"));
            let what = format!("{case} {model}");
            assert_same_state(
                &what,
                &state_dict(&ours, Some("state_dict")),
                &state_dict(file, Some("state_dict")),
            );
        }

        let bare = dir.join(case).join("D.pth");
        export(
            &run,
            ExportFormat::PytorchStateDict,
            Some(Net::Discriminator),
            &bare,
            &device,
        )
        .unwrap();
        let theirs = state_dict(source("D"), Some("state_dict"));
        assert_same_state(&format!("{case} bare D"), &state_dict(&bare, None), &theirs);

        // The default network: the EMA generator when there is one.
        let st = dir.join(case).join("G.safetensors");
        export(&run, ExportFormat::Safetensors, None, &st, &device).unwrap();
        let bytes = std::fs::read(&st).unwrap();
        let tensors = safetensors::SafeTensors::deserialize(&bytes).unwrap();
        let ours: HashMap<String, (Vec<usize>, Vec<u8>)> = tensors
            .tensors()
            .into_iter()
            .map(|(k, v)| (k, (v.shape().to_vec(), v.data().to_vec())))
            .collect();
        let generator = if case == "biggan" { "G_ema" } else { "G" };
        let theirs = state_dict(source(generator), Some("state_dict"));
        assert_same_state(&format!("{case} safetensors {generator}"), &ours, &theirs);
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_converted_run_opens_samples_and_resumes_from_the_imported_networks() {
    use sngan::core::Images;
    use sngan::data::ImageSource;
    use sngan::train::{Classes, Latents, Run, RunOptions, SampleSpec};
    let device = Device::flex();
    let dir = std::env::temp_dir().join(format!("sngan-convert-resume-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let config = narrow(
        experiments::sngan_cifar10_resnet_projection(),
        32,
        vec![8; 4],
        vec![3, 8, 8, 8, 8],
    );
    let files = files("convert_studiogan/sngan");
    sngan::convert::convert(
        Source::StudioGan,
        &files,
        config,
        &dir,
        &device.clone().autodiff(),
    )
    .unwrap();
    let text = match sngan::convert::convert(
        Source::StudioGan,
        &files,
        experiments::sngan_cifar10_resnet_projection(),
        &dir,
        &device.clone().autodiff(),
    ) {
        Ok(_) => panic!("a second convert into the same run directory is refused"),
        Err(e) => e.to_string(),
    };
    assert!(text.contains("already holds a run"), "{text}");

    // The run opens as any run: its generator, read back from the checkpoint, is StudioGAN's,
    // and it samples as `sngan sample` does.
    let run = Run::open(&dir).unwrap();
    assert_eq!(run.checkpoint().map(|c| c.step()), Some(0));
    let cases = Cases::read("convert_studiogan");
    let z = cases.tensor::<2>("sngan.z", &device);
    let y = cases.classes("sngan.y", &device);
    let stride = cases.0["sngan.stride"].1[0] as usize;
    let (g, step) = run.generator(&device).unwrap();
    assert_eq!(step, 0);
    let out = values(subsample(g.forward(z.clone(), Some(y.clone())), stride));
    assert_close("opened G", &out, &cases.floats("sngan.g"), 1e-5);
    let spec = SampleSpec {
        n: 4,
        seed: 7,
        latents: Latents::Independent,
        classes: Classes::Fixed(3),
        truncation: None,
        resize: None,
    };
    let images = run.sample(&spec, &device).unwrap();
    assert_eq!(images.view().shape(), [4, 32, 32, 3]);
    assert!(images.labels.iter().all(|l| *l == Some(3)));

    // Resume with nothing left to train: the networks are the checkpoint's, i.e. StudioGAN's.
    let pixels = (0..4 * 32 * 32 * 3).map(|i| (i * 37 % 251) as u8).collect();
    let mut real = Images::from_nhwc(pixels, [4, 32, 32, 3]).unwrap();
    real.labels = (0..4).map(|i| Some(i % 10)).collect();
    real.num_classes = Some(10);
    let real: std::sync::Arc<dyn ImageSource> = std::sync::Arc::new(real);
    let options = RunOptions {
        resume: true,
        quiet: true,
        stop_at: Some(0),
        ..RunOptions::new(dir.clone())
    };
    let summary =
        sngan::train::train(run.config(), real, &device.clone().autodiff(), &options).unwrap();
    assert_eq!(summary.step, 0);
    let out = values(subsample(summary.gan.g.valid().forward(z, Some(y)), stride));
    assert_close("resumed G", &out, &cases.floats("sngan.g"), 1e-5);
    std::fs::remove_dir_all(dir).unwrap();
}
