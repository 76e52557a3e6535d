/**
 * @module rules/profile-values
 * The values profile fields take, without the schema, so the dashboard's interview form can
 * use them without bundling zod.
 */

export const modalities = ['text', 'image', 'audio', 'video', 'virtual-scene'] as const;
export const sectors = ['finance', 'healthcare', 'automotive'] as const;

/**
 * Who the service is offered to. Each instrument draws its own line (AI Measures Arts. 2 and
 * 22, Deep Synthesis Art. 2, Algorithm Provisions Art. 2), so the profile names the case:
 * - `public`: open to the public (anyone may sign up or download it);
 * - `business-api`: offered to other businesses, e.g. as an API or a white-label model that
 *   they build on (AI Measures Art. 22 counts API provision as providing the service; under
 *   the Deep Synthesis Provisions the provider is a technical supporter);
 * - `in-house`: used only by the provider's own staff;
 * - `research`: research and development, offered to no one.
 */
export const audiences = ['public', 'business-api', 'in-house', 'research'] as const;
export type Audience = (typeof audiences)[number];
