/**
 * @module desk/rules-page
 * The published rules (AI Measures Art. 15: a published process and time limit; PIPL Art. 50:
 * a convenient way to exercise rights): generated from the settings, in Chinese and English,
 * as a page without script.
 */
import { CATEGORY_NAMES, COMPLAINT_CATEGORIES, PI_RIGHTS } from './model.js';
import type { DeskSettings } from './settings.js';

const escape = (text: string): string => text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

export function rulesText(settings: DeskSettings, lang: 'zh' | 'en'): { title: string; sections: { heading: string; items: string[] }[] } {
  const p = settings.providerName;
  const cats = COMPLAINT_CATEGORIES.map((c) => CATEGORY_NAMES[c]![lang]);
  const rights = PI_RIGHTS.map((c) => CATEGORY_NAMES[c]![lang]);
  const channels = settings.channels.map((c) => c[lang]);
  if (lang === 'zh') {
    return {
      title: `${p} 投诉、举报与个人信息权利请求规则`,
      sections: [
        { heading: '受理渠道', items: ['在线提交：/desk/new（无需登录）', ...channels] },
        { heading: '受理范围', items: [`投诉与举报：${cats.join('、')}`, `个人信息权利：${rights.join('、')}`] },
        {
          heading: '处理流程',
          items: [
            '提交后即获得编号（投诉 C-、举报 R-、个人信息请求 PI-）和私密状态链接；验证码发送至您填写的邮箱，用于证明您能控制该联系方式。',
            '状态：已受理 → 核验身份（如需）→ 处理中 → 已办结 / 不予办理（说明理由）；您可随时撤回。',
            '需要您补充材料时，处理时限暂停，自您补充之日起继续计算。',
            '办结后通过状态链接和邮件反馈处理结果；不予办理的，告知理由。',
          ],
        },
        {
          heading: '处理时限（工作日，按国务院公布的节假日及调休安排计算）',
          items: [`投诉：${settings.limits.complaint} 个工作日`, `举报：${settings.limits.report} 个工作日`, `个人信息权利请求：${settings.limits.pi} 个工作日`, '时限自受理次日起算，遇法定节假日顺延，调休上班日计入。'],
        },
        { heading: '依据', items: ['《生成式人工智能服务管理暂行办法》第十一条、第十五条', '《个人信息保护法》第四十四条至第五十条'] },
      ],
    };
  }
  return {
    title: `${p}: rules for complaints, reports and personal-information requests`,
    sections: [
      { heading: 'Channels', items: ['Online, no sign-in: /desk/new', ...channels] },
      { heading: 'What we accept', items: [`Complaints and reports: ${cats.join(', ')}`, `Personal-information rights: ${rights.join(', ')}`] },
      {
        heading: 'Process',
        items: [
          'On filing you get a reference (C- complaint, R- report, PI- personal-information request) and a private status link; a one-time code is sent to your e-mail address to prove you control it.',
          'States: received → verifying identity (when needed) → in progress → resolved / refused (with the reason); you may withdraw at any time.',
          'When we need more from you, the time limit pauses and runs again from the day you answer.',
          'At the end we tell you the outcome on the status page and by e-mail; a refusal comes with its reason.',
        ],
      },
      {
        heading: 'Time limits (China working days: State Council holidays excluded, make-up working days counted)',
        items: [`Complaints: ${settings.limits.complaint} working days`, `Reports: ${settings.limits.report} working days`, `Personal-information requests: ${settings.limits.pi} working days`, 'Counted from the day after receipt.'],
      },
      { heading: 'Legal basis', items: ['Interim Measures for Generative AI Services, Art. 11 and 15', 'Personal Information Protection Law, Art. 44-50'] },
    ],
  };
}

export function rulesPage(settings: DeskSettings, lang: 'zh' | 'en'): string {
  const text = rulesText(settings, lang);
  const other = lang === 'zh' ? '<a href="/desk/rules?lang=en">English</a>' : '<a href="/desk/rules?lang=zh">中文</a>';
  const body = text.sections.map((s) => `<h2>${escape(s.heading)}</h2><ul>${s.items.map((i) => `<li>${escape(i)}</li>`).join('')}</ul>`).join('\n');
  return `<!doctype html><html lang="${lang === 'zh' ? 'zh-CN' : 'en'}"><meta charset="utf-8"><title>${escape(text.title)}</title>
<main style="max-width:46rem;margin:2rem auto;font-family:sans-serif;line-height:1.5">
<p>${other} · <a href="/desk/new">${lang === 'zh' ? '在线提交' : 'File online'}</a></p>
<h1>${escape(text.title)}</h1>
${body}
</main></html>`;
}
