/**
 * @module gateway/messages
 * What end users read from the gateway itself (not from the model), in Chinese (the default
 * for end users) and English: minors' reminders, abuse warnings, limits and refusals. Kept in
 * one place so the wording can be reviewed together.
 */

export type Language = 'zh' | 'en';

type Text = Record<Language, string>;

/** Reminder after continuous use (Minors Regulations Art. 43; AI Measures Art. 10). */
const REMINDER: Text = {
  zh: '【防沉迷提醒】你已连续使用约{minutes}分钟，请注意休息。',
  en: '[Reminder] You have been using this service for about {minutes} minutes without a break; please take a rest.',
};

/** Warnings and limits after repeated illegal content (AI Measures Art. 14). */
const WARN: Text = {
  zh: '【警告】你的请求多次涉及违法违规内容。继续发送此类内容，账号将被限制或暂停使用。',
  en: '[Warning] Your requests have repeatedly involved illegal content. If this continues, your account will be limited or suspended.',
};
const LIMIT: Text = {
  zh: '【限制】你的请求多次涉及违法违规内容，账号已被限制使用至{until}。',
  en: '[Limited] Your requests have repeatedly involved illegal content; your account is limited until {until}.',
};
const SUSPEND: Text = {
  zh: '【暂停】你的请求多次涉及违法违规内容，账号已被暂停使用{until}。',
  en: '[Suspended] Your requests have repeatedly involved illegal content; your account is suspended {until}.',
};
const UNTIL_LIFTED: Text = { zh: '，直至运营方解除', en: 'until the operator lifts the suspension' };

function fill(text: string, values: Record<string, string>): string {
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => values[name] ?? whole);
}

/** A time as users in China read it (Beijing time). */
function beijingTime(ms: number): string {
  return `${new Date(ms + 8 * 3_600_000).toISOString().slice(0, 16).replace('T', ' ')} (UTC+8)`;
}

export function reminderNotice(language: Language, continuousMinutes: number, own?: string): string {
  return fill(own ?? REMINDER[language], { minutes: String(Math.floor(continuousMinutes)) });
}

/** The notice for a sanction just taken: `until` in ms, null for "until lifted". */
export function sanctionNotice(language: Language, action: 'warn' | 'limit' | 'suspend', until: number | null): string {
  if (action === 'warn') return WARN[language];
  const when = until === null ? UNTIL_LIFTED[language] : language === 'zh' ? `至${beijingTime(until)}` : `until ${beijingTime(until)}`;
  return action === 'limit' ? fill(LIMIT[language], { until: until === null ? '' : beijingTime(until) }) : fill(SUSPEND[language], { until: when });
}

/** Messages of refused requests (operators' API clients show them to their users). */
export const refusals = {
  unverified: 'this service requires verified real identity (Deep Synthesis Provisions Art. 9; Cybersecurity Law Art. 24): complete real-name verification with the provider, then try again',
  suspended: (until: number | null): string =>
    `this account is suspended after repeated illegal content (AI Measures Art. 14) ${until === null ? 'until the operator lifts the suspension' : `until ${new Date(until).toISOString()}`}`,
  limited: (perMinute: number, until: number): string => `this account is limited to ${perMinute} request(s) per minute until ${new Date(until).toISOString()} after repeated illegal content (AI Measures Art. 14)`,
  rate: (scope: 'user' | 'key', requests: number, perSeconds: number): string => `too many requests: this ${scope === 'user' ? 'user' : 'API key'} may send ${requests} per ${perSeconds} s; retry after the time in Retry-After`,
  dailyRequests: (limit: number): string => `the daily allowance of ${limit} requests for minors is used up (Minors Regulations Art. 43); it renews at midnight Beijing time`,
  dailyMinutes: (limit: number): string => `the daily allowance of ${limit} minutes of use for minors is used up (Minors Regulations Art. 43); it renews at midnight Beijing time`,
};
