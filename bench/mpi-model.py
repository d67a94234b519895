#!/usr/bin/env python3
"""The cost model of a data-parallel step (docs/mpi.md), set against what
bench/mpi-netns.sh measured, then used to predict larger clusters.

A step is the forward pass, the backward pass, and a ring all-reduce of
the gradient in buckets (as `backprop train --bucket-mb` makes them). On N
nodes a ring moves 2(N-1)/N of a bucket's bytes through each node's link
and pays 2(N-1) latencies. A bucket can start once the backward pass has
made it (the pass runs from the output layer down, its time split among its
products by their multiply-adds), and the link serves the buckets one after
another. So bucket k ends at C_k = max(C_{k-1}, r_k) + s_k, and the step
takes max(compute, C_last): with one bucket after the pass (--bucket-mb 0),
compute + s. The link's efficiency eta (what fraction of the tbf rate the
TCP transfer gets) is fitted once per --bucket-mb, at the slowest shaped
link: one all-reduce after the pass and a pipeline of buckets do not use
the link alike. Every other figure is a prediction.

Usage: bench/mpi-model.py RUNS BATCH  (RUNS: the lines bench/mpi-netns.sh writes)
"""
import statistics
import sys

RATE = {"1gbit": 1e9, "3gbit": 3e9, "5gbit": 5e9, "10gbit": 10e9}
NETS = ["784,256,128,10", "784,1024,1024,10"]


def sizes(net):
    return [int(v) for v in net.split(",")]


def n_params(s):
    return sum(s[i] * s[i + 1] + s[i + 1] for i in range(len(s) - 1))


