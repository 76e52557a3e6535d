/**
 * PDF files for tests, written by hand so each test knows every byte: the objects in order,
 * a classic cross-reference table (ISO 32000-1 §7.5.4: 20-byte entries) and the trailer.
 */

/**
 * A PDF of `objects` (object n is `objects[n - 1]`), with /Root 1 0 R and the trailer's
 * `extraTrailer` entries. `eol` is the two-byte end of each cross-reference entry: `' \n'` or
 * `'\r\n'` (the standard allows both; readers must take either).
 */
export function pdfFromObjects(objects: readonly string[], options: { extraTrailer?: string; eol?: ' \n' | '\r\n' } = {}): string {
  const eol = options.eol ?? ' \n';
  let body = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((object, i) => {
    offsets.push(body.length);
    body += `${i + 1} 0 obj\n${object}\nendobj\n`;
  });
  const xref = body.length;
  const entries = offsets.map((offset) => `${String(offset).padStart(10, '0')} 00000 n${eol}`).join('');
  const trailer = `<< /Size ${objects.length + 1} /Root 1 0 R${options.extraTrailer ? ` ${options.extraTrailer}` : ''} >>`;
  return `${body}xref\n0 ${objects.length + 1}\n0000000000 65535 f${eol}${entries}trailer\n${trailer}\nstartxref\n${xref}\n%%EOF\n`;
}
