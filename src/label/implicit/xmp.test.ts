import { describe, expect, it } from 'vitest';
import { LabelFormatError } from '../errors.js';
import { buildXmpPacket, nextXmpPacket, readXmpLabels, setXmpLabel, xmpHasProperties } from './xmp.js';

const VALUE = '{"Label":"1","ProduceID":"a<&>\'b"}';
const EXISTING = `<?xpacket begin="\uFEFF" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:CreatorTool="Camera &amp; Co">
   <dc:title><rdf:Alt><rdf:li xml:lang="x-default">Sunset</rdf:li></rdf:Alt></dc:title>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
${' '.repeat(2000)}
<?xpacket end="w"?>`;

describe('TC260 XMP property', () => {
  it('builds a packet that reads back, escaping XML characters', () => {
    const packet = buildXmpPacket(VALUE);
    expect(packet).toContain('<TC260:AIGC>{&quot;Label&quot;:&quot;1&quot;,&quot;ProduceID&quot;:&quot;a&lt;&amp;&gt;\'b&quot;}</TC260:AIGC>');
    expect(packet).toContain('xmlns:TC260="http://www.tc260.org.cn/ns/AIGC/1.0/"');
    expect(readXmpLabels(packet)).toEqual([VALUE]);
  });

  it('merges into an existing packet, keeping every other property and the packet size', () => {
    const merged = setXmpLabel(EXISTING, VALUE) ?? '';
    expect(readXmpLabels(merged)).toEqual([VALUE]);
    expect(merged).toContain('<rdf:li xml:lang="x-default">Sunset</rdf:li>');
    expect(merged).toContain('xmp:CreatorTool="Camera &amp; Co"');
    expect(Buffer.byteLength(merged)).toBe(Buffer.byteLength(EXISTING));
  });

  it('replaces rather than duplicates, and removes without touching the rest', () => {
    const twice = setXmpLabel(setXmpLabel(EXISTING, 'old') ?? '', VALUE) ?? '';
    expect(readXmpLabels(twice)).toEqual([VALUE]);
    const removed = nextXmpPacket(twice, null) ?? '';
    expect(readXmpLabels(removed)).toEqual([]);
    expect(removed).toContain('Sunset');
    expect(nextXmpPacket(buildXmpPacket(VALUE), null)).toBeNull();
  });

  it('finds the property under any prefix bound to the namespace, and in attribute form', () => {
    const attr = `<x:xmpmeta xmlns:x="adobe:ns:meta/"><r:RDF xmlns:r="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><r:Description xmlns:g="http://www.tc260.org.cn/ns/AIGC/1.0/" g:AIGC="{&quot;Label&quot;:&quot;1&quot;}"/></r:RDF></x:xmpmeta>`;
    expect(readXmpLabels(attr)).toEqual(['{"Label":"1"}']);
    const merged = setXmpLabel(attr, VALUE) ?? '';
    expect(readXmpLabels(merged)).toEqual([VALUE]);
    expect(merged).toContain('g:AIGC="{&quot;Label');
  });

  it('plans an exact-size packet for in-place edits, or says it cannot', () => {
    const packet = buildXmpPacket(VALUE, 100);
    const size = Buffer.byteLength(packet);
    expect(Buffer.byteLength(setXmpLabel(packet, `${VALUE}xx`, { targetBytes: size }) ?? '')).toBe(size);
    expect(setXmpLabel(packet, 'x'.repeat(500), { targetBytes: size })).toBeUndefined();
  });

  it('tells an empty packet from one that states something', () => {
    expect(xmpHasProperties(EXISTING)).toBe(true);
    expect(xmpHasProperties(nextXmpPacket(buildXmpPacket(VALUE), null) ?? '<x:xmpmeta xmlns:x="adobe:ns:meta/"/>')).toBe(false);
  });

  it.each(['<a><b></a>', '<!DOCTYPE x [<!ENTITY e "e">]><x/>', '<a x=1/>', '<a>&bogus;</a>', '<a>'])('rejects malformed XML %s', (xml) => {
    expect(() => readXmpLabels(xml)).toThrow(LabelFormatError);
  });
});
