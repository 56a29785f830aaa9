//! Checkpoints that resume a run bit-for-bit on the CPU: G, D, both Adam states, the EMA, the
//! step, the host RNG state and the data position, written atomically (a complete directory
//! appears by rename, then `latest` is switched by rename), read fully into memory on load.

use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::optim::OptimizerRecord;
use burn::store::ModuleRecord;
use burn::tensor::Bytes;
use serde::{Deserialize, Serialize};

use crate::error::{TrainError, io};
use crate::gan::Gan;
use crate::rng::HostRng;

/// Checkpoints kept on disk; older ones are removed after a new one is complete.
const KEEP: usize = 2;

#[derive(Serialize, Deserialize)]
struct State {
    step: usize,
    batches: u64,
    rng: u64,
    name: String,
}

fn invalid(path: &Path, message: impl std::fmt::Display) -> TrainError {
    TrainError::Invalid {
        path: path.to_path_buf(),
        message: message.to_string(),
    }
}

/// Writes `bytes` to `path` through a temporary file and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), TrainError> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).map_err(io(&tmp))?;
    std::fs::rename(&tmp, path).map_err(io(path))
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

/// Saves `gan` under `dir/step-<N>` and points `dir/latest` at it; returns the directory.
pub fn save(gan: &Gan, dir: &Path) -> Result<PathBuf, TrainError> {
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let name = format!("step-{:08}", gan.step);
    let tmp = dir.join(format!(".{name}.partial"));
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(io(&tmp))?;
    }
    std::fs::create_dir_all(&tmp).map_err(io(&tmp))?;
    let write = |file: &str, bytes: Vec<u8>| {
        std::fs::write(tmp.join(file), bytes).map_err(io(tmp.join(file)))
    };
    write("g.bpk", module_bytes(&gan.g, &tmp)?)?;
    write("d.bpk", module_bytes(&gan.d, &tmp)?)?;
    if let Some(ema) = &gan.ema {
        write("ema.bpk", module_bytes(ema, &tmp)?)?;
    }
    for (file, opt) in [("opt_g.bpk", &gan.opt_g), ("opt_d.bpk", &gan.opt_d)] {
        let bytes = opt.to_record().into_bytes().map_err(|e| invalid(&tmp, e))?;
        write(file, bytes.to_vec())?;
    }
    let state = State {
        step: gan.step,
        batches: gan.batches,
        rng: gan.rng.state(),
        name: gan.config().name.clone(),
    };
    write(
        "state.json",
        serde_json::to_vec_pretty(&state).expect("state serialises"),
    )?;
    let done = dir.join(&name);
    if done.exists() {
        std::fs::remove_dir_all(&done).map_err(io(&done))?;
    }
    std::fs::rename(&tmp, &done).map_err(io(&done))?;
    write_atomic(&dir.join("latest"), name.as_bytes())?;
    prune(dir)?;
    Ok(done)
}

fn prune(dir: &Path) -> Result<(), TrainError> {
    let mut steps: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(io(dir))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("step-"))
        })
        .collect();
    steps.sort();
    for old in steps.iter().rev().skip(KEEP) {
        std::fs::remove_dir_all(old).map_err(io(old))?;
    }
    Ok(())
}

/// The checkpoint `dir/latest` points at, if any.
pub fn latest(dir: &Path) -> Result<Option<PathBuf>, TrainError> {
    let pointer = dir.join("latest");
    if !pointer.exists() {
        return Ok(None);
    }
    let name = std::fs::read_to_string(&pointer).map_err(io(&pointer))?;
    let path = dir.join(name.trim());
    if !path.is_dir() {
        return Err(invalid(
            &pointer,
            format!("points at {}, which is missing", path.display()),
        ));
    }
    Ok(Some(path))
}

/// Restores `gan` (built from the same config) from checkpoint directory `path`.
pub fn load(gan: &mut Gan, path: &Path) -> Result<(), TrainError> {
    let state_path = path.join("state.json");
    let text = std::fs::read_to_string(&state_path).map_err(io(&state_path))?;
    let state: State = serde_json::from_str(&text).map_err(|e| invalid(&state_path, e))?;
    if state.name != gan.config().name {
        return Err(invalid(
            &state_path,
            format!(
                "checkpoint of run '{}', expected '{}'",
                state.name,
                gan.config().name
            ),
        ));
    }
    gan.g = load_module(gan.g.clone(), &path.join("g.bpk"))?;
    gan.d = load_module(gan.d.clone(), &path.join("d.bpk"))?;
    if let Some(ema) = gan.ema.take() {
        gan.ema = Some(load_module(ema, &path.join("ema.bpk"))?);
    }
    for (file, opt) in [("opt_g.bpk", &mut gan.opt_g), ("opt_d.bpk", &mut gan.opt_d)] {
        let file = path.join(file);
        let bytes = std::fs::read(&file).map_err(io(&file))?;
        let record = OptimizerRecord::from_bytes(Bytes::from_bytes_vec(bytes))
            .map_err(|e| invalid(&file, e))?;
        *opt = opt.clone().load_record(record);
    }
    gan.step = state.step;
    gan.batches = state.batches;
    gan.rng = HostRng::new(state.rng);
    Ok(())
}
