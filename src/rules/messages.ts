/**
 * @module rules/messages
 * Every sentence the engine writes about a duty, in Chinese and English, kept in one place
 * so both versions can be reviewed side by side.
 */
import type { Bilingual } from './schema.js';

export const reasons = {
  notIssued: (date: string): Bilingual => ({ zh: `${date}时尚未发布`, en: `not issued yet on ${date}` }),
  draft: (): Bilingual => ({ zh: '征求意见稿，尚未施行，不产生义务', en: 'a draft for comment; it creates no obligations' }),
  superseded: (by: string, on: string): Bilingual => ({ zh: `已于${on}被 ${by} 取代`, en: `superseded by ${by} on ${on}` }),
  repealed: (on: string): Bilingual => ({ zh: `已于${on}废止`, en: `repealed on ${on}` }),
  condition: (description: string): Bilingual => ({ zh: `适用条件不满足：${description}`, en: `condition not met: ${description}` }),
  platformRole: (): Bilingual => ({
    zh: '约束内容传播平台，本服务未声明为平台（service.contentPlatform）',
    en: 'binds content propagation platforms; the profile does not declare one (service.contentPlatform)',
  }),
  appStoreRole: (): Bilingual => ({
    zh: '约束应用分发平台，本服务未声明为应用商店（service.appStore）',
    en: 'binds app distribution platforms; the profile does not declare one (service.appStore)',
  }),
  userRole: (): Bilingual => ({
    zh: '约束服务使用者而非提供者；提供者的相应义务另行列出',
    en: "binds the service's users, not the provider; the provider's related duties are listed separately",
  }),
  noItemisedDuties: (): Bilingual => ({
    zh: '适用，但本目录尚未逐条列出其义务；请对照原文自行核查',
    en: 'applies; no itemised duties yet in this catalogue, so check the text itself',
  }),
  notInAnyVersion: (): Bilingual => ({ zh: '在该日期有效或将生效的文本中不含此义务', en: 'no version in force or coming into force on that date carries this duty' }),
  upcoming: (effective: string): Bilingual => ({ zh: `${effective}起施行`, en: `in force from ${effective}` }),
  upcomingVersion: (version: string, effective: string): Bilingual => ({
    zh: `修订文本（${version}）${effective}起施行`,
    en: `amended text (${version}) in force from ${effective}`,
  }),
} as const;
