/**
 * @module desk/templates
 * Reply templates in Chinese and English. `{reference}`, `{due}`, `{reason}` and `{provider}`
 * are filled in; the reviewer edits the result before sending.
 */

export interface ReplyTemplate {
  id: string;
  title: { zh: string; en: string };
  text: { zh: string; en: string };
}

export const REPLY_TEMPLATES: readonly ReplyTemplate[] = [
  {
    id: 'acknowledge',
    title: { zh: '确认受理', en: 'Acknowledge' },
    text: {
      zh: '您好，您的{kind}（编号 {reference}）已受理，我们将在 {due} 前答复。',
      en: 'Hello, we have received your {kind} ({reference}) and will answer by {due}.',
    },
  },
  {
    id: 'need-info',
    title: { zh: '请求补充材料', en: 'Ask for more information' },
    text: {
      zh: '您好，为处理编号 {reference} 的事项，请通过状态链接补充以下信息：{reason}。补充期间处理时限暂停。',
      en: 'Hello, to handle {reference} we need the following from you, through your status link: {reason}. The time limit is paused until you answer.',
    },
  },
  {
    id: 'resolved',
    title: { zh: '办结答复', en: 'Resolved' },
    text: {
      zh: '您好，编号 {reference} 的事项已处理完毕：{reason}。如对结果有异议，可再次提交。',
      en: 'Hello, {reference} has been handled: {reason}. If you disagree with the outcome you may file again.',
    },
  },
  {
    id: 'refused',
    title: { zh: '不予办理', en: 'Refusal' },
    text: {
      zh: '您好，编号 {reference} 的请求不予办理，理由：{reason}。您可向网信部门投诉举报。',
      en: 'Hello, we cannot act on {reference}, because: {reason}. You may complain to the cyberspace administration.',
    },
  },
  {
    id: 'pi-copy-ready',
    title: { zh: '个人信息副本已生成', en: 'Copy of personal information ready' },
    text: {
      zh: '您好，您请求的个人信息副本（编号 {reference}）已生成，请通过状态链接下载 ZIP 文件（含 JSON 与可阅读的 HTML）。',
      en: 'Hello, the copy of your personal information ({reference}) is ready: download the ZIP (JSON and a readable HTML page) from your status link.',
    },
  },
  {
    id: 'pi-deleted',
    title: { zh: '个人信息已删除', en: 'Personal information deleted' },
    text: {
      zh: '您好，编号 {reference} 的删除请求已执行。{reason}',
      en: 'Hello, the deletion requested in {reference} has been carried out. {reason}',
    },
  },
];

export function fillTemplate(text: string, values: Record<string, string>): string {
  return text.replace(/\{(\w+)\}/g, (whole, key: string) => values[key] ?? whole);
}
