#!/usr/bin/env python3
"""Schedules against the roofline: every shared model for every accelerator target as shipped,
with its SRAM halved, without double buffering, and (npu-edge) with 4-bit weights. Prints the
estimated cycles, tiles, DMA bytes, SRAM peak and how many layers are memory-bound, from
OUT/manifest.json of each compile (the static estimate, which the simulator matches).

Usage: bench/npu_evidence.py [--nibble target/debug/nibble] [--models /work/shared/models]
       [--only mnist_cnn,...] [--out /tmp/nibble-npu-evidence]
"""
import argparse, json, os, re, subprocess, sys

TARGETS = ["generic-npu", "npu-mcu", "npu-edge"]


def shipped(nibble, name):
    here = os.path.dirname(os.path.abspath(__file__))
    return open(os.path.join(here, "..", "compiler", "target", "targets", name + ".toml")).read()


def variant(text, name, **kw):
    if "sram" in kw:
        text = re.sub(r"sram_bytes = \d+", f"sram_bytes = {kw['sram']}", text)
    if kw.get("single"):
        text = text.replace("[memory]\n", "[memory]\ndouble_buffer = false\n")
    return re.sub(r'name = "[^"]*"', f'name = "{name}"', text, count=1)


def compile_(nibble, model_dir, target, out, extra=()):
    meta = json.load(open(os.path.join(model_dir, "meta.json")))
    shape = meta["input"] + "=1," + ",".join(map(str, meta["input_shape"]))
    r = subprocess.run([nibble, "compile", os.path.join(model_dir, "model.onnx"), "--input-shape", shape,
                        "--calib", os.path.join(model_dir, "calib.npy"), "-o", out, "--target", target, *extra],
                       stderr=subprocess.PIPE, text=True)
    if r.returncode:
        return None, r.stderr.strip().splitlines()[-1]
    return json.load(open(os.path.join(out, "manifest.json"))), None


def summary(man):
    ls = man["layers"]
    acc = [l for l in ls if l["engine"] in ("mac", "vector")]
    return dict(cycles=man["estimated_cycles"], tiles=sum(l["tiles"] for l in acc),
                dma=sum(l["dma_bytes"] or 0 for l in ls), peak=man["sram_peak_bytes"],
                memory=sum(1 for l in acc if l["bound"] == "memory"), layers=len(acc),
                fps=man["totals"]["fps"])


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument("--nibble", default=os.path.join(here, "..", "target", "debug", "nibble"))
    ap.add_argument("--models", default="/work/shared/models")
    ap.add_argument("--only", default="")
    ap.add_argument("--out", default="/tmp/nibble-npu-evidence")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    models = sorted(m for m in os.listdir(a.models) if os.path.exists(os.path.join(a.models, m, "model.onnx")))
    if a.only:
        models = [m for m in models if m in a.only.split(",")]
    print(f"{'model':<11} {'target':<12} {'config':<14} {'cycles':>10} {'FPS':>9} {'tiles':>6} {'DMA bytes':>10} {'SRAM peak':>9} {'mem-bound':>9}")
    for t in TARGETS:
        text = shipped(a.nibble, t)
        sram = int(re.search(r"sram_bytes = (\d+)", text).group(1))
        configs = [("shipped", t, ()),
                   ("SRAM / 2", variant(text, t + "-half", sram=sram // 2), ()),
                   ("SRAM / 4", variant(text, t + "-quarter", sram=sram // 4), ()),
                   ("single-buffer", variant(text, t + "-single", single=True), ())]
        if t == "npu-edge":
            configs.append(("int4 weights", t, ("--weight-bits", "4")))
        for m in models:
            for label, tgt, extra in configs:
                if not tgt.startswith("generic") and not tgt.startswith("npu-"):
                    path = os.path.join(a.out, f"{t}-{label.replace(' ', '').replace('/', '')}.toml")
                    open(path, "w").write(tgt)
                    tgt = path
                out = os.path.join(a.out, f"{m}-{t}-{label.replace(' ', '').replace('/', '')}")
                man, err = compile_(a.nibble, os.path.join(a.models, m), tgt, out, extra)
                if man is None:
                    print(f"{m:<11} {t:<12} {label:<14} FAILED: {err}")
                    continue
                s = summary(man)
                print(f"{m:<11} {t:<12} {label:<14} {s['cycles']:>10} {s['fps']:>9.1f} {s['tiles']:>6} {s['dma']:>10} {s['peak']:>9} {s['memory']:>4}/{s['layers']:<4}")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
