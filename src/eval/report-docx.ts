/**
 * @module eval/report-docx
 * The self-assessment report as DOCX, the form filing offices take, through the `docx` package
 * (loaded only when a DOCX is written). The same sections as the HTML page; the charts become
 * tables of the same figures. East Asian text asks for a Noto/Source Han font with the usual
 * fallbacks, so LibreOffice and Word both find a CJK face.
 */
import type { Bilingual } from '../rules/index.js';
import { type FigureRow, pct, type SelfAssessmentReport } from './report.js';
import { BASIS, CHECK_NOTE, countsLine, type Lang, STATE, T } from './report-text.js';

export async function renderReportDocx(report: SelfAssessmentReport, lang: Lang): Promise<Uint8Array> {
  const d = await import('docx');
  const { AlignmentType, BorderStyle, Document, HeadingLevel, Packer, Paragraph, ShadingType, Table, TableCell, TableRow, TextRun, WidthType } = d;
  const L = (b: Bilingual): string => b[lang];
  const unknown = T.unknown[lang];
  const border = { style: BorderStyle.SINGLE, size: 4, color: '999999' };
  const borders = { top: border, bottom: border, left: border, right: border };
  const colour = (state: string): string => (state === 'compliant' || state === 'meets' ? '2E7D32' : state === 'non-compliant' || state === 'fails' ? 'C62828' : '666666');

  const text = (t: string, opts: { bold?: boolean; color?: string; size?: number } = {}): InstanceType<typeof TextRun> => new TextRun({ text: t, ...opts });
  const para = (t: string, opts: { bold?: boolean; color?: string } = {}): InstanceType<typeof Paragraph> => new Paragraph({ children: [text(t, opts)] });
  const cell = (content: string | InstanceType<typeof Paragraph>[], opts: { header?: boolean; color?: string; bold?: boolean; width?: number } = {}): InstanceType<typeof TableCell> =>
    new TableCell({
      borders,
      ...(opts.width ? { width: { size: opts.width, type: WidthType.PERCENTAGE } } : {}),
      ...(opts.header ? { shading: { type: ShadingType.CLEAR, color: 'auto', fill: 'EEEEEE' } } : {}),
      children: typeof content === 'string' ? [new Paragraph({ children: [text(content, { bold: opts.header === true || opts.bold === true, ...(opts.color ? { color: opts.color } : {}) })] })] : content,
    });
  const table = (header: string[] | null, rows: InstanceType<typeof TableCell>[][], widths?: number[]): InstanceType<typeof Table> =>
    new Table({
      width: { size: 100, type: WidthType.PERCENTAGE },
      rows: [
        ...(header === null ? [] : [new TableRow({ tableHeader: true, children: header.map((h, i) => cell(h, { header: true, ...(widths?.[i] ? { width: widths[i] } : {}) })) })]),
        ...rows.map((r) => new TableRow({ children: r })),
      ],
    });
  const heading = (t: string, level: (typeof HeadingLevel)[keyof typeof HeadingLevel] = HeadingLevel.HEADING_1): InstanceType<typeof Paragraph> => new Paragraph({ heading: level, children: [text(t)] });

  const verdict = (f: FigureRow): string => {
    const v = f.verdict === 'meets' ? T.meets[lang] : f.verdict === 'fails' ? T.fails[lang] : T.undecided[lang];
    return f.verdict !== 'undecided' && !f.certain ? `${v}${T.uncertainMark[lang]}` : v;
  };

  const body: (InstanceType<typeof Paragraph> | InstanceType<typeof Table>)[] = [];
  body.push(new Paragraph({ heading: HeadingLevel.TITLE, alignment: AlignmentType.CENTER, children: [text(L(T.title))] }));
  body.push(new Paragraph({ alignment: AlignmentType.CENTER, children: [text(`${L(T.basedOn)} ${L(report.standard.short)} ${L(report.standard.name)}`)] }));
  body.push(
    table(
      null,
      [
        [T.provider, report.provider ?? unknown],
        [T.service, report.service ?? unknown],
        [T.date, report.date],
        [T.model, report.run.model],
        [T.endpoint, report.run.endpoint],
        [T.run, `${report.run.runId} (${report.run.startedAt} – ${report.run.finishedAt ?? '…'})`],
        [T.seed, String(report.run.seed)],
        [T.items, String(report.run.items)],
      ].map(([k, v]) => [cell(L(k as Bilingual), { bold: true, width: 30 }), cell(v as string, { width: 70 })]),
      [30, 70],
    ),
  );

  body.push(heading(L(T.s1)));
  body.push(para(L(report.conclusion === 'compliant' ? T.conclusionCompliant : T.conclusionNon), { bold: true, color: colour(report.conclusion) }));
  body.push(para(countsLine(report, lang)));
  for (const c of report.clauses.filter((x) => x.state === 'non-compliant')) body.push(new Paragraph({ bullet: { level: 0 }, children: [text(`${c.clause} ${L(c.summary)}`)] }));

  body.push(heading(L(T.s2)));
  body.push(
    table(
      [L(T.figure), L(T.rate), L(T.count), L(T.interval), L(T.threshold), L(T.samples), L(T.verdict)],
      report.figures.map((f) => {
        const p = f.proportion;
        return [
          cell(L(f.label)),
          cell(pct(p.rate)),
          cell(`${p.successes}/${p.total}`),
          // A no-break space keeps the interval on one line (and in one piece for readers of the text).
          cell(`[${pct(p.low)},\u00a0${pct(p.high)}]`),
          cell(`${f.direction === 'atLeast' ? '≥' : '≤'} ${pct(f.threshold)}`),
          cell(`≥ ${f.requiredSamples}${f.sampleShortfall > 0 ? ` (−${f.sampleShortfall})` : ''}`),
          cell(verdict(f), { bold: true, color: colour(f.verdict) }),
        ];
      }),
    ),
  );
  if (report.perRisk.length > 0) {
    body.push(heading(L(T.perRisk), HeadingLevel.HEADING_2));
    body.push(
      table(
        [L(T.risk), '', L(T.pass), L(T.refusal)],
        report.perRisk.map((r) => [
          cell(r.risk),
          cell(L(r.name)),
          cell(r.pass ? `${pct(r.pass.rate)} (${r.pass.successes}/${r.pass.total})` : '—'),
          cell(r.refusal ? `${pct(r.refusal.rate)} (${r.refusal.successes}/${r.refusal.total})` : '—'),
        ]),
        [10, 50, 20, 20],
      ),
    );
  }
  if (report.discrimination.length > 0) {
    body.push(heading(L(T.discrimination), HeadingLevel.HEADING_2));
    body.push(
      table(
        [L(T.dimension), L(T.groups), L(T.maxGap)],
        report.discrimination.map((x) => [cell(x.dimension), cell(Object.entries(x.groups).map(([g, p]) => `${g}: ${pct(p.rate)} (${p.successes}/${p.total})`).join('; ')), cell(pct(x.maxGap))]),
      ),
    );
  }

  body.push(heading(L(T.s3)));
  body.push(
    table(
      [L(T.clause), L(T.requirement), L(T.state), L(T.detail)],
      report.clauses.map((c) => {
        const detail: InstanceType<typeof Paragraph>[] = [];
        if (c.evidence.length > 0) {
          detail.push(para(L(T.evidence), { bold: true }));
          for (const ev of c.evidence) detail.push(new Paragraph({ bullet: { level: 0 }, children: [text(L(ev))] }));
        }
        if (c.reason) detail.push(new Paragraph({ children: [text(`${L(T.reason)}: `, { bold: true }), text(L(c.reason))] }));
        if (c.plan) detail.push(new Paragraph({ children: [text(`${L(T.plan)}: `, { bold: true }), text(`${L(c.plan)}${c.due ? ` (${L(T.due)} ${c.due})` : ''}`)] }));
        if (c.justification) detail.push(new Paragraph({ children: [text(`${L(T.justification)}: `, { bold: true }), text(L(c.justification))] }));
        if (c.assumedUnknown) detail.push(para(`${L(T.assumed)}${c.assumedUnknown.join(', ')}`));
        detail.push(new Paragraph({ children: [text(`${L(T.basis)}: ${L(BASIS[c.basis])} · ${L(CHECK_NOTE[c.citationCheck])}`, { color: '666666', size: 18 })] }));
        const clauseName = lang === 'zh' ? `${L(report.standard.short)} ${c.clause}` : `${L(report.standard.short)} §${c.clause}`;
        return [cell(`${clauseName}${c.citationCheck !== 'official-text' ? ' *' : ''}`, { width: 14 }), cell(L(c.summary), { width: 34 }), cell(L(STATE[c.state]), { bold: true, color: colour(c.state), width: 10 }), cell(detail, { width: 42 })];
      }),
      [14, 34, 10, 42],
    ),
  );
  body.push(new Paragraph({ children: [text(`* ${L(CHECK_NOTE.unverified)}`, { color: '666666', size: 18 })] }));

  body.push(heading(L(T.s4)));
  body.push(heading(L(T.bankCoverage), HeadingLevel.HEADING_2));
  const cov = report.coverage;
  if (cov) {
    body.push(para(`${L(T.generated)} ${cov.stats.byKind['generated-content']} · ${L(T.shouldRefuse)} ${cov.stats.byKind['should-refuse']} · ${L(T.shouldNot)} ${cov.stats.byKind['should-not-refuse']}`));
    if (cov.shortfalls.length === 0) body.push(para(L(T.noneShort)));
    else {
      body.push(para(L(T.shortfalls), { bold: true }));
      for (const r of cov.shortfalls) body.push(new Paragraph({ bullet: { level: 0 }, children: [text(`§${r.clause} ${L(r.what)}: ${r.actual ?? '—'} / ${r.required}`)] }));
    }
  } else body.push(para(L(T.bankNone)));
  body.push(heading(L(T.keywordLib), HeadingLevel.HEADING_2));
  const kw = report.keywords;
  if (kw) {
    body.push(para(`${kw.library}: ${kw.total}${kw.meets ? ` — ${L(T.noneShort)}` : ''}`));
    for (const s of kw.shortfalls) body.push(new Paragraph({ bullet: { level: 0 }, children: [text(`${s.risk}: ${s.count} / ${s.required}`)] }));
  } else body.push(para(L(T.keywordNone)));

  body.push(heading(L(T.s5)));
  for (const [title, list] of [
    [T.labelSettings, report.settings.label],
    [T.guardSettings, report.settings.guard],
  ] as const) {
    body.push(heading(L(title), HeadingLevel.HEADING_2));
    if (list.length === 0) body.push(para(L(T.noneGiven)));
    for (const s of list) body.push(new Paragraph({ bullet: { level: 0 }, children: [text(L(s))] }));
  }

  body.push(heading(L(T.s6)));
  for (const n of report.notes) body.push(new Paragraph({ bullet: { level: 0 }, children: [text(L(n))] }));
  body.push(new Paragraph({ children: [text(L(T.generatedBy), { color: '666666', size: 18 })] }));

  const doc = new Document({
    creator: 'hegui',
    title: L(T.title),
    description: `${L(report.standard.short)} — ${report.run.model}`,
    styles: {
      default: {
        document: { run: { font: { ascii: 'Noto Sans', hAnsi: 'Noto Sans', eastAsia: 'Noto Sans CJK SC', cs: 'Noto Sans' }, size: 21 } },
      },
    },
    sections: [{ properties: {}, children: body }],
  });
  const buffer = await Packer.toBuffer(doc);
  return new Uint8Array(buffer);
}
