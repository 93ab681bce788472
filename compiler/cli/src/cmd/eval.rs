//! `nibble eval`: scores model outputs — top-1 (or CTC character) accuracy against labels,
//! decision agreement and SQNR against a reference.

use crate::error::{CliError, Res};
use crate::metrics::{agreement, Task};
use crate::npy::read_f32;
use ndarray::ArrayD;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// Outputs as written by `nibble run` or the generated program: float32 .npy [N, …] (the first output).
    outputs: PathBuf,
    /// Labels: integer classes (.npy, N), or text lines (.txt, one per sample; needs --keys).
    #[arg(long)]
    labels: Option<PathBuf>,
    /// Character set of a CTC text output [N, T, keys + 2] (one character per line): decode
    /// greedily, score character accuracy and exact lines.
    #[arg(long)]
    keys: Option<PathBuf>,
    /// Reference outputs (e.g. the float model's) for top-1 agreement and SQNR.
    #[arg(long)]
    reference: Option<PathBuf>,
}

pub fn run(a: Args) -> Res<()> {
    let out = read_f32(&a.outputs)?;
    let n = out.shape().first().copied().unwrap_or(0);
    if n == 0 || out.ndim() < 2 {
        return Err(CliError::Input(format!(
            "'{}' must be a non-empty [N, …] array",
            a.outputs.display()
        )));
    }
    let task = Task::load(a.labels.as_deref(), a.keys.as_deref(), n)?;
    let decisions = decide(&task, &out)?;
    let mut parts = Vec::new();
    if let Some((metric, exact)) = task.score(&decisions) {
        parts.push(format!("{} {metric:.2} %", task.metric_name()));
        if let Some(e) = exact {
            parts.push(format!("lines exact {e:.2} %"));
        }
    }
    if let Some(r) = &a.reference {
        let refa = read_f32(r)?;
        if refa.shape() != out.shape() {
            return Err(CliError::Input(format!(
                "reference shape {:?} differs from outputs {:?}",
                refa.shape(),
                out.shape()
            )));
        }
        let agree = agreement(&decisions, &decide(&task, &refa)?);
        let (sig, noise) = refa
            .iter()
            .zip(out.iter())
            .fold((0f64, 0f64), |(s, e), (&a, &b)| {
                (s + (a as f64).powi(2), e + ((a - b) as f64).powi(2))
            });
        parts.push(format!(
            "decisions equal to the reference's {agree:.2} %, SQNR {:.1} dB",
            10.0 * (sig / noise.max(1e-30)).log10()
        ));
    }
    println!("{}", parts.join("; "));
    Ok(())
}

/// The decision of every sample (row) of `a`.
fn decide(task: &Task, a: &ArrayD<f32>) -> Res<Vec<String>> {
    a.outer_iter()
        .map(|r| task.decode(&r.iter().copied().collect::<Vec<_>>()))
        .collect()
}
