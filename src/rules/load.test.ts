import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidInputError } from '../errors.js';
import { COMPILED_FILE, RulesDataError, checkInstrumentSet, defaultDataDir, loadInstruments, parseInstrument, writeCompiledInstruments } from './load.js';

/** A small valid instrument, as YAML text, with one obligation. */
function instrumentYaml(id: string, extra = '', obligationId = `${id}.duty`): string {
  return `id: ${id}
name: { zh: 测试办法, en: Test Measures }
short: { zh: 测试, en: Test }
issuers:
  - { zh: 测试部门, en: Test Department }
hierarchy: departmental-rule
promulgated: 2024-01-02
effective: 2024-03-01
source:
  checked: fixture for the loader tests
  citations: unverified
${extra}obligations:
  - id: ${obligationId}
    article: 3
    summary: { zh: 做一件事。, en: Do one thing. }
    role: provider
    evidence: { zh: 记录。, en: A record. }
    control: none
`;
}

function catchError(fn: () => unknown): RulesDataError {
  try {
    fn();
  } catch (error) {
    if (error instanceof RulesDataError) return error;
    throw error;
  }
  throw new Error('expected a RulesDataError');
}

describe('parseInstrument', () => {
  it('parses a valid file and fills schema defaults', () => {
    const doc = parseInstrument(instrumentYaml('alpha'), 'alpha.yaml');
    expect(doc.id).toBe('alpha');
    expect(doc.draft).toBe(false);
    expect(doc.amendments).toEqual([]);
    expect(doc.obligations[0]?.article).toBe(3);
  });

  it('raises an InvalidInputError with code E_RULES_DATA and the usage exit status', () => {
    const error = catchError(() => parseInstrument('id: [', 'broken.yaml'));
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error.code).toBe('E_RULES_DATA');
    expect(error.exitCode).toBe(2);
    expect(error.file).toBe('broken.yaml');
    expect(error.message).toMatch(/^regulatory data is invalid:\n {2}broken\.yaml: YAML /);
  });

  it('names an unknown field with its full path', () => {
    const text = instrumentYaml('alpha').replace('    control: none', '    control: none\n    deadline: soon');
    const error = catchError(() => parseInstrument(text, 'alpha.yaml'));
    expect(error.problems).toEqual(['alpha.yaml: obligations[0].deadline: unknown field (remove it or fix its spelling)']);
  });

  it('names a field of the wrong type', () => {
    const text = instrumentYaml('alpha').replace('article: 3', 'article: "3"');
    const error = catchError(() => parseInstrument(text, 'alpha.yaml'));
    expect(error.problems).toEqual(['alpha.yaml: obligations[0].article: expected number, got "3"']);
  });

  it('names a missing English summary', () => {
    const text = instrumentYaml('alpha').replace('summary: { zh: 做一件事。, en: Do one thing. }', 'summary: { zh: 做一件事。 }');
    const error = catchError(() => parseInstrument(text, 'alpha.yaml'));
    expect(error.problems).toEqual(['alpha.yaml: obligations[0].summary.en: required field is missing (expected string)']);
  });

  it('rejects an obligation without an article', () => {
    const text = instrumentYaml('alpha').replace('    article: 3\n', '');
    const error = catchError(() => parseInstrument(text, 'alpha.yaml'));
    expect(error.problems).toEqual(['alpha.yaml: obligations[0].article: required field is missing (expected number)']);
  });

  it('rejects a date in the wrong format and a date that is not on the calendar', () => {
    const wrongFormat = catchError(() => parseInstrument(instrumentYaml('alpha').replace('effective: 2024-03-01', 'effective: 2024/03/01'), 'alpha.yaml'));
    expect(wrongFormat.problems).toEqual(['alpha.yaml: effective: expected a date as YYYY-MM-DD']);
    const notADay = catchError(() => parseInstrument(instrumentYaml('alpha').replace('effective: 2024-03-01', 'effective: 2024-02-30'), 'alpha.yaml'));
    expect(notADay.problems).toEqual(['alpha.yaml: effective: "2024-02-30" is not a calendar date']);
  });

  it('rejects an effective date before the promulgation date', () => {
    const text = instrumentYaml('alpha').replace('effective: 2024-03-01', 'effective: 2023-12-31');
    expect(catchError(() => parseInstrument(text, 'alpha.yaml')).problems).toEqual([
      'alpha.yaml: effective: 2023-12-31 is before promulgated 2024-01-02',
    ]);
  });

  it('explains a malformed condition by the closest allowed form', () => {
    const text = instrumentYaml('alpha').replace('    control: none', '    control: none\n    when: { field: service.minors, equals: true }');
    const [problem] = catchError(() => parseInstrument(text, 'alpha.yaml')).problems;
    expect(problem).toMatch(/^alpha\.yaml: obligations\[0\]\.when: matches none of the allowed forms; closest form fails with: /);
    expect(problem).toContain('obligations[0].when.equals: unknown field');
  });

  it('requires the file name to be <id>.yaml', () => {
    const error = catchError(() => parseInstrument(instrumentYaml('alpha'), 'beta.yaml'));
    expect(error.problems).toEqual(['beta.yaml: id: "alpha" does not match the file name; rename the file to alpha.yaml']);
  });

  it('rejects a duplicate key and a duplicate obligation id within one file', () => {
    const duplicateKey = catchError(() => parseInstrument(instrumentYaml('alpha').replace('hierarchy: departmental-rule', 'hierarchy: law\nhierarchy: departmental-rule'), 'alpha.yaml'));
    expect(duplicateKey.problems[0]).toMatch(/^alpha\.yaml: YAML Map keys must be unique/);
    const twice = instrumentYaml('alpha') + instrumentYaml('alpha').split('obligations:\n')[1];
    expect(catchError(() => parseInstrument(twice, 'alpha.yaml')).problems).toEqual([
      'alpha.yaml: obligations[1].id: "alpha.duty" is used twice in this file',
    ]);
  });

  it('rejects an obligation citing an unknown version', () => {
    const text = instrumentYaml('alpha').replace('    control: none', '    control: none\n    versions: [2030-amendment]');
    expect(catchError(() => parseInstrument(text, 'alpha.yaml')).problems[0]).toMatch(/^alpha\.yaml: obligations\[0\]\.versions: unknown version "2030-amendment"/);
  });
});

