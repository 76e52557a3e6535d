/**
 * Visible notices go only into text the labeller understands (issue 11): plain text, Markdown,
 * HTML and subtitles (SRT, WebVTT, with their cue format kept). Scripts, JSON, SVG, XML and
 * PDFs made only of ASCII are text to a UTF-8 decoder but break when a line is prepended, so
 * they are refused with a typed error, left byte for byte as they were, and named when a
 * folder walk skips them.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkExplicitLabel, checkExplicitLabelFile, detectExplicitFormat, ExplicitFormatError, labelSubtitles, requireExplicitFormat } from '../src/label/explicit/index.js';
import { cli } from './helpers/cli.js';
import { systemTool } from './helpers/system.js';
import { pdfFromObjects } from './helpers/pdf.js';

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

/** A valid PDF of ASCII only (no binary comment line): a UTF-8 decoder reads it as text. */
function asciiPdf(): string {
  return pdfFromObjects([
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R >>',
    '<< /Length 0 >>\nstream\n\nendstream',
  ]);
}

const REFUSED: Record<string, string> = {
  'app.js': "'use strict';\nconst answer = 42;\nexport default answer;\n",
  'data.json': '{"answer": 42, "note": "generated"}\n',
  'icon.svg': '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>\n',
  'feed.xml': '<?xml version="1.0" encoding="UTF-8"?>\n<feed><title>t</title></feed>\n',
  'doc.pdf': asciiPdf(),
  'styles.css': 'body { color: red; }\n',
};

const SRT = '1\r\n00:00:01,000 --> 00:00:04,000\r\n第一句。\r\n\r\n2\r\n00:00:05,500 --> 00:00:07,250\r\n第二句。\r\n';
const VTT = 'WEBVTT - demo\n\nSTYLE\n::cue { color: yellow }\n\nNOTE made by hand\n\nintro\n00:01.000 --> 00:04.000 align:start\nHello <b>there</b>\n\n00:00:05.000 --> 00:00:08.000\nBye\n';

describe('which text gets a visible notice', () => {
  it('detects subtitles and the text flavours by content', () => {
    expect(detectExplicitFormat(utf8(SRT), true)).toBe('srt');
    expect(detectExplicitFormat(utf8(VTT), true)).toBe('vtt');
    expect(detectExplicitFormat(utf8('# 标题\n\n正文\n'), true)).toBe('markdown');
    expect(detectExplicitFormat(utf8('一段文字。\n'), true)).toBe('plain');
  });

  it.each(Object.keys(REFUSED).filter((name) => name !== 'doc.pdf'))('refuses %s, by content or by name, with a typed error', (name) => {
    const bytes = utf8(REFUSED[name] ?? '');
    let error: unknown;
    try {
      requireExplicitFormat(bytes, true, name);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ExplicitFormatError);
    expect(error).toMatchObject({ code: 'E_LABEL_UNSUPPORTED_FORMAT' });
    expect((error as Error).message).toMatch(/visible notices go into plain text \(\.txt\), Markdown \(\.md\), HTML \(\.html, \.htm\) and subtitles \(\.srt, \.vtt\)/);
  });

  it('refuses structured content whatever the name says', () => {
    // An ASCII-only PDF is a PDF (it takes a drawn notice), never text.
    expect(detectExplicitFormat(utf8(REFUSED['doc.pdf'] ?? ''), true, 'notes.txt')).toBe('pdf');
    for (const name of ['data.json', 'icon.svg', 'feed.xml']) {
      expect(() => requireExplicitFormat(utf8(REFUSED[name] ?? ''), true, 'notes.txt'), name).toThrow(ExplicitFormatError);
      expect(detectExplicitFormat(utf8(REFUSED[name] ?? ''), true), name).toBeUndefined();
    }
    expect(detectExplicitFormat(utf8('#!/bin/sh\necho hi\n'), true)).toBeUndefined();
  });

  it('lets the file name choose the text flavour it permits', () => {
    expect(requireExplicitFormat(utf8('# not a heading, a plain line\n'), true, 'notes.txt')).toBe('plain');
    expect(requireExplicitFormat(utf8('just words\n'), true, 'page.htm')).toBe('html');
    expect(() => requireExplicitFormat(utf8('just words\n'), true, 'talk.vtt')).toThrow(ExplicitFormatError);
  });
});

