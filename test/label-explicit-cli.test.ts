/**
 * `hegui label visible|all|check` end to end on real files in a folder: notices drawn and
 * inserted, the implicit label written in the same pass, per-rule reports (text and JSON),
 * exit statuses, and nothing half written when a file fails.
 */
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readLabelFile } from '../src/label/files.js';
import { cli } from './helpers/cli.js';
import { systemTool } from './helpers/system.js';
import { rawImage } from './label-explicit-samples.js';
import { PRODUCER } from './label-samples.js';

const dir = mkdtempSync(join(tmpdir(), 'hegui-explicit-cli-'));
const input = join(dir, 'in');

beforeAll(async () => {
  const { mkdir } = await import('node:fs/promises');
  await mkdir(join(input, 'nested'), { recursive: true });
  writeFileSync(join(input, 'photo.jpg'), await rawImage(640, 480, 'busy').jpeg({ quality: 80 }).toBuffer());
  writeFileSync(join(input, 'nested', 'icon.png'), await rawImage(120, 90, 'dark').png().toBuffer());
  writeFileSync(join(input, 'answer.md'), '# 回答\n\n第一段。\n\n第二段。\n');
  writeFileSync(join(input, 'page.html'), '<!DOCTYPE html><html><head><title>t</title></head><body><p>一</p><p>二</p></body></html>');
  writeFileSync(join(input, 'blob.bin'), Buffer.from([0, 1, 2, 3, 0, 255, 0, 7]));
});