describe('checkInstrumentSet', () => {
  it('rejects an instrument id defined twice and an obligation id used twice', () => {
    const alpha = parseInstrument(instrumentYaml('alpha'), 'alpha.yaml');
    const error = catchError(() => checkInstrumentSet([alpha, alpha]));
    expect(error.problems).toEqual([
      'alpha.yaml: id: instrument "alpha" is defined twice',
      'alpha.yaml: obligations[0].id: "alpha.duty" is already used in alpha.yaml',
    ]);
  });

  it('rejects alternatives naming an obligation that does not exist', () => {
    const alpha = parseInstrument(instrumentYaml('alpha').replace('    control: none\n', '    control: none\n    alternatives: [beta.dutty]\n'), 'alpha.yaml');
    const beta = parseInstrument(instrumentYaml('beta'), 'beta.yaml');
    expect(catchError(() => checkInstrumentSet([alpha, beta])).problems).toEqual(['alpha.yaml: obligations[0].alternatives: "beta.dutty" is not a known obligation id']);
  });

  it('accepts a consistent set', () => {
    const alpha = parseInstrument(instrumentYaml('alpha'), 'alpha.yaml');
    const beta = parseInstrument(instrumentYaml('beta', 'superseded: { on: 2025-01-01, by: alpha }\n'), 'beta.yaml');
    expect(() => checkInstrumentSet([alpha, beta])).not.toThrow();
  });
});

