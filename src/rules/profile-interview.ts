/**
 * @module rules/profile-interview
 * The pure half of `hegui profile init`: reading one answer for a profile field, and writing
 * the answers as a profile YAML with each question's legal basis as a comment. The command
 * line does the asking; this module never touches a terminal.
 */
import { Document, isMap, isPair, isScalar, isSeq } from 'yaml';
import { InvalidInputError } from '../errors.js';
import type { ProfileField } from './profile-fields.js';
import type { ServiceProfile } from './profile.js';
import type { Lang } from './render.js';

/** An answer to one question: a value, `unknown`, or nothing to write (an optional name left blank). */
export type Answer = { value: unknown } | { unknown: true } | { skip: true };

/** An answer that does not fit the question; `hegui profile init` asks again. */
export class InvalidAnswerError extends InvalidInputError {
  constructor(field: string, message: string) {
    super('E_PROFILE_ANSWER', `${field}: ${message}`);
  }
}

const YES = new Set(['y', 'yes', 'true', '1', '是', '有', '会']);
const NO = new Set(['n', 'no', 'false', '0', '否', '无', '没有', '不会']);
const UNKNOWN = new Set(['', '?', 'unknown', 'u', '不知道', '未知']);
const NONE = new Set(['none', '-', '[]', '无']);

/** How to answer a field, for the prompt. */
export function answerHint(field: ProfileField, lang: Lang): string {
  const zh = lang === 'zh';
  const unknown = zh ? '回车 = 未知' : 'Enter = unknown';
  switch (field.kind.type) {
    case 'boolean':
      return zh ? `是/否（y/n），${unknown}` : `yes/no, ${unknown}`;
    case 'enum':
      return `${field.kind.values.map((v, i) => `${i + 1}=${v}`).join(', ')}; ${unknown}`;
    case 'list':
      return zh ? `逗号分隔（${field.kind.values.join(', ')}），none = 都没有，${unknown}` : `comma-separated (${field.kind.values.join(', ')}), none for none, ${unknown}`;
    case 'count':
      return zh ? `整数，${unknown}` : `a whole number, ${unknown}`;
    case 'date':
      return zh ? 'YYYY-MM-DD，回车跳过' : 'YYYY-MM-DD, Enter to skip';
    case 'text':
      return field.required ? (zh ? '必填' : 'required') : zh ? '回车跳过' : 'Enter to skip';
  }
}

/**
 * Reads `text` as the answer to `field`. Throws {@link InvalidAnswerError} when it does not fit.
 *
 * @example
 * parseAnswer(profileFieldsByPath.get('service.minors')!, 'no'); // { value: false }
 */
export function parseAnswer(field: ProfileField, text: string): Answer {
  const raw = text.trim();
  const lower = raw.toLowerCase();
  const kind = field.kind;
  if (kind.type === 'text') {
    if (raw === '') {
      if (field.required) throw new InvalidAnswerError(field.path, 'an answer is required');
      return { skip: true };
    }
    return { value: raw };
  }
  if (kind.type === 'date') {
    if (raw === '') return { skip: true };
    if (!/^\d{4}-\d{2}-\d{2}$/.test(raw) || Number.isNaN(Date.parse(`${raw}T00:00:00Z`)) || !new Date(`${raw}T00:00:00Z`).toISOString().startsWith(raw)) {
      throw new InvalidAnswerError(field.path, `"${raw}" is not a date as YYYY-MM-DD`);
    }
    return { value: raw };
  }
  if (UNKNOWN.has(lower)) return { unknown: true };
  switch (kind.type) {
    case 'boolean':
      if (YES.has(lower)) return { value: true };
      if (NO.has(lower)) return { value: false };
      throw new InvalidAnswerError(field.path, `answer yes, no or unknown, not "${raw}"`);
    case 'enum': {
      const byIndex = /^\d+$/.test(lower) ? kind.values[Number(lower) - 1] : undefined;
      const value = byIndex ?? kind.values.find((v) => v === lower);
      if (value === undefined) throw new InvalidAnswerError(field.path, `answer one of ${kind.values.join(', ')} (or its number), not "${raw}"`);
      return { value };
    }
    case 'list': {
      if (NONE.has(lower)) {
        if ((kind.min ?? 0) > 0) throw new InvalidAnswerError(field.path, `name at least ${kind.min} of ${kind.values.join(', ')}`);
        return { value: [] };
      }
      const items = lower.split(/[,，\s]+/).filter((s) => s !== '');
      const wrong = items.filter((s) => !kind.values.includes(s));
      if (wrong.length > 0) throw new InvalidAnswerError(field.path, `${wrong.join(', ')} not in ${kind.values.join(', ')}`);
      return { value: [...new Set(items)] };
    }
    case 'count': {
      const digits = lower.replace(/[_,，\s]/g, '');
      if (!/^\d+$/.test(digits) || !Number.isSafeInteger(Number(digits))) throw new InvalidAnswerError(field.path, `answer a whole number, not "${raw}"`);
      return { value: Number(digits) };
    }
  }
}

/** Sets `value` at the dotted `path` of a plain object, creating the objects on the way. */
export function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = target;
  for (const key of keys.slice(0, -1)) {
    if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[keys[keys.length - 1]!] = value;
}

/** The answers given so far as a profile-shaped object (unknown and skipped answers left out), for `askIf`. */
export function answersToProfile(answers: ReadonlyMap<ProfileField, Answer>): ServiceProfile {
  const value: Record<string, unknown> = { provider: {}, service: {} };
  for (const [field, answer] of answers) if ('value' in answer) setPath(value, field.path, answer.value);
  return value as unknown as ServiceProfile;
}

/**
 * The profile as YAML: every answered or unknown field, `unknown` written out, and above each
 * the question's legal basis, so the file explains itself to the next reader.
 */
export function profileYaml(answers: ReadonlyMap<ProfileField, Answer>, lang: Lang): string {
  const value: Record<string, unknown> = {};
  for (const [field, answer] of answers) {
    if ('skip' in answer) continue;
    setPath(value, field.path, 'unknown' in answer ? 'unknown' : answer.value);
  }
  const doc = new Document(value);
  for (const [field, answer] of answers) {
    if ('skip' in answer) continue;
    const keys = field.path.split('.');
    const parent = keys.length === 1 ? doc.contents : doc.getIn(keys.slice(0, -1), true);
    if (!isMap(parent)) continue;
    const pair = parent.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === keys[keys.length - 1]);
    if (pair && isScalar(pair.key)) pair.key.commentBefore = ` ${field.basis[lang]}`;
    if (pair && isSeq(pair.value)) pair.value.flow = true;
  }
  const header = lang === 'zh'
    ? '# 由 hegui profile init 生成。unknown = 未知：相关义务按安全侧适用；用 hegui profile check 查看仍未回答的问题。\n'
    : '# Written by hegui profile init. unknown = not known: the duties it decides apply on the safe side; run hegui profile check to see what is still open.\n';
  return header + doc.toString({ lineWidth: 0, flowCollectionPadding: false });
}