describe('hegui label visible|all|check', () => {
  it('labels a folder (skipping what it cannot label) and the checker passes every output', async () => {
    const out = join(dir, 'visible');
    const labelled = await cli(['label', 'visible', input, '-o', out, '--position', 'end'], { cwd: dir });
    expect(labelled.code, labelled.stdout + labelled.stderr).toBe(0);
    expect(labelled.stdout).toMatch(/ok +in\/photo\.jpg -> visible\/photo\.jpg +jpeg +"AI生成" at bottom-right, text \d+ px = 5\.\d+% of 480 px/);
    expect(labelled.stdout).toMatch(/answer\.md.*markdown.*at the end/);
    expect(labelled.stderr).toMatch(/5 files: 4 labelled, 0 failed, 1 skipped/);
    expect(readFileSync(join(out, 'answer.md'), 'utf8')).toBe('# 回答\n\n第一段。\n\n第二段。\n\n*本内容由人工智能生成*\n');
    // Without OCR the images' wording is not read: they are unverified (and the exit status says so), the texts pass.
    const checked = await cli(['label', 'check', out, '--json', '--no-ocr'], { cwd: dir });
    expect(checked.code, checked.stdout).toBe(1);
    const records = checked.stdout.trim().split('\n').map((line) => JSON.parse(line) as { file: string; status: string; kind: string; rules: { rule: string; status: string }[] });
    expect(records.map((r) => [r.file, r.kind, r.status]).sort()).toEqual([
      ['visible/answer.md', 'text', 'passed'],
      ['visible/nested/icon.png', 'image', 'unverified'],
      ['visible/page.html', 'text', 'passed'],
      ['visible/photo.jpg', 'image', 'unverified'],
    ]);
    expect(records.flatMap((r) => r.rules).filter((rule) => rule.status === 'fail')).toEqual([]);
    expect(checked.stderr).toMatch(/2 files unverified/);
  });

  it.runIf(systemTool('tesseract', 'tesseract-ocr tesseract-ocr-chi-sim'))('writes the notice and the implicit label in one pass', async () => {
    const out = join(dir, 'all');
    const result = await cli(['label', 'all', join(input, 'photo.jpg'), join(input, 'answer.md'), '--producer', PRODUCER, '--id', 'out-{n}', '-o', out], { cwd: dir });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect((await readLabelFile(join(out, 'photo.jpg'))).label?.ProduceID).toBe('out-1');
    expect((await readLabelFile(join(out, 'answer.md'))).label?.ProduceID).toBe('out-2');
    const check = await cli(['label', 'check', join(out, 'photo.jpg'), join(out, 'answer.md')], { cwd: dir });
    expect(check.code, check.stdout).toBe(0);
    expect(check.stdout).toMatch(/PASS .*photo\.jpg +image\/jpeg\n +pass +image\.position/);
    expect(check.stdout).toMatch(/pass +image\.height +text height \d+ px is 5\.\d+% of the shortest side 480 px/);
  });

  it('fails a file it cannot label completely, leaving nothing half written', async () => {
    const plain = join(dir, 'note.txt');
    writeFileSync(plain, '这是一段纯文本。\n');
    const broken = join(dir, 'broken.jpg');
    const jpeg = await rawImage(64, 64, 'busy').jpeg().toBuffer();
    writeFileSync(broken, jpeg.subarray(0, 300));
    const result = await cli(['label', 'all', 'note.txt', 'broken.jpg', '--producer', PRODUCER, '--id', 'x', '--in-place'], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/FAIL +note\.txt +E_LABEL_NO_IMPLICIT_PLACE/);
    expect(result.stdout).toMatch(/FAIL +broken\.jpg +E_LABEL_IMAGE_DECODE: cannot decode the jpeg image/);
    expect(readFileSync(plain, 'utf8')).toBe('这是一段纯文本。\n');
    expect(readFileSync(broken)).toEqual(jpeg.subarray(0, 300));
    expect(readdirSync(dir).filter((name) => name.endsWith('.hegui-tmp'))).toEqual([]);
    const check = await cli(['label', 'check', 'broken.jpg', '--json'], { cwd: dir });
    expect(check.code).toBe(1);
    expect(JSON.parse(check.stdout)).toMatchObject({ file: 'broken.jpg', error: { code: 'E_LABEL_IMAGE_DECODE' } });
  });

  it('reports a file without a notice as failed, rule by rule, with a non-zero exit', async () => {
    const result = await cli(['label', 'check', 'in/answer.md', 'in/photo.jpg', '--no-ocr'], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/FAIL +in\/answer\.md +text\/markdown\n +fail +text\.wording +no notice found/);
    expect(result.stdout).toMatch(/FAIL +in\/photo\.jpg +image\/jpeg/);
  });

  it('reports an XMP thumbnail and a motion photo video it removed, on the line and in --json', async () => {
    const jpeg = await rawImage(320, 240, 'busy').jpeg({ quality: 80 }).toBuffer();
    const thumb = await rawImage(160, 120, 'busy').jpeg({ quality: 80 }).toBuffer();
    const rdf = 'http://www.w3.org/1999/02/22-rdf-syntax-ns#';
    const packet =
      `<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="${rdf}"><rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:xmpGImg="http://ns.adobe.com/xap/1.0/g/img/" ` +
      `xmlns:GCamera="http://ns.google.com/photos/1.0/camera/" GCamera:MicroVideo="1" GCamera:MicroVideoOffset="64"><xmp:Thumbnails><rdf:Alt><rdf:li rdf:parseType="Resource">` +
      `<xmpGImg:image>${thumb.toString('base64')}</xmpGImg:image></rdf:li></rdf:Alt></xmp:Thumbnails></rdf:Description></rdf:RDF></x:xmpmeta>`;
    const body = Buffer.concat([Buffer.from('http://ns.adobe.com/xap/1.0/\0', 'latin1'), Buffer.from(packet)]);
    const app1 = Buffer.concat([Buffer.from([0xff, 0xe1, (body.length + 2) >> 8, (body.length + 2) & 0xff]), body]);
    const video = Buffer.concat([Buffer.from([0, 0, 0, 24]), Buffer.from('ftypmp42', 'latin1'), Buffer.alloc(52, 1)]);
    writeFileSync(join(dir, 'motion.jpg'), Buffer.concat([jpeg.subarray(0, 2), app1, jpeg.subarray(2), video]));
    const text = await cli(['label', 'visible', 'motion.jpg', '-o', 'motion-out.jpg'], { cwd: dir });
    expect(text.code, text.stdout + text.stderr).toBe(0);
    expect(text.stdout).toMatch(/; XMP thumbnail removed: xmp:Thumbnails in the XMP packet; motion photo video removed: the video after the picture \(64 bytes\); the XMP properties that described it \(GCamera:MicroVideo, GCamera:MicroVideoOffset\) removed/);
    const json = await cli(['label', 'visible', 'motion.jpg', '-o', 'motion-out2.jpg', '--json'], { cwd: dir });
    expect((JSON.parse(json.stdout) as { previews: { kind: string; action: string }[] }).previews.map((p) => [p.kind, p.action])).toEqual([
      ['xmp-thumbnail', 'removed'],
      ['motion-photo', 'removed'],
    ]);
    const written = readFileSync(join(dir, 'motion-out.jpg'));
    expect(written.includes(Buffer.from('ftypmp42'))).toBe(false);
    expect(written.includes(Buffer.from('xmp:Thumbnails'))).toBe(false);
  });

  it('refuses bad options before touching any file', async () => {
    expect((await cli(['label', 'visible', input, '--in-place', '--position', 'centre'], { cwd: dir })).code).toBe(2);
    expect((await cli(['label', 'visible', input, '--in-place', '--text', 'made by hand'], { cwd: dir })).stdout).toMatch(/E_LABEL_NOTICE_WORDING/);
    expect((await cli(['label', 'visible', input], { cwd: dir })).code).toBe(2);
    const both = await cli(['label', 'visible', input, '--in-place', '--splice', '--reencode'], { cwd: dir });
    expect(both.code).toBe(2);
    expect(both.stdout + both.stderr).toMatch(/give at most one of --splice and --reencode/);
  });
});
