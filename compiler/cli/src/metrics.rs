//! Task metrics shared by `nibble eval` and `nibble report`: what a model's first output
//! decides (a class by argmax, or a text line by greedy CTC decoding) and how that decision
//! scores against labels (top-1 accuracy, or character accuracy and exact lines).

use crate::error::{CliError, Res};
use std::path::Path;

/// How the first output of one sample becomes a decision.
pub enum Decoder {
    /// The index of the largest value.
    Argmax,
    /// Greedy CTC over [T, C] scores: argmax per step, collapse repeats, drop index 0 (blank);
    /// index i in 1..=keys.len() is keys[i-1], any later index a space.
    Ctc { keys: Vec<String> },
}

/// Ground truth of an evaluation set.
pub enum Labels {
    Classes(Vec<i64>),
    Lines(Vec<String>),
}

/// The task: how to decode, and the labels to score decisions against (if any).
pub struct Task {
    pub decoder: Decoder,
    pub labels: Option<Labels>,
}

fn read_lines(path: &Path) -> Res<Vec<String>> {
    let text = crate::files::read_text(path)?;
    Ok(text.lines().map(str::to_string).collect())
}

/// The index of the largest value (the first of equals; 0 for none).
fn argmax(v: impl Iterator<Item = f32>) -> usize {
    v.enumerate()
        .fold((0, f32::NEG_INFINITY), |(bi, bv), (i, x)| {
            if x > bv {
                (i, x)
            } else {
                (bi, bv)
            }
        })
        .0
}

impl Task {
    /// Labels from `.npy` (int64 classes) or `.txt` (one text line per sample, which needs the
    /// character set `keys`, one character per line); at least `n` of them.
    pub fn load(labels: Option<&Path>, keys: Option<&Path>, n: usize) -> Res<Task> {
        let decoder = match keys {
            Some(k) => Decoder::Ctc {
                keys: read_lines(k)?,
            },
            None => Decoder::Argmax,
        };
        let labels = match labels {
            None => None,
            Some(l) if l.extension().is_some_and(|e| e == "txt") => {
                if keys.is_none() {
                    return Err(CliError::Input(format!(
                        "text labels '{}' need --keys (the character set of the CTC output)",
                        l.display()
                    )));
                }
                Some(Labels::Lines(read_lines(l)?))
            }
            Some(l) => {
                let file = crate::npy::NpyFile::open(l)?;
                let a = file.view::<i64>("an int64 label")?;
                if a.ndim() != 1 {
                    return Err(CliError::Input(format!(
                        "'{}' must be a vector of int64 labels",
                        l.display()
                    )));
                }
                Some(Labels::Classes(a.iter().copied().collect()))
            }
        };
        let count = match &labels {
            Some(Labels::Classes(c)) => c.len(),
            Some(Labels::Lines(l)) => l.len(),
            None => n,
        };
        if count < n {
            return Err(CliError::Input(format!(
                "{count} labels for {n} evaluation inputs"
            )));
        }
        Ok(Task { decoder, labels })
    }

    /// The name of the task metric.
    pub fn metric_name(&self) -> &'static str {
        match self.decoder {
            Decoder::Argmax => "top-1",
            Decoder::Ctc { .. } => "char acc",
        }
    }

    /// The decision of one sample's first output.
    pub fn decode(&self, out: &[f32]) -> Res<String> {
        match &self.decoder {
            Decoder::Argmax => Ok(argmax(out.iter().copied()).to_string()),
            Decoder::Ctc { keys } => {
                let c = keys.len() + 2;
                if out.is_empty() || !out.len().is_multiple_of(c) {
                    return Err(CliError::Input(format!(
                        "a CTC output must be [T, {c}] ({} characters + blank + space); got {} values",
                        keys.len(),
                        out.len()
                    )));
                }
                let mut text = String::new();
                let mut prev = 0;
                for step in out.chunks_exact(c) {
                    let i = argmax(step.iter().copied());
                    if i != prev && i != 0 {
                        text.push_str(keys.get(i - 1).map_or(" ", String::as_str));
                    }
                    prev = i;
                }
                Ok(text)
            }
        }
    }

    /// Scores decisions against the labels: (metric %, exact-line % for text).
    pub fn score(&self, decisions: &[String]) -> Option<(f64, Option<f64>)> {
        let n = decisions.len().max(1) as f64;
        match self.labels.as_ref()? {
            Labels::Classes(l) => {
                let ok = decisions
                    .iter()
                    .zip(l)
                    .filter(|(d, &l)| d.parse::<i64>() == Ok(l))
                    .count();
                Some((100.0 * ok as f64 / n, None))
            }
            Labels::Lines(l) => {
                let strip = |s: &str| s.trim().replace(' ', "");
                let (mut acc, mut exact) = (0.0, 0usize);
                for (d, l) in decisions.iter().zip(l) {
                    let (d, l) = (strip(d), strip(l));
                    let len = l.chars().count().max(1) as f64;
                    acc += (1.0 - strsim::levenshtein(&d, &l) as f64 / len).max(0.0);
                    exact += (d == l) as usize;
                }
                Some((100.0 * acc / n, Some(100.0 * exact as f64 / n)))
            }
        }
    }
}

/// The fraction (in %) of equal decisions.
pub fn agreement(a: &[String], b: &[String]) -> f64 {
    let same = a.iter().zip(b).filter(|(x, y)| x == y).count();
    100.0 * same as f64 / a.len().max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ctc_collapses_repeats_and_drops_blanks() {
        let t = Task {
            decoder: Decoder::Ctc {
                keys: vec!["a".into(), "b".into()],
            },
            labels: Some(Labels::Lines(vec!["ab a".into()])),
        };
        // Steps: a a blank a b space(3) → "aab " ; C = 4.
        let onehot = |i: usize| (0..4).map(move |k| (k == i) as u8 as f32);
        let out: Vec<f32> = [1, 1, 0, 1, 2, 3].iter().flat_map(|&i| onehot(i)).collect();
        let d = t.decode(&out).unwrap();
        assert_eq!(d, "aab ");
        // "aab" vs "aba": 2 edits over 3 characters.
        let (acc, exact) = t.score(&[d]).unwrap();
        assert!((acc - 100.0 / 3.0).abs() < 1e-9, "{acc}");
        assert_eq!(exact, Some(0.0));
        assert!(t.decode(&[0.0; 5]).is_err());
    }
}
