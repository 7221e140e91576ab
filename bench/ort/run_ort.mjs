// run_ort.mjs: runs an ONNX model with ONNX Runtime (CPU), modelc's correctness and speed
// reference, and writes its outputs in ONNX's backend-test layout.
//
//   node bench/ort/run_ort.mjs MODEL.onnx OUTDIR IN0.pb [IN1.pb ...] [--bench N] [--threads T]
//
// Inputs are ONNX TensorProto files. They are bound to the model's graph inputs by the
// TensorProto's name when it matches one, otherwise by position (input_N.pb -> N-th input).
// Outputs go to OUTDIR/output_N.pb in the session's output order, each a TensorProto with
// dims, data_type, name and raw_data (little-endian), like ONNX's own test data.
// --bench N runs the model N more times after one warm-up run and prints "median_us: X".
// --threads T sets ONNX Runtime's intra-op threads (default 1: the generated C is single-threaded).
// Only a minimal protobuf reader/writer for TensorProto is here: no protobuf dependency.

import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const ort = require('onnxruntime-node');

// ONNX TensorProto.DataType -> [ORT type name, typed array constructor]
const DTYPES = {
  1: ['float32', Float32Array],
  2: ['uint8', Uint8Array],
  3: ['int8', Int8Array],
  4: ['uint16', Uint16Array],
  5: ['int16', Int16Array],
  6: ['int32', Int32Array],
  7: ['int64', BigInt64Array],
  9: ['bool', Uint8Array],
  10: ['float16', Uint16Array],
  11: ['float64', Float64Array],
  12: ['uint32', Uint32Array],
  13: ['uint64', BigUint64Array],
};
const ONNX_TYPE_OF = Object.fromEntries(Object.entries(DTYPES).map(([k, [n]]) => [n, Number(k)]));

function die(msg) {
  process.stderr.write(`run_ort: ${msg}\n`);
  process.exit(1);
}

// ---- protobuf reading -------------------------------------------------------------------