def plan(s, bucket):
    """The library's ranges (src/train/epoch.c ranges_open): each range's
    values and the fraction of the backward pass done when it is ready."""
    L = len(s) - 1
    P = n_params(s)
    off = [0] * L
    for l in range(1, L):
        off[l] = off[l - 1] + s[l - 1] * s[l] + s[l]
    # the backward pass: for l = L-1 .. 0: the blocks of grad W(l), then delta(l)
    work = sum(2 * s[l] * s[l + 1] for l in range(L)) + sum(s[l] * s[l + 1] for l in range(1, L))
    done, out, last = 0.0, [], P
    for l in range(L - 1, -1, -1):
        o, i = s[l + 1], s[l]
        rows = o if bucket == 0 or o * i <= bucket else max(1, bucket // i)
        hi = o
        while hi > 0:
            lo = max(0, hi - rows)
            done += (hi - lo) * i  # this block's product
            frm = off[l] + lo * i
            if frm == 0 or (bucket > 0 and last - frm >= bucket):
                out.append((last - frm, done / work))
                last = frm
            hi = lo
        if l > 0:
            done += o * i  # delta(l)
    if bucket == 0:
        out = [(P, 1.0)]
    return out


def step_time(s, t_c, bucket, nodes, beta, eta, alpha):
    """Seconds of a step: compute t_c (a third forward, two thirds backward)
    and the buckets' ring all-reduce."""
    t_f, t_b = t_c / 3, 2 * t_c / 3
    c = 0.0
    for values, frac in plan(s, bucket):
        r = t_f + frac * t_b
        serve = 2 * (nodes - 1) / nodes * values * 4 * 8 / (beta * eta) + 2 * (nodes - 1) * alpha
        c = max(c, r) + serve
    return max(t_c, c)


def main():
    runs, batch = sys.argv[1], int(sys.argv[2])
    got = {}
    for line in open(runs):
        f = line.split()
        if len(f) == 5 and f[4] not in ("", "failed"):
            got.setdefault((f[1], f[2], f[3]), []).append(float(f[4]))
    med = {k: statistics.median(v) for k, v in got.items()}
    links = sorted({k[1] for k in med if k[1] != "compute"}, key=lambda x: RATE.get(x, 1e99))
    buckets = sorted({k[2] for k in med if k[1] != "compute"}, key=float)
    rounds = max(len(v) for v in got.values())
    print(f"\nmedians of {rounds} rounds, 2 hosts, 1 thread each, global batch {batch}; "
          f"exchange = step without overlap - compute; hidden = time saved / exchange\n")
    print("| model | link | compute ms/step | --bucket-mb | examples/s | ms/step | speed-up | "
          "exchange hidden | model ms/step |")
    print("|---|---|---|---|---|---|---|---|---|")
    fits = {}
    for net in NETS:
        s = sizes(net)
        if (net, "compute", "-") not in med:
            continue
        t_c = batch / 2 / med[(net, "compute", "-")]
        # eta per bucket size at the slowest shaped link
        shaped = [x for x in links if x in RATE]
        eta = {}
        for b in buckets:
            if shaped and (net, shaped[0], b) in med:
                want = batch / med[(net, shaped[0], b)]
                lo, hi = 0.01, 1.5
                for _ in range(60):  # the step time falls as eta grows
                    mid = (lo + hi) / 2
                    t = step_time(s, t_c, int(float(b) * 1048576 / 4), 2, RATE[shaped[0]], mid, 0)
                    lo, hi = (mid, hi) if t > want else (lo, mid)
                eta[b] = (lo + hi) / 2
        fits[net] = (eta, shaped[0] if shaped else None)
        for link in links:
            base = med.get((net, link, "0"))
            for b in buckets:
                x = med.get((net, link, b))
                if x is None:
                    continue
                t = batch / x
                t0 = batch / base if base else None
                hid = (t0 - t) / (t0 - t_c) if t0 and b != "0" and t0 > t_c else None
                pred = ""
                if b in eta and link in RATE:
                    pred = "%.1f" % (1e3 * step_time(s, t_c, int(float(b) * 1048576 / 4), 2,
                                                     RATE[link], eta[b], 0))
                    pred += " (fitted)" if link == shaped[0] else ""
                print(f"| {net} | {link} | {1e3 * t_c:.1f} | {b} | {x:.0f} | {1e3 * t:.1f} | "
                      f"{'%.2f' % (t0 / t) if t0 else '-'} | "
                      f"{'%.0f%%' % (100 * hid) if hid is not None else '-'} | {pred} |")
    for net, (eta, x) in fits.items():
        print(f"\n{net}: eta fitted at {x}: " +
              ", ".join(f"--bucket-mb {b}: {e:.2f}" for b, e in eta.items()))
    # larger clusters: latency assumed (no netem on this kernel), eta as fitted
    print("\nPredicted (eta as fitted: one all-reduce's for --bucket-mb 0, the buckets' median "
          "for the others; latency per hop assumed: 10 GbE 20 us, 100 GbE 5 us; "
          "compute per example as measured here, one core per node):\n")
    print("| model | link | nodes | best --bucket-mb at 1024 | efficiency at global batch 1024 | "
          "smallest global batch with 80% efficiency |")
    print("|---|---|---|---|---|---|")
    for net in NETS:
        if net not in fits or (net, "compute", "-") not in med:
            continue
        s = sizes(net)
        eta = fits[net][0]
        if "0" not in eta or len(eta) < 2:
            continue
        eta_b = statistics.median(e for b, e in eta.items() if b != "0")
        per_ex = 1 / med[(net, "compute", "-")]
        for name, beta, alpha in (("10 GbE", 10e9, 20e-6), ("100 GbE", 100e9, 5e-6)):
            for nodes in (8, 64, 512):
                def eff(B, mb):
                    t_c = B / nodes * per_ex
                    return t_c / step_time(s, t_c, int(mb * 1048576 / 4), nodes, beta,
                                           eta["0"] if mb == 0 else eta_b, alpha)
                mbs = (0, 0.25, 1, 4, 16)
                best = max(mbs, key=lambda mb: eff(1024, mb))
                e1024 = eff(1024, best)
                B80 = None
                B = nodes
                while B <= 1 << 24:
                    if max(eff(B, mb) for mb in mbs) >= 0.8:
                        B80 = B
                        break
                    B *= 2
                print(f"| {net} | {name} | {nodes} | {best} | {100 * e1024:.0f}% | "
                      f"{B80 if B80 else '> 16M'} |")


if __name__ == "__main__":
    main()
