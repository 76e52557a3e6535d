/**
 * @module desk/model
 * What a desk case is: its kinds, categories, states and the legal transitions between them.
 */

export const CASE_KINDS = ['complaint', 'report', 'pi'] as const;
export type CaseKind = (typeof CASE_KINDS)[number];

/** Reference prefixes: C-2026-000123, R-…, PI-…. */
export const REFERENCE_PREFIX: Record<CaseKind, string> = { complaint: 'C', report: 'R', pi: 'PI' };

/** Categories of complaints and reports (AI Measures Art. 14-15; GB/T 45654 risk groups). */
export const COMPLAINT_CATEGORIES = ['illegal-content', 'harmful-content', 'discrimination', 'rights-infringement', 'privacy', 'inaccurate-content', 'minors', 'service-quality', 'other'] as const;

/** The personal-information rights a request exercises (PIPL Art. 44-50; AI Measures Art. 11). */
export const PI_RIGHTS = ['access', 'copy', 'correct', 'supplement', 'delete', 'withdraw-consent', 'close-account', 'explain'] as const;
export type PiRight = (typeof PI_RIGHTS)[number];

export const CASE_STATES = ['received', 'verifying-identity', 'in-progress', 'waiting-on-requester', 'resolved', 'refused', 'withdrawn'] as const;
export type CaseState = (typeof CASE_STATES)[number];

export const CLOSED_STATES: readonly CaseState[] = ['resolved', 'refused', 'withdrawn'];

/** Where each state may go. Closed states go nowhere. */
export const TRANSITIONS: Readonly<Record<CaseState, readonly CaseState[]>> = {
  received: ['verifying-identity', 'in-progress', 'waiting-on-requester', 'refused', 'withdrawn'],
  'verifying-identity': ['in-progress', 'waiting-on-requester', 'refused', 'withdrawn'],
  'in-progress': ['verifying-identity', 'waiting-on-requester', 'resolved', 'refused', 'withdrawn'],
  'waiting-on-requester': ['verifying-identity', 'in-progress', 'refused', 'withdrawn'],
  resolved: [],
  refused: [],
  withdrawn: [],
};

export function isCaseState(value: string): value is CaseState {
  return (CASE_STATES as readonly string[]).includes(value);
}

export function isCaseKind(value: string): value is CaseKind {
  return (CASE_KINDS as readonly string[]).includes(value);
}

export function isClosed(state: string): boolean {
  return (CLOSED_STATES as readonly string[]).includes(state);
}

export function categoriesOf(kind: CaseKind): readonly string[] {
  return kind === 'pi' ? PI_RIGHTS : COMPLAINT_CATEGORIES;
}

/** State names for people, zh and en. */
export const STATE_NAMES: Readonly<Record<CaseState, { zh: string; en: string }>> = {
  received: { zh: '已受理', en: 'received' },
  'verifying-identity': { zh: '核验身份中', en: 'verifying identity' },
  'in-progress': { zh: '处理中', en: 'in progress' },
  'waiting-on-requester': { zh: '等待您补充（时限暂停）', en: 'waiting on you (clock paused)' },
  resolved: { zh: '已办结', en: 'resolved' },
  refused: { zh: '不予办理', en: 'refused' },
  withdrawn: { zh: '已撤回', en: 'withdrawn' },
};

export const KIND_NAMES: Readonly<Record<CaseKind, { zh: string; en: string }>> = {
  complaint: { zh: '投诉', en: 'complaint' },
  report: { zh: '举报', en: 'report' },
  pi: { zh: '个人信息权利请求', en: 'personal-information request' },
};

export const CATEGORY_NAMES: Readonly<Record<string, { zh: string; en: string }>> = {
  'illegal-content': { zh: '违法内容', en: 'illegal content' },
  'harmful-content': { zh: '不良信息', en: 'harmful content' },
  discrimination: { zh: '歧视', en: 'discrimination' },
  'rights-infringement': { zh: '侵犯权益（肖像、名誉、知识产权等）', en: 'infringement of rights (portrait, reputation, IP…)' },
  privacy: { zh: '隐私与个人信息', en: 'privacy and personal information' },
  'inaccurate-content': { zh: '内容不准确', en: 'inaccurate content' },
  minors: { zh: '未成年人保护', en: 'protection of minors' },
  'service-quality': { zh: '服务质量', en: 'service quality' },
  other: { zh: '其他', en: 'other' },
  access: { zh: '查阅', en: 'access' },
  copy: { zh: '复制（导出副本）', en: 'copy (export)' },
  correct: { zh: '更正', en: 'correct' },
  supplement: { zh: '补充', en: 'supplement' },
  delete: { zh: '删除', en: 'delete' },
  'withdraw-consent': { zh: '撤回同意', en: 'withdraw consent' },
  'close-account': { zh: '注销账号', en: 'close account' },
  explain: { zh: '解释说明（含自动化决策）', en: 'explain (incl. an automated decision)' },
};