class Reader {
  constructor(buf) { this.buf = buf; this.pos = 0; }
  eof() { return this.pos >= this.buf.length; }
  varint() { // as BigInt: int64 dims/values may exceed 2^53
    let result = 0n, shift = 0n;
    for (;;) {
      if (this.pos >= this.buf.length) throw new Error('truncated varint');
      const b = this.buf[this.pos++];
      result |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return result;
      shift += 7n;
      if (shift > 63n) throw new Error('varint too long');
    }
  }
  bytes(n) {
    if (this.pos + n > this.buf.length) throw new Error('truncated field');
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  skip(wire) {
    if (wire === 0) this.varint();
    else if (wire === 1) this.bytes(8);
    else if (wire === 2) this.bytes(Number(this.varint()));
    else if (wire === 5) this.bytes(4);
    else throw new Error(`unsupported wire type ${wire}`);
  }
}

const toSigned64 = (v) => BigInt.asIntN(64, v);

// Parses the fields of TensorProto that carry data; segments, external data and strings are refused.
function parseTensorProto(buf, file) {
  const r = new Reader(buf);
  const t = { dims: [], dataType: 0, name: '', raw: null, floats: [], ints32: [], ints64: [], doubles: [], uints64: [] };
  // repeated numeric fields may come packed (wire 2) or one by one
  const repeated = (wire, readOne, list, width) => {
    if (wire === 2) {
      const sub = new Reader(r.bytes(Number(r.varint())));
      while (!sub.eof()) list.push(width ? readOne(sub, width) : readOne(sub));
    } else {
      list.push(width ? readOne(r, width) : readOne(r));
    }
  };
  const fixed = (rd, width) => {
    const b = rd.bytes(width);
    const dv = new DataView(b.buffer, b.byteOffset, width);
    return width === 4 ? dv.getFloat32(0, true) : dv.getFloat64(0, true);
  };
  while (!r.eof()) {
    const key = Number(r.varint());
    const field = key >>> 3, wire = key & 7;
    switch (field) {
      case 1: repeated(wire, (rd) => toSigned64(rd.varint()), t.dims); break;
      case 2: t.dataType = Number(r.varint()); break;
      case 4: repeated(wire, fixed, t.floats, 4); break;
      case 5: repeated(wire, (rd) => toSigned64(rd.varint()), t.ints32); break;
      case 7: repeated(wire, (rd) => toSigned64(rd.varint()), t.ints64); break;
      case 8: t.name = Buffer.from(r.bytes(Number(r.varint()))).toString('utf8'); break;
      case 9: t.raw = r.bytes(Number(r.varint())); break;
      case 10: repeated(wire, fixed, t.doubles, 8); break;
      case 11: repeated(wire, (rd) => rd.varint(), t.uints64); break;
      case 3: case 6: case 13: die(`${file}: TensorProto field ${field} (segment/string/external data) is not supported`); break;
      case 14: if (Number(r.varint()) !== 0) die(`${file}: data_location is not DEFAULT (external data is not supported; is this a TensorProto?)`); break;
      default: r.skip(wire);
    }
  }
  return t;
}

function tensorFromProto(t, file) {
  const dt = DTYPES[t.dataType];
  if (!dt) die(`${file}: unsupported data_type ${t.dataType}`);
  const [typeName, Ctor] = dt;
  const dims = t.dims.map(Number);
  const count = dims.reduce((a, b) => a * b, 1);
  let data;
  if (t.raw) {
    if (t.raw.length !== count * Ctor.BYTES_PER_ELEMENT) die(`${file}: raw_data has ${t.raw.length} bytes, expected ${count * Ctor.BYTES_PER_ELEMENT}`);
    data = new Ctor(count);
    new Uint8Array(data.buffer).set(t.raw); // copy: raw is unaligned inside the file buffer
  } else {
    // typed fields: float_data for float; int32_data for (u)int8/16/32-bit, bool, float16; int64_data; double_data; uint64_data
    let src;
    if (t.dataType === 1) src = t.floats;
    else if (t.dataType === 11) src = t.doubles;
    else if (t.dataType === 7) src = t.ints64;
    else if (t.dataType === 13 || t.dataType === 12) src = t.uints64.length ? t.uints64 : t.ints32;
    else src = t.ints32;
    if (src.length !== count) die(`${file}: has ${src.length} values, expected ${count}`);
    data = new Ctor(count);
    for (let i = 0; i < count; i++) {
      const v = src[i];
      data[i] = (Ctor === BigInt64Array || Ctor === BigUint64Array) ? BigInt(v) : Number(v);
    }
  }
  return new ort.Tensor(typeName, data, dims);
}

// ---- protobuf writing -------------------------------------------------------------------

function varintBytes(v) { // v: non-negative BigInt or number
  let x = BigInt.asUintN(64, BigInt(v));
  const out = [];
  do {
    let b = Number(x & 0x7fn);
    x >>= 7n;
    if (x) b |= 0x80;
    out.push(b);
  } while (x);
  return out;
}

function encodeTensorProto(name, tensor) {
  const dataType = ONNX_TYPE_OF[tensor.type];
  if (!dataType) die(`output ${name}: unsupported ORT type ${tensor.type}`);
  const data = tensor.data;
  const raw = Buffer.from(data.buffer, data.byteOffset, data.byteLength); // typed arrays are little-endian here (x86/arm)
  const nameBytes = Buffer.from(name, 'utf8');
  const parts = [];
  for (const d of tensor.dims) parts.push(Buffer.from([0x08, ...varintBytes(d)])); // field 1, varint
  parts.push(Buffer.from([0x10, ...varintBytes(dataType)])); // field 2, varint
  parts.push(Buffer.from([0x42, ...varintBytes(nameBytes.length)]), nameBytes); // field 8, bytes
  parts.push(Buffer.from([0x4a, ...varintBytes(raw.length)]), raw); // field 9, bytes
  return Buffer.concat(parts);
}

// ---- main -------------------------------------------------------------------------------

async function main() {
  const args = process.argv.slice(2);
  let bench = 0, threads = 1;
  const pos = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--bench') bench = parseInt(args[++i], 10);
    else if (args[i] === '--threads') threads = parseInt(args[++i], 10);
    else pos.push(args[i]);
  }
  if (pos.length < 2 || !(bench >= 0) || !(threads >= 1)) {
    die('usage: node run_ort.mjs MODEL.onnx OUTDIR IN0.pb [IN1.pb ...] [--bench N] [--threads T]');
  }
  const [modelPath, outDir, ...inFiles] = pos;

  const session = await ort.InferenceSession.create(modelPath, {
    executionProviders: ['cpu'],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  });
  if (inFiles.length !== session.inputNames.length) {
    die(`${modelPath} has ${session.inputNames.length} inputs (${session.inputNames.join(', ')}), got ${inFiles.length} files`);
  }
  const feeds = {};
  inFiles.forEach((file, i) => {
    let proto;
    try {
      proto = parseTensorProto(fs.readFileSync(file), file);
    } catch (e) {
      die(`${file}: not a TensorProto (${e.message})`);
    }
    const name = session.inputNames.includes(proto.name) ? proto.name : session.inputNames[i];
    if (name in feeds) die(`${file}: input ${name} given twice`);
    feeds[name] = tensorFromProto(proto, file);
  });

  const results = await session.run(feeds);
  fs.mkdirSync(outDir, { recursive: true });
  session.outputNames.forEach((name, i) => {
    fs.writeFileSync(path.join(outDir, `output_${i}.pb`), encodeTensorProto(name, results[name]));
  });

  if (bench > 0) {
    const times = [];
    for (let i = 0; i < bench; i++) {
      const t0 = performance.now();
      await session.run(feeds);
      times.push((performance.now() - t0) * 1000);
    }
    times.sort((a, b) => a - b);
    const mid = times.length >> 1;
    const median = times.length % 2 ? times[mid] : (times[mid - 1] + times[mid]) / 2;
    console.log(`median_us: ${median.toFixed(1)}`);
  }
}

main().catch((e) => die(e && e.message ? e.message : String(e)));
