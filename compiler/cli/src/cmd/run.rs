//! `nibble run`: a model through the reference interpreters — .onnx or graph-level .mlir with
//! the float interpreter, qnt or tile level with the integer one (bit-exact; the qnt level as
//! its lowering to the tile level means it).

use crate::error::Res;
use crate::files::{create_dir, import_shape, input_shape, read_text};
use crate::npy::{read_batch, write_f32};
use crate::progress::bar;
use nibble_driver::{InputShape, TargetOption};
use nibble_interp::{float::FloatProgram, integer::IntProgram};
use nibble_ir::Func;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    file: PathBuf,
    /// For .onnx files: fix the input shape where the model leaves it dynamic: NAME=1,3,48,192.
    #[arg(long, value_parser = nibble_driver::parse::input_shape)]
    input_shape: Option<InputShape>,
    /// float32 .npy, N x the model's input shape.
    #[arg(long)]
    input: PathBuf,
    /// Directory for out0.npy, out1.npy, …
    #[arg(long)]
    out_dir: PathBuf,
    /// Print the median and total interpreter time per sample (single thread).
    #[arg(long)]
    timing: bool,
}

/// Runs one input sample through an interpreter, returning every output.
type RunOne<'a> = dyn Fn(&[f32]) -> Res<Vec<Vec<f32>>> + 'a;

pub fn run(a: Args) -> Res<()> {
    let driver = crate::plugins::driver()?;
    let f = if a.file.extension().is_some_and(|e| e == "onnx") {
        let shape = import_shape(a.input_shape.as_ref(), Some(&a.input))?;
        driver.import(&a.file, shape.as_ref())?
    } else {
        driver.parse(&read_text(&a.file)?, &a.file.display().to_string())?
    };
    let level = level(&f);
    let f = if level == "qnt" {
        driver.lower_qnt(&f, &TargetOption::default())?
    } else {
        f
    };
    let (n, data) = read_batch(&a.input, &input_shape(&f))?;
    let per = data.len().checked_div(n).unwrap_or(0);
    let run_one: Box<RunOne> = if level == "graph" {
        let p = FloatProgram::new(&f)?;
        Box::new(move |x| Ok(p.run(x, |_, _| {})?))
    } else {
        let p = IntProgram::new(&f)?;
        Box::new(move |x| Ok(p.run(x)?))
    };
    let mut outs: Vec<Vec<f32>> = vec![Vec::new(); f.returns.len()];
    let mut times = Vec::with_capacity(n);
    let pb = bar(n, "running");
    for s in 0..n {
        let start = std::time::Instant::now();
        let result = run_one(&data[s * per..(s + 1) * per])?;
        times.push(start.elapsed().as_secs_f64() * 1e3);
        for (o, v) in outs.iter_mut().zip(result) {
            o.extend(v);
        }
        pb.inc(1);
    }
    pb.finish_and_clear();
    if a.timing && n > 0 {
        let total: f64 = times.iter().sum();
        times.sort_by(f64::total_cmp);
        eprintln!("{level} interpreter: median {:.3} ms per sample over {n} samples (min {:.3} ms, total {:.1} ms, one thread)", times[n / 2], times[0], total);
    }
    write_outputs(&a, &f, n, outs)
}

/// The level of a function by its ops: `tile`, `qnt` or `graph`.
fn level(f: &Func) -> &'static str {
    if f.ops.iter().any(|o| o.name.starts_with("tile.")) {
        "tile"
    } else if f.ops.iter().any(|o| o.name.starts_with("qnt.")) {
        "qnt"
    } else {
        "graph"
    }
}

/// Writes output k of every sample as `out_dir/outK.npy`, [N, …].
fn write_outputs(a: &Args, f: &Func, n: usize, outs: Vec<Vec<f32>>) -> Res<()> {
    create_dir(&a.out_dir)?;
    for (k, (o, &r)) in outs.into_iter().zip(&f.returns).enumerate() {
        let mut shape: Vec<usize> = vec![n];
        shape.extend(
            f.ty(r)
                .shape()
                .unwrap_or(&[])
                .iter()
                .skip(1)
                .map(|&d| d as usize),
        );
        let out = ndarray::ArrayD::from_shape_vec(shape, o)?;
        write_f32(&a.out_dir.join(format!("out{k}.npy")), &out)?;
    }
    Ok(())
}
