/**
 * Labels other tools write (issue 11): exiftool puts the TC260 XMP property where each format
 * keeps XMP (PDF's /Metadata stream, MP4's `uuid` box, MOV's `udta/XMP_`, JPEG APP1, ...).
 * hegui must read it, replace it rather than add a second label beside it, and strip it.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embedLabel, readLabels, stripLabel } from './api.js';
import { generateLabelKeys, parseSigningKey } from './security-keys.js';
import { documentSamples, mediaSamples, PRODUCER, TC260_EXIFTOOL_CONFIG } from '../../test/label-samples.js';
import { systemTool } from '../../test/helpers/system.js';

const exiftool = systemTool('exiftool', 'libimage-exiftool-perl');
const ffmpeg = systemTool('ffmpeg', 'ffmpeg');
const qpdf = systemTool('qpdf', 'qpdf');
const key = parseSigningKey(generateLabelKeys('ed25519').privateKeyPem);


const FOREIGN = '{"Label":"2","ContentProducer":"001191350100M000100Y431A001","ProduceID":"exiftool-1"}';

describe.runIf(exiftool)('labels exiftool wrote', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hegui-foreign-'));
  const config = join(dir, 'tc260.config');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const samples: Record<string, Uint8Array> = {};
  beforeAll(async () => {
    writeFileSync(config, TC260_EXIFTOOL_CONFIG);
    const solid = () => sharp({ create: { width: 8, height: 8, channels: 3, background: 'green' } });
    Object.assign(samples, {
      'a.jpg': await solid().jpeg().toBuffer(),
      'a.png': await solid().png().toBuffer(),
      'a.webp': await solid().webp().toBuffer(),
      'a.tif': await solid().tiff().toBuffer(),
      'a.pdf': documentSamples()['page.pdf'],
    });
    if (ffmpeg) {
      const media = mediaSamples();
      Object.assign(samples, { 'a.mp4': media['clip.mp4'], 'a.m4a': media['tone.m4a'], 'a.mov': media['clip.mov'] });
    }
  }, 60_000);

  /** The file with exiftool's TC260 property (and a title beside it). */
  function withForeignLabel(name: string): Uint8Array {
    const path = join(dir, name);
    writeFileSync(path, samples[name] ?? new Uint8Array());
    execFileSync('exiftool', ['-config', config, '-q', '-overwrite_original', `-XMP-TC260:AIGC=${FOREIGN}`, '-XMP-dc:Title=kept', path]);
    return readFileSync(path);
  }

  function exiftoolLabel(bytes: Uint8Array, name: string): unknown {
    const path = join(dir, `check-${name}`);
    writeFileSync(path, bytes);
    return (JSON.parse(execFileSync('exiftool', ['-config', config, '-j', '-XMP-TC260:AIGC', '-XMP-dc:Title', path]).toString()) as Record<string, unknown>[])[0];
  }

  for (const name of ['a.jpg', 'a.png', 'a.webp', 'a.tif', 'a.pdf', 'a.mp4', 'a.m4a', 'a.mov']) {
    it.runIf(!name.startsWith('a.m') || ffmpeg)(`${name}: read, replaced on embed (never doubled), stripped`, async () => {
      const foreign = withForeignLabel(name);
      const report = await readLabels(foreign);
      expect(report.label?.ProduceID, 'hegui reads exiftool\'s label').toBe('exiftool-1');

      const { bytes: labelled } = await embedLabel(foreign, { producer: PRODUCER, produceId: 'hegui-1', key });
      const after = await readLabels(labelled ?? new Uint8Array(), { keys: [key.publicKey] });
      expect(after.status, 'the new signature holds').toBe('valid');
      if (name.endsWith('.pdf') && qpdf) {
        const path = join(dir, 'checked.pdf');
        writeFileSync(path, labelled ?? new Uint8Array());
        expect(spawnSync('qpdf', ['--check', path]).status).toBe(0);
      }
      expect(after.found.map((f) => f.label?.ProduceID)).toEqual(['hegui-1']);
      expect(after.conflicts).toEqual([]);
      expect(exiftoolLabel(labelled ?? new Uint8Array(), name)).toMatchObject({ Title: 'kept' });
      expect((exiftoolLabel(labelled ?? new Uint8Array(), name) as { AIGC?: string }).AIGC ?? '').not.toContain('exiftool-1');

      const { bytes: stripped } = await stripLabel(foreign);
      expect((await readLabels(stripped ?? new Uint8Array())).presence).toBe('none');
      expect(exiftoolLabel(stripped ?? new Uint8Array(), name)).not.toHaveProperty('AIGC');
    });
  }
});
