#!/usr/bin/env python3
"""nibble's MAC-array cycle model against SCALE-Sim v3 (a simulator nobody here wrote).

For every conv and fully connected layer of the shared models, on two array shapes (8x8 and
32x32) and both dataflows (ws, os): nibble compiles the model for an accelerator target of
that shape and dataflow (otherwise npu-mcu's / npu-edge's memories, per-channel
requantization so every layer runs on the MAC array) and reports each layer's compute cycles
in OUT/manifest.json (`compute_cycles`: the sum over the layer's tiles). SCALE-Sim runs the
same layers (GEMM topology M x N x K, CALC bandwidth mode, Python API with
save_disk_space=True, so no trace files; column 2 of its COMPUTE_REPORT.csv) and reports its
"Total Cycles". The two are printed side by side,
per layer and in total, with the layers that differ by more than 15 %, and `untiled`: nibble's
formula for the whole layer as one tile (SCALE-Sim + 1), so the difference is the tiling's.

Usage: bench/scalesim_compare.py [--nibble target/debug/nibble] [--models /work/shared/models]
       [--only mnist_cnn,mtcnn_onet] [--arrays 8x8,32x32] [--dataflows ws,os] [--jobs 2]
The SCALE-Sim venv (/work/venvs/scalesim, or --venv) is created when missing:
  python3 -m venv VENV; VENV/bin/pip install scalesim==3.0.0 'numpy<2'
SCALE-Sim's results are cached in OUT/scalesim_cache.json (its runs take minutes on 8x8).
"""
import argparse, csv, json, os, subprocess, sys, time
from concurrent.futures import ThreadPoolExecutor

CONFIG = """[general]
run_name = {run}

[architecture_presets]
ArrayHeight = {rows}
ArrayWidth = {cols}
IfmapSramSzkB = 64
FilterSramSzkB = 64
OfmapSramSzkB = 64
IfmapOffset = 0
FilterOffset = 10000000
OfmapOffset = 20000000
Bandwidth = 10
Dataflow = {df}
ReadRequestBuffer = 32
WriteRequestBuffer = 32

[layout]
IfmapCustomLayout = False
IfmapSRAMBankBandwidth = 10
IfmapSRAMBankNum = 1
IfmapSRAMBankPort = 2
FilterCustomLayout = False
FilterSRAMBankBandwidth = 10
FilterSRAMBankNum = 1
FilterSRAMBankPort = 2

[sparsity]
SparsitySupport = false

[run_presets]
InterfaceBandwidth = CALC
UseRamulatorTrace = False
"""

TARGET = """schema = 2
name = "cmp-{rows}x{cols}-{df}"
description = "SCALE-Sim comparison: {rows}x{cols} array, {df} only"
kind = "npu"
clock_mhz = {clock}

[memory]
sram_bytes = {sram}
dram_bytes_per_cycle = {bw}
dma_setup_cycles = {setup}

[mac_array]
rows = {rows}
cols = {cols}
dataflows = ["{df}"]
activation_widths = [8, 16]
macs_per_cycle = {{ "8" = {macs} }}

[requant]
mode = "per-channel"
multiplier_bits = 32

[vector]
lanes = {lanes}
lut = true
activations = ["clamp", "prelu", "hard_swish", "swish"]
"""

# The memories of the shipped target with the array of that shape.
SHAPES = {
    (8, 8): dict(clock=400, sram=262144, bw=4, setup=32, lanes=8),
    (32, 32): dict(clock=1000, sram=1048576, bw=32, setup=64, lanes=64),
}


