/**
 * A visible notice in a Word document (issue 11): a paragraph of its own at the start of the
 * body, or at the end before the section properties; the package stays a valid ZIP whose
 * other entries are unchanged; spreadsheets are refused. Packages are made in the test with
 * Python's zipfile and read back with it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkExplicitLabel, labelDocx } from '../src/label/explicit/index.js';
import { readLabelFile } from '../src/label/files.js';
import { cli } from './helpers/cli.js';
import { systemTool } from './helpers/system.js';
import { PRODUCER } from './label-samples.js';

const W = 'http://schemas.openxmlformats.org/wordprocessingml/2006/main';
const DOCUMENT = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:document xmlns:w="${W}"><w:body><w:p><w:r><w:t>第一段正文。</w:t></w:r></w:p><w:p><w:r><w:t>第二段正文。</w:t></w:r></w:p><w:sectPr><w:pgSz w:w="11906" w:h="16838"/></w:sectPr></w:body></w:document>`;

function python(script: string, ...args: string[]): string {
  const result = spawnSync('python3', ['-c', script, ...args], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`python failed: ${result.stderr}`);
  return result.stdout;
}

/** A minimal DOCX (or XLSX) package written by Python's zipfile. */
function makePackage(path: string, kind: 'docx' | 'xlsx'): void {
  const main = kind === 'docx' ? 'word/document.xml' : 'xl/workbook.xml';
  const type = kind === 'docx' ? 'application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml' : 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml';
  const content = kind === 'docx' ? DOCUMENT : '<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheets/></workbook>';
  const parts = {
    '[Content_Types].xml': `<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/${main}" ContentType="${type}"/></Types>`,
    '_rels/.rels': `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="${main}"/></Relationships>`,
    [main]: content,
    'docProps/app.xml': '<?xml version="1.0"?><Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"><Application>test</Application></Properties>',
  };
  python('import json,sys,zipfile\nparts=json.loads(sys.argv[2])\nwith zipfile.ZipFile(sys.argv[1],"w",zipfile.ZIP_DEFLATED) as z:\n  [z.writestr(n,c) for n,c in parts.items()]', path, JSON.stringify(parts));
}

/** The paragraphs' text of a DOCX's main part, read by Python (which also tests the ZIP and parses the XML). */
function paragraphs(path: string): string[] {
  const out = python(
    'import json,sys,zipfile\nfrom xml.dom import minidom\nz=zipfile.ZipFile(sys.argv[1])\nassert z.testzip() is None\nd=minidom.parseString(z.read("word/document.xml"))\nW=sys.argv[2]\nbody=d.getElementsByTagNameNS(W,"body")[0]\nkids=[k for k in body.childNodes if k.nodeType==1]\nassert kids[-1].localName=="sectPr"\nprint(json.dumps(["".join(t.firstChild.data for t in p.getElementsByTagNameNS(W,"t")) for p in kids if p.localName=="p"]))',
    path,
    W,
  );
  return JSON.parse(out) as string[];
}

function entryBytes(path: string, name: string): string {
  return python('import sys,zipfile,hashlib\nprint(hashlib.sha256(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2])).hexdigest())', path, name).trim();
}

describe.runIf(systemTool('python3', 'python3'))('visible notice in a DOCX', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hegui-docx-'));
  const source = join(dir, 'report.docx');
  makePackage(source, 'docx');

  it('a paragraph at the start, or at the end before the section properties; other parts unchanged', async () => {
    for (const position of ['start', 'end'] as const) {
      const result = await labelDocx(readFileSync(source), { position });
      const out = join(dir, `${position}.docx`);
      writeFileSync(out, result.bytes);
      const expected = position === 'start' ? ['本内容由人工智能生成', '第一段正文。', '第二段正文。'] : ['第一段正文。', '第二段正文。', '本内容由人工智能生成'];
      expect(paragraphs(out)).toEqual(expected);
      for (const name of ['[Content_Types].xml', '_rels/.rels', 'docProps/app.xml']) expect(entryBytes(out, name), name).toBe(entryBytes(source, name));
    }
  });

  it('the checker reads the paragraphs: a labelled document passes, the original fails', async () => {
    const labelled = await checkExplicitLabel((await labelDocx(readFileSync(source), { position: 'end' })).bytes);
    expect(labelled, JSON.stringify(labelled.rules)).toMatchObject({ kind: 'document', format: 'docx', status: 'passed', notices: [{ position: 'end', text: '本内容由人工智能生成' }] });
    expect((await checkExplicitLabel(readFileSync(source))).status).toBe('failed');
  });

  it('escapes the wording and refuses a spreadsheet', async () => {
    const result = await labelDocx(readFileSync(source), { text: 'AI generated <draft> & co' });
    const out = join(dir, 'escaped.docx');
    writeFileSync(out, result.bytes);
    expect(paragraphs(out)[0]).toBe('AI generated <draft> & co');
    const sheet = join(dir, 'book.xlsx');
    makePackage(sheet, 'xlsx');
    await expect(labelDocx(readFileSync(sheet))).rejects.toMatchObject({ code: 'E_LABEL_UNSUPPORTED_FORMAT', message: expect.stringMatching(/not a Word document/) });
  });

  it('hegui label all writes the paragraph and the implicit label', async () => {
    const result = await cli(['label', 'all', 'report.docx', '--producer', PRODUCER, '--id', 'doc-1', '-o', 'all.docx', '--position', 'end'], { cwd: dir });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/ok +report\.docx -> all\.docx +docx +"本内容由人工智能生成" at the end \(paragraph in word\/document\.xml\)/);
    expect(paragraphs(join(dir, 'all.docx')).at(-1)).toBe('本内容由人工智能生成');
    expect((await readLabelFile(join(dir, 'all.docx'))).label?.ProduceID).toBe('doc-1');
  });
});
