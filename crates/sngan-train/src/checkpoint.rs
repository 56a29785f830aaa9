//! Checkpoints that resume a run bit-for-bit on the CPU: G, D, both Adam states, the EMA, the
//! step, the host RNG state and the data position. A checkpoint is a folder `step-<N>` that
//! appears complete by a rename (its files written and synced, their SHA-256 recorded in
//! `state.json`, then the folder renamed into place), after which `latest` is switched by an
//! atomic write; the two newest are kept. Opening one verifies the recorded digests, so a
//! damaged checkpoint is refused (and a run falls back to the one before it), and networks are
//! restored with `try_load_record`, which refuses a record of another shape.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::optim::OptimizerRecord;
use burn::prelude::Device;
use burn::store::ModuleRecord;
use burn::tensor::Bytes;
use serde::{Deserialize, Serialize};
use sngan_core::{SplitMix64, file_digests, sha256_hex, write_atomic};
use sngan_models::{Generator, GeneratorConfig};

use crate::error::{TrainError, io};
use crate::gan::Gan;

/// Checkpoints kept on disk; older ones are removed after a new one is complete.
const KEEP: usize = 2;

/// `state.json`: where the run stands, and the digest of every file beside it.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct State {
    step: usize,
    batches: u64,
    rng: u64,
    name: String,
    /// SHA-256 of each file of the checkpoint (absent in checkpoints of older versions).
    #[serde(default)]
    sha256: BTreeMap<String, String>,
}

fn invalid(path: &Path, message: impl std::fmt::Display) -> TrainError {
    TrainError::Invalid {
        path: path.to_path_buf(),
        message: message.to_string(),
    }
}

fn module_bytes<M: Module>(module: &M, path: &Path) -> Result<Vec<u8>, TrainError> {
    let bytes = module
        .clone()
        .into_record()
        .into_bytes()
        .map_err(|e| invalid(path, e))?;
    Ok(bytes.to_vec())
}

fn load_module<M: Module>(module: M, path: &Path) -> Result<M, TrainError> {
    let bytes = std::fs::read(path).map_err(io(path))?;
    let record =
        ModuleRecord::from_bytes(Bytes::from_bytes_vec(bytes)).map_err(|e| invalid(path, e))?;
    module.try_load_record(record).map_err(|e| invalid(path, e))
}

/// Saves `gan` under `dir/step-<N>` and points `dir/latest` at it; returns the folder.
pub fn save(gan: &Gan, dir: &Path) -> Result<PathBuf, TrainError> {
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let name = format!("step-{:08}", gan.step);
    let tmp = dir.join(format!(".{name}.partial"));
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(io(&tmp))?;
    }
    std::fs::create_dir_all(&tmp).map_err(io(&tmp))?;
    let mut files = vec![
        ("g.bpk", module_bytes(&gan.g, &tmp)?),
        ("d.bpk", module_bytes(&gan.d, &tmp)?),
    ];
    if let Some(ema) = &gan.ema {
        files.push(("ema.bpk", module_bytes(ema, &tmp)?));
    }
    for (file, opt) in [("opt_g.bpk", &gan.opt_g), ("opt_d.bpk", &gan.opt_d)] {
        let bytes = opt.to_record().into_bytes().map_err(|e| invalid(&tmp, e))?;
        files.push((file, bytes.to_vec()));
    }
    let mut sha256 = BTreeMap::new();
    for (file, bytes) in &files {
        write_atomic(&tmp.join(file), bytes)?;
        sha256.insert(file.to_string(), sha256_hex(bytes));
    }
    let state = State {
        step: gan.step,
        batches: gan.batches,
        rng: gan.rng.state(),
        name: gan.config().name.clone(),
        sha256,
    };
    let json = serde_json::to_vec_pretty(&state).expect("the state serialises");
    write_atomic(&tmp.join("state.json"), &json)?;
    let done = dir.join(&name);
    if done.exists() {
        std::fs::remove_dir_all(&done).map_err(io(&done))?;
    }
    std::fs::rename(&tmp, &done).map_err(io(&done))?;
    write_atomic(&dir.join("latest"), name.as_bytes())?;
    prune(dir)?;
    Ok(done)
}

/// The `step-*` folders of `dir`, oldest first.
fn steps(dir: &Path) -> Result<Vec<PathBuf>, TrainError> {
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let mut steps: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(io(dir))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.is_dir()
                && p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("step-"))
        })
        .collect();
    steps.sort();
    Ok(steps)
}

