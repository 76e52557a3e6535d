import { describe, expect, it } from 'vitest';
import { detectTextFormat, paragraphBoundaries, visibleText } from './text-format.js';
import { labelText, labelTextStream, streamNotice, textNoticeTransform } from './text.js';

async function collect(stream: AsyncIterable<string>): Promise<string> {
  let out = '';
  for await (const piece of stream) out += piece;
  return out;
}

async function* tokens(...pieces: string[]): AsyncGenerator<string> {
  yield* pieces;
}

describe('text notices (GB 45438 §5.1)', () => {
  it('detects plain text, Markdown and HTML', () => {
    expect(detectTextFormat('只是一段文字。')).toBe('plain');
    expect(detectTextFormat('# 标题\n\n正文')).toBe('markdown');
    expect(detectTextFormat('---\nAIGC: {}\n---\n正文')).toBe('markdown');
    expect(detectTextFormat('<!DOCTYPE html><html><body><p>x</p></body></html>')).toBe('html');
    expect(detectTextFormat('<p>段落</p><p>二</p>')).toBe('html');
  });

  it('puts the notice at the start, end or a middle paragraph boundary of plain text', () => {
    const text = '第一段。\n\n第二段。\n\n第三段。\n';
    expect(labelText(text).text).toBe('本内容由人工智能生成\n\n第一段。\n\n第二段。\n\n第三段。\n');
    expect(labelText(text, { position: 'end' }).text).toBe('第一段。\n\n第二段。\n\n第三段。\n\n本内容由人工智能生成\n');
    const middle = labelText(text, { position: 'middle', language: 'en' });
    expect(middle.text).toBe('第一段。\n\nAI-generated\n\n第二段。\n\n第三段。\n');
    expect(middle.position).toBe('middle');
    expect(middle.text.slice(middle.offset, middle.offset + 12)).toBe('AI-generated');
  });

  it('falls back to the end when the text has no paragraph boundary', () => {
    const result = labelText('一句话。', { position: 'middle' });
    expect(result.position).toBe('end');
    expect(result.text).toBe('一句话。\n\n本内容由人工智能生成');
  });

  it('keeps Markdown front matter first and never splits a code fence', () => {
    const md = '---\nAIGC: {"Label":"1"}\n---\n# 标题\n\n```\ncode\n\nmore code\n```\n\n结尾段落\n';
    const start = labelText(md);
    expect(start.text.startsWith('---\nAIGC: {"Label":"1"}\n---\n*本内容由人工智能生成*\n\n# 标题')).toBe(true);
    const boundaries = paragraphBoundaries(md, 'markdown');
    const fence = md.indexOf('```');
    const fenceEnd = md.lastIndexOf('```');
    expect(boundaries.every((offset) => offset <= fence || offset > fenceEnd)).toBe(true);
    expect(labelText(md, { position: 'end' }).text.endsWith('结尾段落\n\n*本内容由人工智能生成*\n')).toBe(true);
  });

  it('escapes Markdown and HTML syntax in a custom wording', () => {
    expect(labelText('# T\n\nx', { text: 'AI_生成*' }).text).toContain('*AI\\_生成\\**');
    expect(labelText('<p>x</p>', { text: 'AI <生成>' }).text).toContain('<p data-aigc-notice role="note">AI &lt;生成&gt;</p>');
  });

  it('places HTML notices inside body, between block elements, not inside pre', () => {
    const html = '<!DOCTYPE html><html><head><title>t</title></head><body><p>一</p><pre>a\n\n</p>b</pre><p>二</p><p>三</p></body></html>';
    const start = labelText(html);
    expect(start.text).toContain('<body>\n<p data-aigc-notice role="note">本内容由人工智能生成</p>\n<p>一</p>');
    expect(labelText(html, { position: 'end' }).text).toContain('<p>三</p>\n<p data-aigc-notice role="note">本内容由人工智能生成</p>\n</body>');
    const middle = labelText(html, { position: 'middle' }).text;
    expect(middle).not.toMatch(/<pre>[^]*data-aigc-notice[^]*<\/pre>/);
    expect(visibleText(middle, 'html')).toMatch(/本内容由人工智能生成/);
  });

  it('labels a token stream with a prefix before the first token or a suffix after the last', async () => {
    expect(await collect(labelTextStream(tokens('', '你', '好')))).toBe('本内容由人工智能生成\n\n你好');
    expect(await collect(labelTextStream(tokens('Hi', '!'), { position: 'end', language: 'en' }))).toBe('Hi!\n\nAI-generated');
    expect(await collect(labelTextStream(tokens()))).toBe('');
    expect(streamNotice({ position: 'end', format: 'html' }).suffix).toBe('\n<p data-aigc-notice role="note">本内容由人工智能生成</p>');
    const out: string[] = [];
    await new ReadableStream<string>({
      start(controller) {
        controller.enqueue('a');
        controller.enqueue('b');
        controller.close();
      },
    })
      .pipeThrough(textNoticeTransform({ language: 'en' }))
      .pipeTo(new WritableStream({ write: (piece) => void out.push(piece) }));
    expect(out).toEqual(['AI-generated\n\n', 'a', 'b']);
  });
});
