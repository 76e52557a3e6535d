/**
 * @module safety/messages
 * What the safety engine says to people, in Chinese and English, kept in one place for review.
 */
import type { Bilingual } from './taxonomy-text.js';

/** The reply given instead of blocked content (AI Measures Art. 14: stop transmitting it). */
export const DEFAULT_SAFE_REPLY: Bilingual = {
  zh: '抱歉，该内容不符合相关法律法规和服务规范，无法提供。',
  en: 'Sorry, this content cannot be provided because it does not comply with applicable laws and the service rules.',
};

/** Why content was blocked when a fail-closed classifier could not be reached. */
export const CLASSIFIER_UNAVAILABLE_REPLY: Bilingual = {
  zh: '内容安全检查暂时不可用，请稍后再试。',
  en: 'The content safety check is temporarily unavailable; please try again later.',
};