describe('subtitle notices keep the cue format', () => {
  it('SRT: a first cue for the notice, the others renumbered, CRLF kept', () => {
    const result = labelSubtitles(SRT, { format: 'srt' });
    expect(result.text).toBe(
      '1\r\n00:00:00,000 --> 00:00:03,000\r\n本内容由人工智能生成\r\n\r\n2\r\n00:00:01,000 --> 00:00:04,000\r\n第一句。\r\n\r\n3\r\n00:00:05,500 --> 00:00:07,250\r\n第二句。\r\n',
    );
    const end = labelSubtitles(SRT, { format: 'srt', position: 'end', language: 'en' });
    expect(end.text.endsWith('2\r\n00:00:05,500 --> 00:00:07,250\r\n第二句。\r\n\r\n3\r\n00:00:05,500 --> 00:00:08,500\r\nAI-generated\r\n')).toBe(true);
  });

  it('WebVTT: the header, style and note blocks stay first; the notice is the first cue; markup is escaped', () => {
    const result = labelSubtitles(VTT, { format: 'vtt', text: 'AI <generated> & synthesized' });
    expect(result.text).toBe(VTT.replace('NOTE made by hand\n\n', 'NOTE made by hand\n\n00:00:00.000 --> 00:00:03.000\nAI &lt;generated&gt; &amp; synthesized\n\n'));
    expect(() => labelSubtitles(VTT, { format: 'vtt', position: 'middle' })).toThrow(expect.objectContaining({ code: 'E_LABEL_POSITION' }));
  });

  it('the checker reads cue text: a labelled file passes, timing lines do not count', async () => {
    const labelled = labelSubtitles(VTT, { format: 'vtt' }).text;
    const report = await checkExplicitLabel(utf8(labelled));
    expect(report).toMatchObject({ kind: 'text', format: 'vtt', passed: true, notices: [{ position: 'start', text: '本内容由人工智能生成' }] });
    expect((await checkExplicitLabel(utf8(VTT))).passed).toBe(false);
  });

  it.runIf(systemTool('ffmpeg', 'ffmpeg'))('ffmpeg still reads every cue of the labelled files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hegui-subs-'));
    // ffmpeg's WebVTT demuxer reads no cue at all from a file with a STYLE block (labelled or not).
    const vtt = VTT.replace('STYLE\n::cue { color: yellow }\n\n', '');
    for (const [name, text] of [['a.srt', labelSubtitles(SRT, { format: 'srt' }).text], ['b.vtt', labelSubtitles(vtt, { format: 'vtt' }).text]] as const) {
      writeFileSync(join(dir, name), text);
      const out = spawnSync('ffmpeg', ['-v', 'error', '-nostdin', '-i', join(dir, name), '-f', 'srt', '-'], { encoding: 'utf8' });
      expect(out.status, out.stderr).toBe(0);
      expect(out.stdout).toMatch(/^1\r?\n00:00:00,000 --> 00:00:03,000\r?\n本内容由人工智能生成/);
      expect(out.stdout.match(/-->/g)).toHaveLength(3);
    }
  });
});

describe('hegui label visible on text it does not understand', () => {
  it('refuses each named file, leaves it untouched, and exits 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hegui-refuse-'));
    const texts = Object.entries(REFUSED).filter(([name]) => name !== 'doc.pdf');
    for (const [name, text] of texts) writeFileSync(join(dir, name), text);
    const result = await cli(['label', 'visible', ...texts.map(([name]) => name), '--in-place'], { cwd: dir });
    expect(result.code).toBe(1);
    for (const [name, text] of texts) {
      expect(result.stdout).toMatch(new RegExp(`FAIL +${name.replace('.', '\\.')} +E_LABEL_UNSUPPORTED_FORMAT`));
      expect(readFileSync(join(dir, name), 'utf8'), name).toBe(text);
    }
  });

  it('an ASCII-only PDF is labelled as a PDF (a drawn notice appended as a revision), never as text', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hegui-ascii-pdf-'));
    const pdf = REFUSED['doc.pdf'] ?? '';
    writeFileSync(join(dir, 'doc.pdf'), pdf);
    const result = await cli(['label', 'visible', 'doc.pdf', '-o', 'out.pdf'], { cwd: dir });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/ok +doc\.pdf -> out\.pdf +pdf +"AI生成" on page 1/);
    const out = readFileSync(join(dir, 'out.pdf'));
    expect(out.subarray(0, pdf.length).toString('latin1')).toBe(pdf);
  });

  it('names every file a folder walk skips, in text and in --json', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hegui-refuse-walk-'));
    mkdirSync(join(dir, 'in'));
    writeFileSync(join(dir, 'in', 'app.js'), REFUSED['app.js'] ?? '');
    writeFileSync(join(dir, 'in', 'talk.srt'), SRT);
    const text = await cli(['label', 'visible', 'in', '-o', 'out'], { cwd: dir });
    expect(text.code, text.stdout + text.stderr).toBe(0);
    expect(text.stdout).toMatch(/skip +in\/app\.js +E_LABEL_UNSUPPORTED_FORMAT: /);
    expect(text.stdout).toMatch(/ok +in\/talk\.srt -> out\/talk\.srt +srt +"本内容由人工智能生成" at the start/);
    expect(text.stderr).toMatch(/2 files: 1 labelled, 0 failed, 1 skipped/);
    const json = await cli(['label', 'visible', 'in', '-o', 'out2', '--json'], { cwd: dir });
    const records = json.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(records).toEqual([
      { file: 'in/app.js', status: 'skipped', error: { code: 'E_LABEL_UNSUPPORTED_FORMAT', message: expect.stringMatching(/\.js/) } },
      expect.objectContaining({ file: 'in/talk.srt', status: 'ok', output: 'out2/talk.srt', format: 'srt', notice: '本内容由人工智能生成', position: 'start' }),
    ]);
  });

  it('the checker refuses them too instead of reading code as prose', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hegui-refuse-check-'));
    writeFileSync(join(dir, 'app.js'), '// 本内容由人工智能生成\nexport const x = 1;\n');
    await expect(checkExplicitLabelFile(join(dir, 'app.js'))).rejects.toBeInstanceOf(ExplicitFormatError);
  });
});
