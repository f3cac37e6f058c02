// Runs an exported ONNX model with ONNX Runtime (the onnxruntime-node npm
// package that scripts/setup.sh installs into tests/deploy/ort/) on a .npy
// input and writes every graph output as OUT_DIR/<output name>.npy.
//
//   node ort_runner.js MODEL.onnx INPUT.npy OUT_DIR
//
// Only what the test needs of the .npy format: little-endian float32, C
// order, format versions 1 to 3 on reading, version 1 on writing.
'use strict';
const fs = require('fs');
const path = require('path');

function loadOrt() {
  const where = path.join(__dirname, 'ort', 'node_modules', 'onnxruntime-node');
  try {
    return require(where);
  } catch (e) {
    console.error(`ort_runner: cannot load onnxruntime-node from ${where} (run scripts/setup.sh, which runs ` +
                  `npm ci in tests/deploy/ort): ${e.message}`);
    process.exit(2);
  }
}

function readNpy(file) {
  const bytes = fs.readFileSync(file);
  if (bytes.toString('latin1', 0, 6) !== '\x93NUMPY') throw new Error(`${file}: not a .npy file`);
  const major = bytes[6];
  const headerLength = major === 1 ? bytes.readUInt16LE(8) : bytes.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = bytes.toString('latin1', start, start + headerLength);
  if (!/'descr':\s*'<f4'/.test(header) || /'fortran_order':\s*True/.test(header)) {
    throw new Error(`${file}: expected little-endian float32 in C order, header ${header.trim()}`);
  }
  const shape = header.match(/'shape':\s*\(([^)]*)\)/)[1].split(',').filter((s) => s.trim()).map(Number);
  const offset = start + headerLength;
  const count = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(count);
  for (let i = 0; i < count; ++i) data[i] = bytes.readFloatLE(offset + 4 * i);
  return { data, shape };
}

function writeNpy(file, data, shape) {
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(', ');
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${dims}), }`;
  // Magic, version and length take 10 bytes; the header ends in a newline at a 64-byte boundary.
  header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
  const out = Buffer.alloc(10 + header.length + 4 * data.length);
  out.write('\x93NUMPY', 0, 'latin1');
  out[6] = 1;
  out[7] = 0;
  out.writeUInt16LE(header.length, 8);
  out.write(header, 10, 'latin1');
  for (let i = 0; i < data.length; ++i) out.writeFloatLE(data[i], 10 + header.length + 4 * i);
  fs.writeFileSync(file, out);
}

async function main() {
  const [model, input, outDir] = process.argv.slice(2);
  if (!outDir) {
    console.error('usage: node ort_runner.js MODEL.onnx INPUT.npy OUT_DIR');
    process.exit(2);
  }
  const ort = loadOrt();
  const session = await ort.InferenceSession.create(model, { graphOptimizationLevel: 'all' });
  const x = readNpy(input);
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', x.data, x.shape) };
  const results = await session.run(feeds);
  fs.mkdirSync(outDir, { recursive: true });
  for (const name of session.outputNames) {
    writeNpy(path.join(outDir, `${name}.npy`), results[name].data, results[name].dims);
    console.log(`${name}: [${results[name].dims.join(',')}]`);
  }
}

main().catch((e) => {
  console.error(`ort_runner: ${e.message}`);
  process.exit(1);
});
