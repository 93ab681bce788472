//! Resuming a run from a checkpoint (the state before an op): a perturbation injected at that
//! op re-runs only the ops after it. Sensitivity measurement probes every layer of a network
//! on every sample, so this halves its cost on average.

use super::{Env, FloatProgram};
use crate::InterpError;
use std::borrow::Cow;
use std::collections::HashMap;

/// The live values of one run before op `op`: what the ops from `op` on still read.
pub struct Checkpoint {
    op: usize,
    vals: Vec<(usize, Vec<f32>)>,
    remaining: Vec<usize>,
    shapes: HashMap<usize, Vec<i64>>,
}

impl Checkpoint {
    /// The op the checkpoint was taken before.
    pub fn op(&self) -> usize {
        self.op
    }
}

impl FloatProgram<'_> {
    /// Runs one sample like [`FloatProgram::run`] and takes a checkpoint before each op of
    /// `at` (op indices).
    pub fn run_checkpointed(
        &self,
        input: &[f32],
        at: &[usize],
        mut observe: impl FnMut(usize, &[f32]),
    ) -> Result<(Vec<Vec<f32>>, Vec<Checkpoint>), InterpError> {
        let f = self.func;
        if input.len() != self.input_len() {
            return Err(InterpError::input_size(f, input.len()));
        }
        let mut env = Env::new(f, input);
        let mut cps = Vec::new();
        let mut replace = |v: usize, d: &[f32]| {
            observe(v, d);
            None
        };
        self.exec(&mut env, 0, &mut replace, |i, env| {
            if at.contains(&i) {
                cps.push(Checkpoint {
                    op: i,
                    vals: env
                        .vals
                        .iter()
                        .enumerate()
                        .filter_map(|(v, d)| d.as_deref().map(|d| (v, d.to_vec())))
                        .collect(),
                    remaining: env.remaining.clone(),
                    shapes: env.shapes.clone(),
                });
            }
        })?;
        Ok((env.outputs()?, cps))
    }

    /// Runs from `cp` to the end; `replace` as in [`FloatProgram::run_replacing`].
    pub fn resume(
        &self,
        cp: &Checkpoint,
        mut replace: impl FnMut(usize, &[f32]) -> Option<Vec<f32>>,
    ) -> Result<Vec<Vec<f32>>, InterpError> {
        let f = self.func;
        let mut vals: Vec<Option<Cow<'_, [f32]>>> = vec![None; f.values.len()];
        for (v, d) in &cp.vals {
            vals[*v] = Some(Cow::Borrowed(d.as_slice()));
        }
        let mut env = Env {
            f,
            vals,
            remaining: cp.remaining.clone(),
            shapes: cp.shapes.clone(),
        };
        self.exec(&mut env, cp.op, &mut replace, |_, _| {})?;
        env.outputs()
    }
}
