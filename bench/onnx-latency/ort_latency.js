// ort_latency.js — ONNX Runtime's (onnxruntime-node) latency on an exported
// model: the median wall time of one session.run on 1 row and on 1000 rows
// of uniform [0, 1) inputs; predict_latency.c is its bp_predict twin.
//   usage: NODE_PATH=tools/node/node_modules node ort_latency.js MODEL.onnx THREADS
'use strict';
const ort = require('onnxruntime-node');

(async () => {
    const [model, threads] = process.argv.slice(2);
    const s = await ort.InferenceSession.create(model, {
        intraOpNumThreads: Number(threads), interOpNumThreads: 1, executionMode: 'sequential',
    });
    const nIn = s.inputMetadata[0].shape[1]; // ["N", N(0)]
    for (const batch of [1, 1000]) {
        const x = new Float32Array(batch * nIn).map(() => Math.random());
        const feeds = { x: new ort.Tensor('float32', x, [batch, nIn]) };
        const reps = batch === 1 ? 400 : 50, t = [];
        for (let i = 0; i < reps / 10; i++) await s.run(feeds); // warm-up
        for (let i = 0; i < reps; i++) {
            const t0 = process.hrtime.bigint();
            await s.run(feeds);
            t.push(Number(process.hrtime.bigint() - t0) / 1e3);
        }
        t.sort((a, b) => a - b);
        console.log(`onnxruntime batch ${String(batch).padStart(4)}: median ${t[reps >> 1].toFixed(1).padStart(9)} us (${reps} calls)`);
    }
})();
