#!/usr/bin/env python3
"""Shipped SRAM against half of it, per model and accelerator target: compiles every shared
model for each target and for a copy of its TOML with `sram_bytes` halved, and prints what the
schedule does with the SRAM (from OUT/model.tile.mlir and OUT/manifest.json): compute tiles,
DMA loads and stores per run, DMA bytes per run, outputs kept resident in SRAM (`resident`),
weight bytes kept in SRAM across runs (`preload`), the SRAM peak, the estimated cycles, and
whether the two schedules differ (model.tile.mlir compared with the target name blanked).

  python3 bench/npu_halving.py [--nibble target/debug/nibble] [--models /work/shared/models]
      [--targets npu-mcu,npu-edge,generic-npu] [--only mnist_cnn,...] [--out /tmp/nibble-halving]
"""
import argparse, json, os, re, subprocess, sys

ap = argparse.ArgumentParser()
ap.add_argument("--nibble", default="target/debug/nibble")
ap.add_argument("--models", default="/work/shared/models")
ap.add_argument("--targets", default="npu-mcu,npu-edge,generic-npu")
ap.add_argument("--only", default="")
ap.add_argument("--out", default="/tmp/nibble-halving")
a = ap.parse_args()
os.makedirs(a.out, exist_ok=True)
root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def half_toml(t):
    src = open(os.path.join(root, "compiler/target/targets", t + ".toml")).read()
    n = int(re.search(r"sram_bytes = (\d+)", src).group(1))
    src = src.replace(f"sram_bytes = {n}", f"sram_bytes = {n // 2}")
    src = src.replace(f'name = "{t}"', f'name = "{t}-half"')
    path = os.path.join(a.out, t + "-half.toml")
    open(path, "w").write(src)
    return path


def stats(o):
    man = json.load(open(os.path.join(o, "manifest.json")))
    text = open(os.path.join(o, "model.tile.mlir")).read()
    return {
        "cycles": man["estimated_cycles"],
        "peak": man["sram_peak_bytes"],
        "sram": man["sram_bytes"],
        "preload": man.get("sram_preload_bytes", 0),
        "tiles": sum(l["tiles"] for l in man["layers"] if l["engine"] != "cpu"),
        "loads": len(re.findall(r'"tile\.dma_load"', text)) - text.count("preload = true"),
        "stores": len(re.findall(r'"tile\.dma_store"', text)),
        "dma": sum(l["dma_bytes"] for l in man["layers"]),
        "resident": text.count("resident = true"),
        "text": re.sub(r'"npu-[a-z]+(-half)?"|"generic-npu(-half)?"', "T", text),
    }


print(f"{'model':<11} {'target':<12} {'SRAM':>8} {'peak':>8} {'preload':>8} {'tiles':>6} "
      f"{'loads':>6} {'stores':>6} {'resident':>8} {'DMA bytes':>10} {'cycles':>10}  schedule")
only = [m for m in a.only.split(",") if m]
for m in sorted(os.listdir(a.models)):
    d = os.path.join(a.models, m)
    if not os.path.exists(os.path.join(d, "model.onnx")) or (only and m not in only):
        continue
    meta = json.load(open(os.path.join(d, "meta.json")))
    shape = meta["input"] + "=1," + ",".join(map(str, meta["input_shape"]))
    for t in a.targets.split(","):
        rows = []
        for label, tgt in (("shipped", t), ("half", half_toml(t))):
            o = os.path.join(a.out, f"{m}-{t}-{label}")
            r = subprocess.run([a.nibble, "compile", os.path.join(d, "model.onnx"), "--input-shape",
                                shape, "--calib", os.path.join(d, "calib.npy"), "-o", o,
                                "--target", tgt], capture_output=True, text=True)
            if r.returncode != 0:
                print(f"{m:<11} {t:<12} {label}: FAILED: {r.stderr.strip().splitlines()[-1]}")
                rows.append(None)
                continue
            rows.append(stats(o))
        for label, s in zip(("shipped", "half"), rows):
            if s is None:
                continue
            note = ""
            if label == "half" and rows[0] is not None:
                same = s["text"] == rows[0]["text"]
                d_c = s["cycles"] - rows[0]["cycles"]
                note = ("SAME" if same else "differs") + f", cycles {d_c:+d} ({100.0 * d_c / rows[0]['cycles']:+.1f}%)"
            print(f"{m:<11} {t + ('' if label == 'shipped' else '/2'):<12} {s['sram']:>8} {s['peak']:>8} "
                  f"{s['preload']:>8} {s['tiles']:>6} {s['loads']:>6} {s['stores']:>6} "
                  f"{s['resident']:>8} {s['dma']:>10} {s['cycles']:>10}  {note}")
        sys.stdout.flush()
