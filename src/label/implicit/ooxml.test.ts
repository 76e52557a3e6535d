import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LabelFormatError } from '../errors.js';
import { BufferSink, bufferSource } from './bytes.js';
import { docxParts, hasTool, unzipEntry, unzipTest, zipWithInfoZip, zipWithPython64 } from './ooxml-fixtures.js';
import { ooxmlCodec } from './ooxml.js';
import { readZip } from './ooxml-zip.js';
import { perlModule } from '../../../test/helpers/system.js';

const LABEL = JSON.stringify({
  Label: '1',
  ContentProducer: '001191100000000000000000X10001',
  ProduceID: 'docx<&>"1"',
  ReservedCode1: 'c2ln',
  ContentPropagator: '001191100000000000000000X10001',
  PropagateID: '标识\t1',
  ReservedCode2: '',
});
const RELABEL = LABEL.replace('X10001","PropagateID', 'X20002","PropagateID');

const zipTool = hasTool('zip', 'zip');
const unzipTool = hasTool('unzip', 'unzip');
const python = hasTool('python3', 'python3');
// exiftool reads inside ZIP containers only with Archive::Zip (a Recommends of its package).
const exiftool = hasTool('exiftool', 'libimage-exiftool-perl') && perlModule('Archive::Zip', 'libarchive-zip-perl');

async function write(bytes: Uint8Array, value: string): Promise<Uint8Array> {
  const sink = new BufferSink();
  await ooxmlCodec.write(bufferSource(bytes), value, sink);
  return sink.bytes();
}

async function remove(bytes: Uint8Array): Promise<Uint8Array> {
  const sink = new BufferSink();
  await ooxmlCodec.remove(bufferSource(bytes), sink);
  return sink.bytes();
}

async function payloadHash(bytes: Uint8Array): Promise<string> {
  const hash = createHash('sha256');
  for (const range of await ooxmlCodec.payloadRanges(bufferSource(bytes))) hash.update(bytes.subarray(range.start, range.end));
  return hash.digest('hex');
}

