// onnx_check.js — exported models run in ONNX Runtime (onnxruntime-node)
// against `backprop predict`'s outputs. Each line of the manifest (argv[2])
// is "MODEL.onnx X.csv P.csv [L.csv]": the inputs, predict's outputs and,
// for softmax_ce, predict --classes' labels. Per case the outputs must
// agree within max|a - b| <= 1e-5 max|b| over the whole batch, and the
// labels exactly. One line per failure, a summary; exit 1 on any failure.
'use strict';
const fs = require('fs');
const ort = require('onnxruntime-node');

function readCsv(path) {
    const rows = fs.readFileSync(path, 'utf8').trim().split('\n');
    const cols = rows[0].split(',').length;
    const v = new Float64Array(rows.length * cols);
    rows.forEach((r, i) => r.split(',').forEach((s, j) => { v[i * cols + j] = Number(s); }));
    return { v, rows: rows.length, cols };
}

async function check(model, xPath, pPath, lPath) {
    const x = readCsv(xPath), p = readCsv(pPath);
    const session = await ort.InferenceSession.create(model, { intraOpNumThreads: 1 });
    const out = await session.run({ x: new ort.Tensor('float32', Float32Array.from(x.v), [x.rows, x.cols]) });
    const y = out.y;
    if (y.dims[0] !== p.rows || y.dims[1] !== p.cols)
        return `${model}: y is [${y.dims}], predict gave [${p.rows},${p.cols}]`;
    let diff = 0, scale = 0;
    for (let k = 0; k < p.v.length; k++) {
        diff = Math.max(diff, Math.abs(y.data[k] - p.v[k]));
        scale = Math.max(scale, Math.abs(p.v[k]));
    }
    if (!(diff <= 1e-5 * scale))
        return `${model} on ${xPath}: max|ort - predict| = ${diff}, > 1e-5 * max|predict| = ${1e-5 * scale}`;
    if (lPath) {
        const l = readCsv(lPath);
        if (!out.label || out.label.dims.length !== 1 || out.label.dims[0] !== l.rows)
            return `${model}: no label [${l.rows}] output`;
        for (let i = 0; i < l.rows; i++)
            if (Number(out.label.data[i]) !== l.v[i])
                return `${model} on ${xPath}: label[${i}] = ${out.label.data[i]}, predict --classes ${l.v[i]}`;
    } else if (out.label) {
        return `${model}: a label output, but the model is no softmax_ce classifier`;
    }
    return null;
}

(async () => {
    const lines = fs.readFileSync(process.argv[2], 'utf8').trim().split('\n');
    let failed = 0;
    for (const line of lines) {
        const [model, x, p, l] = line.split(' ');
        let msg;
        try {
            msg = await check(model, x, p, l);
        } catch (e) {
            msg = `${model}: ${String(e.message || e).split('\n')[0]}`;
        }
        if (msg) {
            failed++;
            console.log(`FAIL: ${msg}`);
        }
    }
    console.log(`onnx_check.js: ${lines.length - failed} of ${lines.length} runs agree with predict`);
    process.exit(failed ? 1 : 0);
})();
