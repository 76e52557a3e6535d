/**
 * @module safety/taxonomy-text
 * Names of the GB/T 45654-2025 Appendix A categories and risks, in Chinese (the standard's
 * wording, shortened where the standard lists examples) and English (our translation).
 * Kept apart so translators and reviewers read one file.
 */
import type { RiskCategoryCode, RiskCode } from './taxonomy.js';

/** Text in both languages the project speaks. */
export interface Bilingual {
  zh: string;
  en: string;
}

export const CATEGORY_NAMES: Record<RiskCategoryCode, Bilingual> = {
  A1: { zh: '违反社会主义核心价值观的内容', en: 'Content violating the core socialist values' },
  A2: { zh: '歧视性内容', en: 'Discriminatory content' },
  A3: { zh: '商业违法违规', en: 'Commercial violations' },
  A4: { zh: '侵犯他人合法权益', en: "Infringement of others' lawful rights and interests" },
  A5: { zh: '无法满足特定服务类型的安全需求', en: 'Failing the safety needs of specific service types' },
};

export const RISK_NAMES: Record<RiskCode, Bilingual> = {
  'A1.1': { zh: '煽动颠覆国家政权、推翻社会主义制度', en: 'Inciting subversion of state power or overthrow of the socialist system' },
  'A1.2': { zh: '危害国家安全和利益、损害国家形象', en: 'Endangering national security and interests, harming the national image' },
  'A1.3': { zh: '煽动分裂国家、破坏国家统一和社会稳定', en: 'Inciting secession, undermining national unity and social stability' },
  'A1.4': { zh: '宣扬恐怖主义、极端主义', en: 'Promoting terrorism or extremism' },
  'A1.5': { zh: '宣扬民族仇恨', en: 'Promoting ethnic hatred' },
  'A1.6': { zh: '宣扬暴力、淫秽色情', en: 'Promoting violence, obscenity or pornography' },
  'A1.7': { zh: '传播虚假有害信息', en: 'Spreading false and harmful information' },
  'A1.8': { zh: '其他法律、行政法规禁止的内容', en: 'Other content prohibited by laws and administrative regulations' },
  'A2.1': { zh: '民族歧视内容', en: 'Ethnic discrimination' },
  'A2.2': { zh: '信仰歧视内容', en: 'Discrimination by belief' },
  'A2.3': { zh: '国别歧视内容', en: 'Discrimination by nationality' },
  'A2.4': { zh: '地域歧视内容', en: 'Regional discrimination' },
  'A2.5': { zh: '性别歧视内容', en: 'Gender discrimination' },
  'A2.6': { zh: '年龄歧视内容', en: 'Age discrimination' },
  'A2.7': { zh: '职业歧视内容', en: 'Occupational discrimination' },
  'A2.8': { zh: '健康歧视内容', en: 'Health discrimination' },
  'A2.9': { zh: '其他方面歧视内容', en: 'Other discrimination' },
  'A3.1': { zh: '侵犯他人知识产权', en: 'Infringing intellectual property rights' },
  'A3.2': { zh: '违反商业道德', en: 'Violating business ethics' },
  'A3.3': { zh: '泄露他人商业秘密', en: 'Disclosing trade secrets' },
  'A3.4': { zh: '利用算法、数据、平台等优势实施垄断和不正当竞争行为', en: 'Monopoly or unfair competition using algorithms, data or platforms' },
  'A3.5': { zh: '其他商业违法违规行为', en: 'Other commercial violations' },
  'A4.1': { zh: '危害他人身心健康', en: "Endangering others' physical or mental health" },
  'A4.2': { zh: '侵害他人肖像权', en: 'Infringing portrait rights' },
  'A4.3': { zh: '侵害他人名誉权', en: 'Infringing reputation rights' },
  'A4.4': { zh: '侵害他人荣誉权', en: 'Infringing honour rights' },
  'A4.5': { zh: '侵害他人隐私权', en: 'Infringing privacy rights' },
  'A4.6': { zh: '侵害他人个人信息权益', en: 'Infringing personal information rights' },
  'A4.7': { zh: '侵犯他人其他合法权益', en: "Infringing others' other lawful rights and interests" },
  'A5.1': { zh: '内容不准确，严重不符合科学常识或主流认知', en: 'Inaccurate content, seriously contrary to science or mainstream understanding' },
  'A5.2': { zh: '内容不可靠，无法对使用者形成帮助', en: 'Unreliable content that cannot help the user' },
};
