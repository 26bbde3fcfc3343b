// Extension host tests of the charts that "Export report" saves: checking what the panel sends, and writing
// the PNG files beside the JSON report.
import * as assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import { parseChartImages, sanitizeChartName, writeChartImages } from '../../src/extension/chartFiles';
import { OutputOverwritesInputError } from '../../src/formats/atomicWrite';

const pngSignature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const checksum = Buffer.alloc(4);
  checksum.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, checksum]);
}

/** Encodes a width×height image of one RGBA colour as PNG, with zlib compressing the scanlines. */
function encodePng(width: number, height: number, rgba: readonly number[]): Uint8Array {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  // 8 bits per channel and colour type 6 (RGBA). The compression, filter and interlace methods stay 0.
  header[8] = 8;
  header[9] = 6;
  // Each scanline starts with filter type 0 (none).
  const scanline = Buffer.from([0, ...Array.from({ length: width }, () => rgba).flat()]);
  const pixels = Buffer.concat(Array.from({ length: height }, () => scanline));
  const file = Buffer.concat([pngSignature, pngChunk('IHDR', header), pngChunk('IDAT', deflateSync(pixels)), pngChunk('IEND', Buffer.alloc(0))]);
  return new Uint8Array(file);
}

suite('chart images from the panel', () => {
  test('accepts PNG bytes as a copy', () => {
    const png = encodePng(3, 2, [30, 30, 30, 255]);
    const [chart] = parseChartImages([{ name: 'loss', png }]);
    assert.equal(chart.name, 'loss');
    assert.deepEqual(Buffer.from(chart.png), Buffer.from(png));
    png[20] = 99;
    assert.notEqual(chart.png[20], 99, 'the parsed chart shares its bytes with the message');
  });

  test('accepts an ArrayBuffer and a Buffer', () => {
    const png = encodePng(1, 1, [0, 0, 255, 255]);
    const charts = parseChartImages([{ name: 'a', png: png.buffer }, { name: 'b', png: Buffer.from(png) }]);
    assert.deepEqual(charts.map((chart) => Buffer.from(chart.png)), [Buffer.from(png), Buffer.from(png)]);
  });

  test('treats missing charts as none', () => {
    assert.deepEqual(parseChartImages(undefined), []);
    assert.deepEqual(parseChartImages([]), []);
  });

  test('rejects bytes without the signature', () => {
    const jpeg = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 0x4a, 0x46, 0x49, 0x46]);
    assert.throws(() => parseChartImages([{ name: 'loss', png: jpeg }]), /Chart "loss" sent by the panel is invalid/);
    assert.throws(() => parseChartImages([{ name: 'short', png: pngSignature.subarray(0, 4) }]), /Chart "short"/);
  });

  test('rejects charts without name or bytes', () => {
    const png = encodePng(1, 1, [0, 0, 0, 255]);
    assert.throws(() => parseChartImages([{ png }]), /Chart number 1 sent by the panel is invalid/);
    assert.throws(() => parseChartImages([{ name: 'ok', png }, { name: 'numbers', png: Array.from(png) }]), /Chart "numbers"/);
    assert.throws(() => parseChartImages([null]), /Chart number 1/);
    assert.throws(() => parseChartImages({ name: 'loss', png }), /expected a list of \{ name, png \}/);
  });
});

suite('chart file names', () => {
  const cases: [string, string][] = [
    ['loss', 'loss'],
    ['heatmap.P_fc1.after', 'heatmap.P_fc1.after'],
    ['heatmap.layers/0:attn.after', 'heatmap.layers_0_attn.after'],
    ['../../etc/passwd', '.._.._etc_passwd'],
    ['λ sweep', '__sweep'],
    ['', 'chart'],
  ];
  for (const [name, expected] of cases) {
    test(`sanitizes "${name}"`, () => {
      assert.equal(sanitizeChartName(name), expected);
    });
  }

  test('limits names to 100 characters', () => {
    assert.equal(sanitizeChartName('x'.repeat(300)), 'x'.repeat(100));
  });
});

suite('chart files beside the report', () => {
  let folder: string;

  setup(() => {
    folder = mkdtempSync(join(tmpdir(), 'chart-export-'));
  });

  teardown(() => {
    rmSync(folder, { recursive: true, force: true });
  });

  test('writes one PNG per chart', async () => {
    const report = join(folder, 'b_onto_a.alignment.json');
    const loss = encodePng(4, 3, [200, 100, 0, 255]);
    const heatmap = encodePng(2, 2, [0, 0, 255, 255]);
    const logged: string[] = [];

    const written = await writeChartImages(report, [{ name: 'loss', png: loss }, { name: 'heatmap.P/fc1.after', png: heatmap }], [], { info: (line) => logged.push(line) });

    const expected = [join(folder, 'b_onto_a.alignment.loss.png'), join(folder, 'b_onto_a.alignment.heatmap.P_fc1.after.png')];
    assert.deepEqual(written, expected);
    assert.deepEqual(readFileSync(expected[0]), Buffer.from(loss));
    assert.deepEqual(readFileSync(expected[1]), Buffer.from(heatmap));
    assert.equal(logged.length, 2);
    assert.ok(logged[0].includes(expected[0]), `log line names the file: ${logged[0]}`);
    assert.ok(logged[1].includes(expected[1]), `log line names the file: ${logged[1]}`);
    assert.deepEqual(readdirSync(folder).sort(), ['b_onto_a.alignment.heatmap.P_fc1.after.png', 'b_onto_a.alignment.loss.png'], 'no temporary files left');
  });

  test('numbers names that collide', async () => {
    const png = encodePng(1, 1, [0, 0, 0, 255]);
    const charts = ['heatmap.P:a', 'heatmap.P/a', 'HEATMAP.P_A'].map((name) => ({ name, png }));

    const written = await writeChartImages(join(folder, 'r.json'), charts, [], { info: () => undefined });

    assert.deepEqual(written, ['r.heatmap.P_a.png', 'r.heatmap.P_a-2.png', 'r.HEATMAP.P_A-3.png'].map((name) => join(folder, name)));
    assert.equal(readdirSync(folder).length, 3);
  });

  test('keeps a report name without .json', async () => {
    const png = encodePng(1, 1, [0, 0, 0, 255]);
    const written = await writeChartImages(join(folder, 'report'), [{ name: 'loss', png }], [], { info: () => undefined });
    assert.deepEqual(written, [join(folder, 'report.loss.png')]);
  });

  test('never writes over an input', async () => {
    const input = join(folder, 'r.loss.png');
    writeFileSync(input, 'an input file');
    const png = encodePng(1, 1, [0, 0, 0, 255]);

    await assert.rejects(writeChartImages(join(folder, 'r.json'), [{ name: 'loss', png }], [input], { info: () => undefined }), OutputOverwritesInputError);

    assert.equal(readFileSync(input, 'utf8'), 'an input file');
    assert.deepEqual(readdirSync(folder), ['r.loss.png']);
  });
});
