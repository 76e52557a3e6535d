/**
 * JPEG extended XMP (XMP Part 3 §1.1.3.1): a packet too large for one APP1 continues in APP1
 * chunks named by the MD5 of the extension. A label there is read, and taken out on write and
 * strip without breaking the link from the main packet.
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { readLabels, embedLabel, stripLabel } from '../api.js';
import { generateLabelKeys, parseSigningKey, parseVerifyKey } from '../security-keys.js';
import { systemTool } from '../../../test/helpers/system.js';
import { PRODUCER, TC260_EXIFTOOL_CONFIG } from '../../../test/label-samples.js';

const FOREIGN = '{"Label":"2","ContentProducer":"001191350100M000100Y431A001","ProduceID":"extended-1"}';

function app1(namespace: string, body: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt16BE(0xffe1, 0);
  head.writeUInt16BE(2 + namespace.length + body.length, 2);
  return Buffer.concat([head, Buffer.from(namespace, 'latin1'), body]);
}

/** A JPEG whose main XMP points to an extended packet, split in two chunks, that holds the label. */
async function withExtendedLabel(): Promise<{ jpeg: Buffer; guid: string }> {
  const base = await sharp({ create: { width: 8, height: 8, channels: 3, background: 'blue' } }).jpeg().toBuffer();
  const extended = Buffer.from(
    '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">' +
      '<rdf:Description rdf:about="" xmlns:TC260="http://www.tc260.org.cn/ns/AIGC/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">' +
      `<TC260:AIGC>${FOREIGN.replace(/"/g, '&quot;')}</TC260:AIGC><dc:source>${'s'.repeat(300)}</dc:source>` +
      '</rdf:Description></rdf:RDF></x:xmpmeta>',
  );
  const guid = createHash('md5').update(extended).digest('hex').toUpperCase();
  const main = Buffer.from(
    '<?xpacket begin="\uFEFF" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">' +
      `<rdf:Description rdf:about="" xmlns:xmpNote="http://ns.adobe.com/xmp/note/" xmpNote:HasExtendedXMP="${guid}"/>` +
      '</rdf:RDF></x:xmpmeta><?xpacket end="w"?>',
  );
  const half = Math.floor(extended.length / 2);
  const chunk = (offset: number, data: Buffer): Buffer => {
    const header = Buffer.alloc(8);
    header.writeUInt32BE(extended.length, 0);
    header.writeUInt32BE(offset, 4);
    return app1('http://ns.adobe.com/xmp/extension/\0', Buffer.concat([Buffer.from(guid, 'latin1'), header, data]));
  };
  const jpeg = Buffer.concat([base.subarray(0, 2), app1('http://ns.adobe.com/xap/1.0/\0', main), chunk(0, extended.subarray(0, half)), chunk(half, extended.subarray(half)), base.subarray(2)]);
  return { jpeg, guid };
}

describe('JPEG extended XMP', () => {
  it('reads the label there, replaces it on embed and removes it on strip', async () => {
    const { jpeg, guid } = await withExtendedLabel();
    const report = await readLabels(jpeg);
    expect(report).toMatchObject({ presence: 'label', location: 'xmp:APP1-extended', label: { ProduceID: 'extended-1' } });

    const labelled = Buffer.from((await embedLabel(jpeg, { producer: PRODUCER, produceId: 'hegui-1' })).bytes ?? []);
    const after = await readLabels(labelled);
    expect(after.found.map((f) => f.label?.ProduceID)).toEqual(['hegui-1']);
    // The extension got a new GUID (the MD5 of its new contents), which the main packet names.
    expect(labelled.includes(guid)).toBe(false);
    const renewed = /HasExtendedXMP="([0-9A-F]{32})"/.exec(labelled.toString('latin1'))?.[1] ?? '';
    expect(labelled.toString('latin1').split(renewed).length - 1).toBe(3);

    const keys = generateLabelKeys('ed25519');
    const signed = (await embedLabel(jpeg, { producer: PRODUCER, produceId: 'hegui-2', key: parseSigningKey(keys.privateKeyPem) })).bytes ?? new Uint8Array();
    expect((await readLabels(signed, { keys: [parseVerifyKey(keys.publicKeyPem)] })).status).toBe('valid');

    const stripped = Buffer.from((await stripLabel(jpeg)).bytes ?? []);
    expect((await readLabels(stripped)).presence).toBe('none');

    if (systemTool('exiftool', 'libimage-exiftool-perl')) {
      const dir = mkdtempSync(join(tmpdir(), 'hegui-extxmp-'));
      try {
        writeFileSync(join(dir, 'tc260.config'), TC260_EXIFTOOL_CONFIG);
        const read = (bytes: Buffer): Record<string, unknown> => {
          writeFileSync(join(dir, 'a.jpg'), bytes);
          return (JSON.parse(execFileSync('exiftool', ['-config', join(dir, 'tc260.config'), '-j', '-XMP:all', join(dir, 'a.jpg')]).toString()) as Record<string, unknown>[])[0] ?? {};
        };
        expect(read(jpeg).AIGC).toBe(FOREIGN);
        // exiftool still joins the extension (its GUID checks out) and finds no label in it.
        expect(read(stripped)).toMatchObject({ Source: 's'.repeat(300) });
        expect(read(stripped)).not.toHaveProperty('AIGC');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  });
});