/** A plain reading of custom.xml: every <property> with its attributes and its text value. */
function customProperties(xml: string): { attributes: Record<string, string>; type: string; value: string }[] {
  const unescape = (text: string): string =>
    text.replace(/&(#\d+|lt|gt|amp|quot|apos);/g, (_m, e: string) =>
      e.startsWith('#') ? String.fromCodePoint(Number(e.slice(1))) : ({ lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" } as Record<string, string>)[e] ?? '',
    );
  return [...xml.matchAll(/<property\b([^>]*)>\s*<vt:(\w+)[^>]*>([^<]*)<\/vt:\w+>\s*<\/property>/g)].map((m) => ({
    attributes: Object.fromEntries([...(m[1] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((a) => [a[1], a[2]])),
    type: m[2] ?? '',
    value: unescape(m[3] ?? ''),
  }));
}

/** The raw bytes of each entry's record, by name, as our reader places them. */
async function rawRecords(zip: Uint8Array): Promise<Map<string, string>> {
  const archive = await readZip(bufferSource(zip));
  return new Map(archive.entries.map((e) => [e.name, Buffer.from(zip.subarray(e.localOffset, e.recordEnd)).toString('hex')]));
}

const METADATA = new Set(['[Content_Types].xml', '_rels/.rels', 'docProps/custom.xml']);

describe('ooxml codec', () => {
  it('detects OOXML packages, not other ZIPs', () => {
    const head = (name: string): Uint8Array => {
      const bytes = new Uint8Array(30 + name.length);
      bytes.set([0x50, 0x4b, 0x03, 0x04]);
      new DataView(bytes.buffer).setUint16(26, name.length, true);
      bytes.set(new TextEncoder().encode(name), 30);
      return bytes;
    };
    expect(ooxmlCodec.detect(head('[Content_Types].xml'))).toBe(true);
    expect(ooxmlCodec.detect(head('_rels/.rels'))).toBe(true);
    expect(ooxmlCodec.detect(head('mimetype'))).toBe(false);
    expect(ooxmlCodec.detect(head('notes.txt'))).toBe(false);
    expect(ooxmlCodec.detect(new TextEncoder().encode('%PDF-1.4'))).toBe(false);
  });

  for (const streamed of [false, true]) {
    describe.runIf(zipTool && unzipTool)(streamed ? 'ZIP with data descriptors (zip to a pipe)' : 'ZIP from Info-ZIP', () => {
      const original = zipWithInfoZip(docxParts(), streamed);

      it('adds docProps/custom.xml, its Override and relationship; other entries copied raw', async () => {
        const labeled = await write(original, LABEL);
        const test = unzipTest(labeled);
        expect(test.ok, test.output).toBe(true);
        const [property, ...others] = customProperties(unzipEntry(labeled, 'docProps/custom.xml') ?? '');
        expect(others).toEqual([]);
        expect(property).toEqual({ attributes: { fmtid: '{D5CDD505-2E9C-101B-9397-08002B2CF9AE}', pid: '2', name: 'AIGC' }, type: 'lpwstr', value: LABEL });
        expect(unzipEntry(labeled, '[Content_Types].xml')).toContain(
          '<Override PartName="/docProps/custom.xml" ContentType="application/vnd.openxmlformats-officedocument.custom-properties+xml"/></Types>',
        );
        expect(unzipEntry(labeled, '_rels/.rels')).toMatch(/<Relationship Id="rId3" Type="[^"]+\/custom-properties" Target="docProps\/custom.xml"\/><\/Relationships>$/);
        const before = await rawRecords(original);
        const after = await rawRecords(labeled);
        for (const [name, raw] of before) if (!METADATA.has(name)) expect(after.get(name), name).toBe(raw);
        expect((await ooxmlCodec.read(bufferSource(labeled)))[0]).toEqual({ value: LABEL, location: 'ooxml:docProps/custom.xml#AIGC', standard: true });
        expect(await payloadHash(labeled)).toBe(await payloadHash(original));
      });

      it('relabels in place of the old property and removes back to the original parts', async () => {
        const relabeled = await write(await write(original, LABEL), RELABEL);
        const properties = customProperties(unzipEntry(relabeled, 'docProps/custom.xml') ?? '');
        expect(properties.map((p) => [p.attributes.pid, p.value])).toEqual([['2', RELABEL]]);
        const removed = await remove(relabeled);
        expect(unzipTest(removed).ok).toBe(true);
        expect(unzipEntry(removed, 'docProps/custom.xml')).toBeUndefined();
        for (const name of ['[Content_Types].xml', '_rels/.rels', 'word/document.xml']) expect(unzipEntry(removed, name)).toBe(unzipEntry(original, name));
        expect(await ooxmlCodec.read(bufferSource(removed))).toEqual([]);
        for (const bytes of [relabeled, removed]) expect(await payloadHash(bytes)).toBe(await payloadHash(original));
      });
    });
  }

  it.runIf(zipTool && exiftool)('exiftool reads the AIGC custom property', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hegui-docx-'));
    const path = join(dir, 'labeled.docx');
    writeFileSync(path, await write(zipWithInfoZip(docxParts()), LABEL));
    const result = spawnSync('exiftool', ['-j', '-XML:AIGC', '-ExifTool:Warning', path], { encoding: 'utf8' });
    rmSync(dir, { recursive: true, force: true });
    const tags = (JSON.parse(result.stdout) as Record<string, unknown>[])[0];
    expect(tags?.AIGC).toBe(LABEL);
    expect(tags?.Warning).toBeUndefined();
  });

  it.runIf(zipTool && unzipTool)('merges into an existing custom.xml: other properties kept, next free pid', async () => {
    const custom =
      '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties" xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">' +
      '<property fmtid="{D5CDD505-2E9C-101B-9397-08002B2CF9AE}" pid="2" name="Client"><vt:lpwstr>ACME</vt:lpwstr></property>' +
      '<property fmtid="{D5CDD505-2E9C-101B-9397-08002B2CF9AE}" pid="5" name="Reviewed"><vt:bool>true</vt:bool></property></Properties>';
    const parts = docxParts({ 'docProps/custom.xml': custom });
    parts['[Content_Types].xml'] = String(parts['[Content_Types].xml']).replace(
      '</Types>',
      '<Override PartName="/docProps/custom.xml" ContentType="application/vnd.openxmlformats-officedocument.custom-properties+xml"/></Types>',
    );
    parts['_rels/.rels'] = String(parts['_rels/.rels']).replace(
      '</Relationships>',
      '<Relationship Id="rId9" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/custom-properties" Target="/docProps/custom.xml"/></Relationships>',
    );
    const original = zipWithInfoZip(parts);
    const labeled = await write(original, LABEL);
    expect(unzipEntry(labeled, '[Content_Types].xml')).toBe(parts['[Content_Types].xml']);
    expect(unzipEntry(labeled, '_rels/.rels')).toBe(parts['_rels/.rels']);
    const properties = customProperties(unzipEntry(labeled, 'docProps/custom.xml') ?? '');
    expect(properties.map((p) => [p.attributes.name, p.attributes.pid, p.value])).toEqual([
      ['Client', '2', 'ACME'],
      ['Reviewed', '5', 'true'],
      ['AIGC', '6', LABEL],
    ]);
    const removed = await remove(labeled);
    expect(unzipEntry(removed, 'docProps/custom.xml')).toBe(custom);
    expect(await payloadHash(removed)).toBe(await payloadHash(original));
  });

  it.runIf(python && unzipTool)('handles ZIP64 extra fields and a ZIP64 end record (over 65535 entries)', async () => {
    const original = zipWithPython64(docxParts(), 66_000);
    expect((await readZip(bufferSource(original))).entries.length).toBe(66_005);
    const labeled = await write(original, LABEL);
    const test = unzipTest(labeled);
    expect(test.ok, test.output.slice(-500)).toBe(true);
    expect(test.output).toMatch(/No errors detected/);
    expect(customProperties(unzipEntry(labeled, 'docProps/custom.xml') ?? '')[0]?.value).toBe(LABEL);
    expect((await readZip(bufferSource(labeled))).entries.length).toBe(66_006);
    expect(await payloadHash(labeled)).toBe(await payloadHash(original));
  });

  it.runIf(zipTool)('refuses a ZIP that is not an OOXML package', async () => {
    const plain = zipWithInfoZip({ 'notes.txt': 'hello' });
    await expect(ooxmlCodec.read(bufferSource(plain))).rejects.toThrow(LabelFormatError);
    await expect(ooxmlCodec.read(bufferSource(plain))).rejects.toThrow(/not an OOXML package/);
  });
});
