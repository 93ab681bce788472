//! The training loop: labels checked against the data and the model's output before anything
//! runs; per epoch, activation ranges calibrated (min/max of the float model on the data, as
//! `nibble compile --ranges minmax` does), then seeded shuffled mini-batches, cross-entropy on
//! the fake-quantized model, Adam. The shuffle is seeded (splitmix64) and candle's CPU kernels
//! split work over output blocks (each sum keeps its order whatever the thread count), so the
//! same data and options give the same weights, bit for bit, on the same machine; another CPU
//! (other SIMD width or cache blocking) may round differently.

use crate::net::{Mode, Net, Ranges};
use crate::{ActGrid, Error, Graph, Res, WeightGrid};
use candle_core::{DType, Device, Tensor, D};

/// Training options.
#[derive(Clone, Debug)]
pub struct Options {
    pub epochs: usize,
    pub lr: f64,
    pub batch: usize,
    pub seed: u64,
}

/// Reports progress (the binary draws a bar).
pub trait Observer {
    /// Training of `steps` mini-batches begins.
    fn begin(&self, steps: usize);
    /// One mini-batch done: its epoch (from 1), the running mean loss and accuracy of the epoch.
    fn step(&self, epoch: usize, loss: f64, accuracy: f64);
    /// Training ended.
    fn end(&self);
}

/// Loss and top-1 accuracy (%) of the fake-quantized model on the data before and after.
#[derive(Clone, Debug)]
pub struct Summary {
    pub before: (f64, f64),
    pub after: (f64, f64),
    /// Mean training loss and accuracy of each epoch.
    pub epochs: Vec<(f64, f64)>,
}

/// Trains `graph`'s Conv/Gemm weights in place on `x` (`[n, …input_shape]`, row-major) and
/// `labels`.
pub fn train(
    graph: &mut Graph,
    x: &[f32],
    labels: &[i64],
    grids: (&dyn WeightGrid, &dyn ActGrid),
    opts: &Options,
    obs: &dyn Observer,
) -> Res<Summary> {
    let row: usize = graph.input_shape.iter().product();
    let n = labels.len();
    check(graph, x, labels, row)?;
    let batch = opts.batch.max(1);
    let data = Data {
        x,
        labels,
        row,
        shape: graph.input_shape.clone(),
    };
    let order: Vec<usize> = (0..n).collect();
    let trained = {
        let net = Net::new(graph)?;
        let mut adam = Adam::new(&net, opts.lr)?;
        let mut rng = SplitMix(opts.seed);
        let mut ranges = calibrate(&net, &data, batch)?;
        let before = evaluate(&net, &data, &ranges, grids, batch)?;
        let mut epochs = Vec::new();
        obs.begin(opts.epochs * n.div_ceil(batch));
        for epoch in 1..=opts.epochs {
            if epoch > 1 {
                ranges = calibrate(&net, &data, batch)?;
            }
            let mut shuffled = order.clone();
            for i in (1..n).rev() {
                shuffled.swap(i, (rng.next() % (i as u64 + 1)) as usize);
            }
            let (mut loss_sum, mut correct) = (0.0, 0usize);
            for (k, rows) in shuffled.chunks(batch).enumerate() {
                let (xb, yb) = data.batch(rows)?;
                let mode = Mode::Quant {
                    weights: grids.0,
                    acts: grids.1,
                    ranges: &ranges,
                };
                let logits = net.forward(&xb, mode)?;
                let (loss, hits) = loss_and_hits(&logits, &yb)?;
                loss_sum += loss.to_scalar::<f32>()? as f64 * rows.len() as f64;
                correct += hits;
                adam.step(&net, &loss)?;
                let seen = (k * batch + rows.len()) as f64;
                obs.step(epoch, loss_sum / seen, 100.0 * correct as f64 / seen);
            }
            epochs.push((loss_sum / n as f64, 100.0 * correct as f64 / n as f64));
        }
        obs.end();
        let ranges = calibrate(&net, &data, batch)?;
        let after = evaluate(&net, &data, &ranges, grids, batch)?;
        let weights: Vec<(String, Vec<f32>)> = net
            .vars
            .keys()
            .map(|k| Ok((k.clone(), net.weight(k)?)))
            .collect::<Res<_>>()?;
        (
            weights,
            Summary {
                before,
                after,
                epochs,
            },
        )
    };
    for (name, w) in trained.0 {
        if let Some(t) = graph.weights.get_mut(&name) {
            t.data = w;
        }
    }
    Ok(trained.1)
}

/// Data and labels that do not fit each other or the model: an error before training.
fn check(graph: &Graph, x: &[f32], labels: &[i64], row: usize) -> Res<()> {
    let n = labels.len();
    if n == 0 || row == 0 || x.len() != n * row {
        return Err(Error::Input(format!(
            "{n} labels for {} data rows of {:?} ({} values): give one label per row",
            x.len().checked_div(row).unwrap_or(0),
            graph.input_shape,
            x.len()
        )));
    }
    let net = Net::new(graph)?;
    let mut r = Ranges::new();
    let one = Tensor::from_vec(
        x[..row].to_vec(),
        shape_of(1, &graph.input_shape),
        &Device::Cpu,
    )?;
    let out = net.forward(&one, Mode::Observe(&mut r))?;
    let classes = match out.dims() {
        [1, k] => *k,
        d => {
            return Err(Error::Input(format!(
            "the model's output is {d:?} per row; fine-tuning needs a classifier's [1, classes]"
        )))
        }
    };
    if let Some((i, &l)) = labels
        .iter()
        .enumerate()
        .find(|(_, &l)| l < 0 || l as usize >= classes)
    {
        return Err(Error::Input(format!(
            "label {l} (row {i}) is not a class of the model's output (0 … {})",
            classes - 1
        )));
    }
    Ok(())
}