def untiled(rows, cols, df, m, n, k):
    """nibble's cycles for the whole layer as one tile at the native rate
    (nibble_target::cost::mac_cycles): SCALE-Sim's Total Cycles + 1. What the `nibble` column
    adds beyond it is the schedule's tiling (in ws, every extra row tile refills the array)."""
    cd = lambda a, b: -(-a // b)
    if df == "ws":
        return cd(k, rows) * cd(n, cols) * (2 * rows + cols + m - 2)
    return cd(m, rows) * cd(n, cols) * (rows + cols + k - 2)


def ensure_venv(venv):
    py = os.path.join(venv, "bin", "python")
    if not os.path.exists(py):
        print(f"creating {venv} (scalesim==3.0.0, numpy<2)", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
        subprocess.run([os.path.join(venv, "bin", "pip"), "install", "-q", "scalesim==3.0.0", "numpy<2"], check=True)
    return py


def compile_model(nibble, model_dir, target_toml, out):
    meta = json.load(open(os.path.join(model_dir, "meta.json")))
    shape = meta["input"] + "=1," + ",".join(map(str, meta["input_shape"]))
    subprocess.run([nibble, "compile", os.path.join(model_dir, "model.onnx"), "--input-shape", shape,
                    "--calib", os.path.join(model_dir, "calib.npy"), "-o", out, "--target", target_toml],
                   check=True, stderr=subprocess.DEVNULL)
    man = json.load(open(os.path.join(out, "manifest.json")))
    return [l for l in man["layers"] if l["engine"] == "mac" and l["gemm"]]


def scalesim(py, out, rows, cols, df, gemms):
    """SCALE-Sim's Total Cycles of each (M, N, K) on a rows x cols array with dataflow df."""
    run = f"s{rows}x{cols}_{df}_{len(gemms)}_{abs(hash(tuple(gemms))) % 10**8}"
    d = os.path.join(out, "scalesim")
    os.makedirs(d, exist_ok=True)
    cfg = os.path.join(d, run + ".cfg")
    open(cfg, "w").write(CONFIG.format(run=run, rows=rows, cols=cols, df=df))
    topo = os.path.join(d, run + ".csv")
    with open(topo, "w") as f:
        f.write("Layer, M, N, K,\n")
        for i, (m, n, k) in enumerate(gemms):
            f.write(f"l{i}, {m}, {n}, {k},\n")
    layout = os.path.join(d, "layout_empty.csv")
    open(layout, "w").write("Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n")
    code = ("from scalesim.scale_sim import scalesim\n"
            f"s = scalesim(save_disk_space=True, verbose=False, config={cfg!r}, topology={topo!r},"
            f" layout={layout!r}, input_type_gemm=True)\n"
            f"s.run_scale(top_path={d!r})\n")
    subprocess.run([py, "-c", code], check=True, stdout=subprocess.DEVNULL)
    rep = list(csv.reader(open(os.path.join(d, run, "COMPUTE_REPORT.csv"))))[1:]
    return {g: int(float(r[2])) for g, r in zip(gemms, rep)}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--nibble", default=os.path.join(here, "..", "target", "debug", "nibble"))
    ap.add_argument("--models", default="/work/shared/models")
    ap.add_argument("--only", default="")
    ap.add_argument("--arrays", default="8x8,32x32")
    ap.add_argument("--dataflows", default="ws,os")
    ap.add_argument("--venv", default="/work/venvs/scalesim")
    ap.add_argument("--out", default="/tmp/nibble-scalesim")
    ap.add_argument("--jobs", type=int, default=2)
    a = ap.parse_args()
    py = ensure_venv(a.venv)
    os.makedirs(a.out, exist_ok=True)
    models = sorted(m for m in os.listdir(a.models) if os.path.exists(os.path.join(a.models, m, "model.onnx")))
    if a.only:
        models = [m for m in models if m in a.only.split(",")]
    cache_path = os.path.join(a.out, "scalesim_cache.json")
    cache = json.load(open(cache_path)) if os.path.exists(cache_path) else {}
    configs = [(tuple(map(int, s.split("x"))), df) for s in a.arrays.split(",") for df in a.dataflows.split(",")]
    # nibble: compile every model for every configuration.
    layers = {}
    for (rows, cols), df in configs:
        toml = os.path.join(a.out, f"cmp-{rows}x{cols}-{df}.toml")
        open(toml, "w").write(TARGET.format(rows=rows, cols=cols, df=df, macs=rows * cols, **SHAPES[(rows, cols)]))
        for m in models:
            layers[(rows, cols, df, m)] = compile_model(a.nibble, os.path.join(a.models, m), toml,
                                                        os.path.join(a.out, f"{m}-{rows}x{cols}-{df}"))
    # SCALE-Sim: every distinct layer shape once per configuration (cached).
    def key(rows, cols, df, g):
        return f"{rows}x{cols}:{df}:{g[0]},{g[1]},{g[2]}"
    jobs = []
    for (rows, cols), df in configs:
        gemms = sorted({(l["gemm"]["m"], l["gemm"]["n"], l["gemm"]["k"]) for m in models for l in layers[(rows, cols, df, m)]})
        todo = [g for g in gemms if key(rows, cols, df, g) not in cache]
        if todo:
            jobs.append((rows, cols, df, todo))
    t0 = time.time()
    with ThreadPoolExecutor(max_workers=a.jobs) as ex:
        for (rows, cols, df, todo), res in zip(jobs, ex.map(lambda j: scalesim(py, a.out, *j), jobs)):
            for g, c in res.items():
                cache[key(rows, cols, df, g)] = c
    json.dump(cache, open(cache_path, "w"), indent=0, sort_keys=True)
    if jobs:
        print(f"(SCALE-Sim ran {sum(len(j[3]) for j in jobs)} layers in {time.time() - t0:.0f} s)")
    worst = []
    for (rows, cols), df in configs:
        for m in models:
            ls = layers[(rows, cols, df, m)]
            print(f"\n== {m}, {rows}x{cols} {df}")
            print(f"{'layer':<28} {'M':>6} {'N':>5} {'K':>5} {'tiles':>5} {'nibble':>10} {'SCALE-Sim':>10} {'diff':>7}       {'untiled':>10}")
            tn = ts = 0
            for l in ls:
                g = (l["gemm"]["m"], l["gemm"]["n"], l["gemm"]["k"])
                s = cache[key(rows, cols, df, g)]
                n = l["compute_cycles"]
                tn += n
                ts += s
                d = (n - s) / s * 100 if s else 0.0
                mark = "  >15%" if abs(d) > 15 else ""
                if mark:
                    worst.append((m, rows, cols, df, l["name"], g, l["tiles"], n, s, d))
                u = untiled(rows, cols, df, *g)
                print(f"{l['name'][:28]:<28} {g[0]:>6} {g[1]:>5} {g[2]:>5} {l['tiles']:>5} {n:>10} {s:>10} {d:>6.1f}%{mark:<6} {u:>10}")
            dt = (tn - ts) / ts * 100 if ts else 0.0
            print(f"{'total':<28} {'':>6} {'':>5} {'':>5} {'':>5} {tn:>10} {ts:>10} {dt:>6.1f}%{'  >10%' if abs(dt) > 10 else ''}")
    print(f"\n{len(worst)} layers differ by more than 15 %")
    for w in worst:
        m, r, c, df, name, g, tiles, n, s, d = w
        print(f"  {m} {r}x{c} {df} {name}: M,N,K = {g}, {tiles} tiles, nibble {n} vs {s} ({d:+.1f}%)")


if __name__ == "__main__":
    main()
