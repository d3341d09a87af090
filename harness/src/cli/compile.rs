//! `harbor models compile`: a model as Rust source for a firmware that runs one fixed model
//! with harbor-core's kernels, without the model reader and preparation (docs/int8.md).

use std::path::PathBuf;

use clap::Args;
use harbor_core::interpreter::Interpreter;
use harbor_core::tflite::Model;

use super::{CliError, CliResult, Exit};
use crate::model::saved::MODEL_FILE;

#[derive(Debug, Args)]
pub struct CompileArgs {
    /// An int8 .tflite, or a model directory holding model.tflite.
    model: PathBuf,
    /// The Rust file to write (include it in a module of a crate that depends on harbor-core).
    #[arg(long)]
    out: PathBuf,
}

/// Arena for preparing on the host: any model the parser accepts fits.
const HOST_ARENA: usize = 16 << 20;

pub fn run(args: &CompileArgs) -> CliResult {
    let path = if args.model.is_dir() {
        args.model.join(MODEL_FILE)
    } else {
        args.model.clone()
    };
    let bytes =
        std::fs::read(&path).map_err(|e| CliError::usage(format!("{}: {e}", path.display())))?;
    let refused =
        |e: harbor_core::tflite::Error| CliError::usage(format!("{}: {e}", path.display()));
    let model = Model::parse(&bytes).map_err(refused)?;
    let needed = Interpreter::arena_required(&model).map_err(refused)?;
    let mut arena = vec![0u8; needed.min(HOST_ARENA)];
    let interpreter = Interpreter::new(model, &mut arena).map_err(refused)?;
    let origin = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let source = interpreter.rust_source(&origin);
    super::write_atomically(&args.out, source.text.as_bytes())?;
    outln!(
        "wrote {} ({} kernel calls; activations {} B of arena)",
        args.out.display(),
        source.steps,
        source.arena
    );
    Ok(Exit::Ok)
}