describe('loadInstruments', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'hegui-rules-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  const write = (name: string, text: string): void => writeFileSync(join(dir, name), text);

  it('loads every .yaml file in the folder, sorted by id, and ignores other files', () => {
    write('beta.yaml', instrumentYaml('beta'));
    write('alpha.yaml', instrumentYaml('alpha'));
    write('README.md', '# notes');
    expect(loadInstruments(dir).map((i) => i.id)).toEqual(['alpha', 'beta']);
  });

  it('names the broken file among good ones', () => {
    write('alpha.yaml', instrumentYaml('alpha'));
    write('beta.yaml', instrumentYaml('beta').replace('role: provider', 'role: regulator'));
    const error = catchError(() => loadInstruments(dir));
    expect(error.file).toBe('beta.yaml');
    expect(error.problems[0]).toMatch(/^beta\.yaml: obligations\[0\]\.role: /);
  });

  it('rejects superseded.by naming an unknown instrument', () => {
    write('beta.yaml', instrumentYaml('beta', 'superseded: { on: 2025-01-01, by: gamma }\n'));
    expect(catchError(() => loadInstruments(dir)).problems).toEqual([
      'beta.yaml: superseded.by: "gamma" is not a known instrument id',
    ]);
  });

  it('accepts superseded.by naming a known instrument', () => {
    write('alpha.yaml', instrumentYaml('alpha'));
    write('beta.yaml', instrumentYaml('beta', 'superseded: { on: 2025-01-01, by: alpha }\n'));
    expect(loadInstruments(dir).find((i) => i.id === 'beta')?.superseded).toEqual({ on: '2025-01-01', by: 'alpha' });
  });

  it('refuses a .yml file rather than skipping it silently', () => {
    write('alpha.yml', instrumentYaml('alpha'));
    expect(catchError(() => loadInstruments(dir)).problems).toEqual(['alpha.yml: instrument files end in .yaml; rename it']);
  });

  it('reports an empty or missing folder', () => {
    expect(catchError(() => loadInstruments(dir)).problems[0]).toMatch(/no \*\.yaml instrument files found$/);
    expect(catchError(() => loadInstruments(join(dir, 'missing'))).problems[0]).toMatch(/cannot read the data folder/);
  });

  it('defaults to the data folder beside the module', () => {
    expect(defaultDataDir.replaceAll('\\', '/')).toMatch(/\/rules\/data\/$/);
    expect(loadInstruments().length).toBeGreaterThan(0);
  });
});

describe('compiled instruments (the build copy)', () => {
  function copyOfData(): string {
    const dir = mkdtempSync(join(tmpdir(), 'hegui-rules-compiled-'));
    for (const name of readdirSync(defaultDataDir)) if (name.endsWith('.yaml')) copyFileSync(join(defaultDataDir, name), join(dir, name));
    return dir;
  }

  it('gives exactly what parsing the YAML gives', () => {
    const dir = copyOfData();
    try {
      const parsed = loadInstruments(dir);
      expect(writeCompiledInstruments(dir)).toBe(parsed.length);
      expect(existsSync(join(dir, COMPILED_FILE))).toBe(true);
      expect(loadInstruments(dir)).toEqual(parsed);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is ignored once a YAML file changes, and when damaged', () => {
    const dir = copyOfData();
    try {
      writeCompiledInstruments(dir);
      const file = join(dir, 'pipl.yaml');
      writeFileSync(file, readFileSync(file, 'utf8').replace('中华人民共和国个人信息保护法', '中华人民共和国个人信息保护法X'));
      const edited = loadInstruments(dir).find((i) => i.id === 'pipl');
      expect(edited?.name.zh).toBe('中华人民共和国个人信息保护法X');
      writeFileSync(file, 'id: [broken');
      expect(() => loadInstruments(dir)).toThrow(RulesDataError);
      writeFileSync(join(dir, COMPILED_FILE), '{"format":');
      rmSync(file);
      expect(loadInstruments(dir).some((i) => i.id === 'pipl')).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
