/**
 * @module eval/settings
 * The label and guard settings of a gateway configuration, as lines of evidence for the
 * self-assessment report and the filing materials (what the service does to every request and
 * answer). Only facts the configuration states; secrets are never copied (a signing key is
 * reported as present, not shown).
 */
import type { GatewayConfig } from '../gateway/config.js';
import type { Bilingual } from '../rules/index.js';

export function settingsFromGatewayConfig(config: GatewayConfig): { label: Bilingual[]; guard: Bilingual[] } {
  const s = config.safety;
  const l = config.labels;
  const guard: Bilingual[] = [
    {
      zh: `输入与输出护栏：关键词库文件 ${s.keywords.length} 个、数据库词库 ${s.libraries.length} 个${s.libraries.length > 0 ? `（${s.libraries.join('、')}，每 ${s.reloadSeconds} 秒热更新）` : ''}`,
      en: `input and output guard: ${s.keywords.length} keyword library file(s), ${s.libraries.length} stored librar${s.libraries.length === 1 ? 'y' : 'ies'}${s.libraries.length > 0 ? ` (${s.libraries.join(', ')}, reloaded every ${s.reloadSeconds} s)` : ''}`,
    },
    s.policy
      ? { zh: `安全策略：自定义规则 ${s.policy.rules.length} 条，用户类别 ${Object.keys(s.policy.userClasses).length} 个`, en: `safety policy: ${s.policy.rules.length} custom rule(s), ${Object.keys(s.policy.userClasses).length} user class(es)` }
      : { zh: '安全策略：安全引擎默认策略', en: "safety policy: the safety engine's default" },
    { zh: `个人信息检测：${s.pii ? '开启' : '关闭'}；工具结果检查：${s.checkToolResults ? '开启' : '关闭'}；未知字段：${s.unknownFields === 'drop' ? '丢弃' : '放行'}`, en: `personal-data detection: ${s.pii ? 'on' : 'off'}; tool results checked: ${s.checkToolResults ? 'yes' : 'no'}; unknown answer fields: ${s.unknownFields}` },
    { zh: `输入拦截方式：${s.inputBlock === 'refusal' ? '拒答回复' : '错误对象'}`, en: `blocked input answered as: ${s.inputBlock}` },
  ];
  if (config.minors.dailyRequests !== undefined || config.minors.dailyMinutes !== undefined) {
    guard.push({ zh: `未成年人限制：每日请求 ${config.minors.dailyRequests ?? '不限'}，每日分钟 ${config.minors.dailyMinutes ?? '不限'}`, en: `minors: ${config.minors.dailyRequests ?? 'no'} daily request limit, ${config.minors.dailyMinutes ?? 'no'} daily minute limit` });
  }
  const label: Bilingual[] = [
    l.producer ? { zh: `隐式标识：ContentProducer ${l.producer}${l.signingKey ? '，ReservedCode1 签名' : '，未签名'}`, en: `implicit labels: ContentProducer ${l.producer}${l.signingKey ? ', signed in ReservedCode1' : ', unsigned'}` } : { zh: '隐式标识：未配置提供者编码', en: 'implicit labels: no provider code configured' },
    { zh: `文本显式标识位置：${l.notice.position}`, en: `explicit text notice: ${l.notice.position}` },
    { zh: `音频提示：${l.audioNotice}`, en: `audio notice: ${l.audioNotice}` },
  ];
  return { label, guard };
}