/// `[n, …shape]`.
fn shape_of(n: usize, shape: &[usize]) -> Vec<usize> {
    std::iter::once(n).chain(shape.iter().copied()).collect()
}

/// The training set.
struct Data<'a> {
    x: &'a [f32],
    labels: &'a [i64],
    row: usize,
    shape: Vec<usize>,
}

impl Data<'_> {
    /// The rows `rows` as a batch and their labels.
    fn batch(&self, rows: &[usize]) -> Res<(Tensor, Tensor)> {
        let mut v = Vec::with_capacity(rows.len() * self.row);
        for &r in rows {
            v.extend_from_slice(&self.x[r * self.row..(r + 1) * self.row]);
        }
        let y: Vec<u32> = rows.iter().map(|&r| self.labels[r] as u32).collect();
        Ok((
            Tensor::from_vec(v, shape_of(rows.len(), &self.shape), &Device::Cpu)?,
            Tensor::from_vec(y, rows.len(), &Device::Cpu)?,
        ))
    }
    fn rows(&self) -> Vec<usize> {
        (0..self.labels.len()).collect()
    }
}

/// Min/max of every quantized tensor of the float model over the data.
fn calibrate(net: &Net, data: &Data, batch: usize) -> Res<Ranges> {
    let mut ranges = Ranges::new();
    for rows in data.rows().chunks(batch) {
        let (xb, _) = data.batch(rows)?;
        net.forward(&xb, Mode::Observe(&mut ranges))?;
    }
    Ok(ranges)
}

/// Mean loss and accuracy (%) of the fake-quantized model over the data.
fn evaluate(
    net: &Net,
    data: &Data,
    ranges: &Ranges,
    grids: (&dyn WeightGrid, &dyn ActGrid),
    batch: usize,
) -> Res<(f64, f64)> {
    let (mut loss, mut hits) = (0.0, 0);
    for rows in data.rows().chunks(batch) {
        let (xb, yb) = data.batch(rows)?;
        let logits = net
            .forward(
                &xb,
                Mode::Quant {
                    weights: grids.0,
                    acts: grids.1,
                    ranges,
                },
            )?
            .detach();
        let (l, h) = loss_and_hits(&logits, &yb)?;
        loss += l.to_scalar::<f32>()? as f64 * rows.len() as f64;
        hits += h;
    }
    let n = data.labels.len() as f64;
    Ok((loss / n, 100.0 * hits as f64 / n))
}

/// Mean cross-entropy of `logits` `[N, K]` against `labels` `[N]`, and the correct count.
pub fn loss_and_hits(logits: &Tensor, labels: &Tensor) -> Res<(Tensor, usize)> {
    let max = logits.max_keepdim(D::Minus1)?.detach();
    let shifted = logits.broadcast_sub(&max)?;
    let lse = shifted.exp()?.sum_keepdim(D::Minus1)?.log()?;
    let logp = shifted.broadcast_sub(&lse)?;
    let picked = logp.gather(&labels.unsqueeze(1)?, 1)?;
    let loss = picked.mean_all()?.neg()?;
    let hits = logits
        .argmax(D::Minus1)?
        .eq(labels)?
        .to_dtype(DType::U32)?
        .sum_all()?
        .to_scalar::<u32>()? as usize;
    Ok((loss, hits))
}

/// Adam (β = 0.9, 0.999; ε = 1e-8) over the net's variables.
struct Adam {
    lr: f64,
    t: i32,
    moments: Vec<(Tensor, Tensor)>,
}

impl Adam {
    fn new(net: &Net, lr: f64) -> Res<Adam> {
        let moments = net
            .vars
            .values()
            .map(|v| Ok((v.zeros_like()?, v.zeros_like()?)))
            .collect::<Res<_>>()?;
        Ok(Adam { lr, t: 0, moments })
    }

    fn step(&mut self, net: &Net, loss: &Tensor) -> Res<()> {
        let grads = loss.backward()?;
        self.t += 1;
        let (b1, b2) = (0.9f64, 0.999f64);
        let (c1, c2) = (1.0 - b1.powi(self.t), 1.0 - b2.powi(self.t));
        for (var, (m, v)) in net.vars.values().zip(self.moments.iter_mut()) {
            let Some(g) = grads.get(var.as_tensor()) else {
                continue;
            };
            *m = ((&*m * b1)? + (g * (1.0 - b1))?)?;
            *v = ((&*v * b2)? + (g.sqr()? * (1.0 - b2))?)?;
            let update = ((&*m / c1)? / ((&*v / c2)?.sqrt()? + 1e-8)?)?;
            var.set(&(var.as_tensor() - (update * self.lr)?)?)?;
        }
        Ok(())
    }
}

/// splitmix64: the seeded shuffle.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}