fn prune(dir: &Path) -> Result<(), TrainError> {
    for old in steps(dir)?.iter().rev().skip(KEEP) {
        std::fs::remove_dir_all(old).map_err(io(old))?;
    }
    Ok(())
}

/// The checkpoint folders of `dir`, newest (highest step) first. A folder exists only once
/// complete, so the newest is also the right one when a kill came between its rename and the
/// update of `latest` (which is kept for people and scripts, not read here).
pub fn list(dir: &Path) -> Result<Vec<PathBuf>, TrainError> {
    Ok(steps(dir)?.into_iter().rev().collect())
}

/// A checkpoint folder whose `state.json` parses and whose files match their recorded digests.
#[derive(Clone, Debug)]
pub struct Checkpoint {
    path: PathBuf,
    state: State,
}

impl Checkpoint {
    /// Opens and verifies the checkpoint at `path`.
    pub fn open(path: &Path) -> Result<Self, TrainError> {
        if !path.is_dir() {
            return Err(invalid(path, "is not a checkpoint folder (missing)"));
        }
        let state_path = path.join("state.json");
        let text = std::fs::read_to_string(&state_path).map_err(io(&state_path))?;
        let state: State = serde_json::from_str(&text).map_err(|e| invalid(&state_path, e))?;
        for (file, want) in &state.sha256 {
            let (_, found) = file_digests(&path.join(file))?;
            if &found != want {
                return Err(invalid(
                    &path.join(file),
                    format!("SHA-256 {found}, state.json records {want}: the file is damaged"),
                ));
            }
        }
        Ok(Self {
            path: path.to_path_buf(),
            state,
        })
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// G steps done at the checkpoint.
    pub fn step(&self) -> usize {
        self.state.step
    }

    /// Restores `gan` (built from the same config) to the checkpoint; on an error `gan` is
    /// left as it was.
    pub fn restore(&self, gan: &mut Gan) -> Result<(), TrainError> {
        let path = &self.path;
        if self.state.name != gan.config().name {
            return Err(invalid(
                &path.join("state.json"),
                format!(
                    "checkpoint of run '{}', expected '{}'",
                    self.state.name,
                    gan.config().name
                ),
            ));
        }
        let g = load_module(gan.g.clone(), &path.join("g.bpk"))?;
        let d = load_module(gan.d.clone(), &path.join("d.bpk"))?;
        let ema = match &gan.ema {
            Some(ema) => Some(load_module(ema.clone(), &path.join("ema.bpk"))?),
            None => None,
        };
        let mut optimizers = Vec::new();
        for file in ["opt_g.bpk", "opt_d.bpk"] {
            let file = path.join(file);
            let bytes = std::fs::read(&file).map_err(io(&file))?;
            let record = OptimizerRecord::from_bytes(Bytes::from_bytes_vec(bytes))
                .map_err(|e| invalid(&file, e))?;
            optimizers.push(record);
        }
        let opt_d = optimizers.pop().expect("two optimizer records");
        let opt_g = optimizers.pop().expect("two optimizer records");
        (gan.g, gan.d, gan.ema) = (g, d, ema);
        gan.opt_g = gan.opt_g.clone().load_record(opt_g);
        gan.opt_d = gan.opt_d.clone().load_record(opt_d);
        gan.step = self.state.step;
        gan.batches = self.state.batches;
        gan.rng = SplitMix64::new(self.state.rng);
        Ok(())
    }

    /// The network samples are drawn from (the EMA of G when the run keeps one, else G), built
    /// from `config` on the inference `device`.
    pub fn generator(
        &self,
        config: &GeneratorConfig,
        device: &Device,
    ) -> Result<Generator, TrainError> {
        let ema = self.path.join("ema.bpk");
        let file = match ema.is_file() {
            true => ema,
            false => self.path.join("g.bpk"),
        };
        load_module(config.init(device).valid(), &file)
    }
}

/// The newest checkpoint of `dir` that opens and verifies, and a line for each newer one
/// skipped, saying why.
pub fn newest(dir: &Path) -> Result<(Option<Checkpoint>, Vec<String>), TrainError> {
    let mut skipped = Vec::new();
    for path in list(dir)? {
        match Checkpoint::open(&path) {
            Ok(checkpoint) => return Ok((Some(checkpoint), skipped)),
            Err(e) => skipped.push(format!("skipping checkpoint {}: {e}", path.display())),
        }
    }
    Ok((None, skipped))
}
