"""Learning-core benchmark: features (batch and online), deep-model epochs, ONNX latency.

Prints one JSON object. Targets (issue: learning core), 2 CPU cores:

- batch features >= 1M bars/s for the default spec
- online update of all features for one symbol and one bar, p99 <= 200 us
- one training epoch of the LSTM and of the Transformer on 20 symbols x 60 trading days of
  1-minute bars <= 60 s each (stride 1, triple-barrier labels, the newest 15% of windows
  for validation; an epoch is a training pass plus the validation-loss pass, timed on the
  second epoch so that lazy imports are not counted)
- ONNX inference of both models for a batch of 20 symbols, p99 <= 5 ms

Usage::

    python benchmarks/learning.py [--sessions 60] [--stride 1]
"""

from __future__ import annotations

import argparse
import gc
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pandas as pd

from nexus.datasets import build_dataset
from nexus.features import FeaturePipeline
from nexus.labels import triple_barrier
from nexus.models import make_model
from nexus.sources.simulator import SimulatorConfig, simulate

_OHLCV = ["open", "high", "low", "close", "volume"]


def _pct(values_s: list[float], unit: float = 1e6) -> dict:
    arr = np.asarray(values_s) * unit
    return {
        "p50": round(float(np.percentile(arr, 50)), 1),
        "p99": round(float(np.percentile(arr, 99)), 1),
        "n": len(arr),
    }


def bench_batch(pipe: FeaturePipeline, bars: pd.DataFrame, repeats: int = 3) -> dict:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        pipe.transform(bars)
        times.append(time.perf_counter() - start)
    best = float(np.median(times))
    return {
        "bars": len(bars),
        "features": len(pipe.names),
        "median_s": round(best, 3),
        "bars_per_s": round(len(bars) / best),
        "first_s": round(times[0], 3),
    }


def bench_online(pipe: FeaturePipeline, bars: pd.DataFrame) -> dict:
    one = bars[bars["symbol"] == bars["symbol"].iloc[0]].reset_index(drop=True)
    split = len(one) // 2
    online = pipe.online().warm(one.iloc[:split])
    ohlcv = one[_OHLCV].to_numpy()
    ts = pd.DatetimeIndex(one["ts"]).as_unit("us").asi8
    symbol = [one["symbol"].iloc[0]]
    lat = []
    gc.freeze()  # as a live service does after warm-up: old objects leave the GC's scans
    for i in range(split, len(one)):
        start = time.perf_counter()
        online.update_arrays(int(ts[i]), symbol, ohlcv[i : i + 1])
        lat.append(time.perf_counter() - start)
    return {"one_symbol_one_bar_us": _pct(lat)}


def bench_deep(bars: pd.DataFrame, pipe: FeaturePipeline, stride: int) -> dict:
    features = pipe.transform(bars)
    labels = triple_barrier(bars, horizon=15)
    data = build_dataset(features, labels, lookback=60, stride=stride, max_bytes=8 << 30)
    cut = int(len(data) * 0.85)
    order = np.argsort(data.index["ts"].to_numpy(), kind="stable")
    train, valid = data.take(order[:cut]), data.take(order[cut:])
    out = {"samples": len(train), "lookback": 60, "features": data.X.shape[2], "stride": stride}
    rng = np.random.default_rng(0)
    batch = rng.normal(size=(20, 60, data.X.shape[2])).astype(np.float32)
    for name in ("lstm", "transformer"):
        model = make_model(name, max_epochs=2, n_threads=2)
        marks: list[float] = []
        start = time.perf_counter()
        model.fit(train, valid, on_epoch=lambda *_, marks=marks: marks.append(time.perf_counter()))
        fit_s = time.perf_counter() - start
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "m.onnx"
            model.export_onnx(path)
            session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
            for _ in range(20):
                session.run(None, {"x": batch})
            lat = []
            for _ in range(500):
                begin = time.perf_counter()
                session.run(None, {"x": batch})
                lat.append(time.perf_counter() - begin)
        out[name] = {
            # the second epoch: a training pass and the validation-loss pass, no lazy imports
            "epoch_s": round(marks[1] - marks[0], 2),
            "first_epoch_s": round(marks[0] - start, 2),
            "fit_2_epochs_s": round(fit_s, 2),
            "onnx_batch20_ms": _pct(lat, unit=1e3),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--symbols", type=int, default=20)
    parser.add_argument("--sessions", type=int, default=60)
    parser.add_argument("--stride", type=int, default=1)
    args = parser.parse_args()
    bars = simulate(SimulatorConfig(symbols=args.symbols, sessions=args.sessions)).bars
    pipe = FeaturePipeline()
    out = {
        "features_batch": bench_batch(pipe, bars),
        "features_online": bench_online(pipe, bars),
        "deep_models": bench_deep(bars, pipe, args.stride),
    }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
