#!/usr/bin/env python3
"""torch_gpu.py — PyTorch's training step on the GPU, the baseline for
`backprop bench --device cuda`: the same MLP (Linear + ReLU, softmax
cross-entropy, plain SGD), synthetic data of Fashion-MNIST's shape held on
the GPU, float32 with TF32 off, in two modes: eager, and the whole step
(forward, loss, backward, SGD step) captured once in a CUDA graph and
replayed. Prints one JSON object per (layers, batch, mode) on stdout:
examples/s, the median of --rounds timed rounds of about --seconds each.
"""
import argparse
import json
import statistics
import sys
import time


def parse():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--layers", action="append", required=True,
                   help="widths, e.g. 784,256,128,10 (repeatable)")
    p.add_argument("--batch", action="append", required=True,
                   help="batch sizes for the matching --layers, e.g. 64,128,1024")
    p.add_argument("--seconds", type=float, default=1.0)
    p.add_argument("--rounds", type=int, default=5)
    return p.parse_args()


def timed(step, n_steps, torch):
    torch.cuda.synchronize()
    t = time.perf_counter()
    for i in range(n_steps):
        step(i)
    torch.cuda.synchronize()
    return time.perf_counter() - t


def measure(step, seconds, rounds, torch):
    n = 1
    while True:  # doubling: warm-up and calibration
        t = timed(step, n, torch)
        if t > seconds / 10 or n > (1 << 20):
            break
        n *= 2
    n = max(1, int(n * seconds / t))
    return statistics.median(n / timed(step, n, torch) for _ in range(rounds))


def main():
    a = parse()
    try:
        import torch
    except ImportError:
        sys.exit("torch_gpu.py: PyTorch is not installed")
    if not torch.cuda.is_available():
        sys.exit("torch_gpu.py: PyTorch sees no CUDA device")
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    dev = torch.device("cuda")
    if len(a.layers) != len(a.batch):
        sys.exit("torch_gpu.py: give one --batch per --layers")
    for layers_s, batches_s in zip(a.layers, a.batch):
        sizes = [int(v) for v in layers_s.split(",")]
        for B in (int(v) for v in batches_s.split(",")):
            n = max(60000 // B, 1) * B  # one epoch's worth of batches
            X = torch.rand(n, sizes[0], device=dev)
            Y = torch.randint(0, sizes[-1], (n,), device=dev)
            mods = []
            for i in range(len(sizes) - 1):
                mods.append(torch.nn.Linear(sizes[i], sizes[i + 1]))
                if i < len(sizes) - 2:
                    mods.append(torch.nn.ReLU())
            model = torch.nn.Sequential(*mods).to(dev)
            loss_fn = torch.nn.CrossEntropyLoss()
            opt = torch.optim.SGD(model.parameters(), lr=1e-4)
            per = n // B

            def eager(i):
                k = (i % per) * B
                opt.zero_grad(set_to_none=True)
                loss_fn(model(X[k:k + B]), Y[k:k + B]).backward()
                opt.step()

            r_eager = measure(eager, a.seconds, a.rounds, torch) * B
            print(json.dumps({"layers": layers_s, "batch": B, "mode": "eager",
                              "examples_per_s": r_eager}), flush=True)

            # the documented whole-network capture: warm up on a side stream,
            # then capture forward, backward and the step into one graph
            sx, sy = X[:B].clone(), Y[:B].clone()
            s = torch.cuda.Stream()
            s.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(s):
                for _ in range(3):
                    opt.zero_grad(set_to_none=True)
                    loss_fn(model(sx), sy).backward()
                    opt.step()
            torch.cuda.current_stream().wait_stream(s)
            g = torch.cuda.CUDAGraph()
            opt.zero_grad(set_to_none=True)
            with torch.cuda.graph(g):
                loss_fn(model(sx), sy).backward()
                opt.step()

            def graphed(i):
                k = (i % per) * B
                sx.copy_(X[k:k + B])
                sy.copy_(Y[k:k + B])
                g.replay()

            r_graph = measure(graphed, a.seconds, a.rounds, torch) * B
            print(json.dumps({"layers": layers_s, "batch": B, "mode": "graph",
                              "examples_per_s": r_graph}), flush=True)
            del g, X, Y, model, opt
            torch.cuda.empty_cache()
    print(json.dumps({"torch": torch.__version__, "device": torch.cuda.get_device_name(0)}))


if __name__ == "__main__":
    main()
