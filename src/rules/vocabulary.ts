/**
 * @module rules/vocabulary
 * The fixed values of the knowledge base (hierarchies, roles, binding forces, citation checks,
 * controls) without the schema, so the engine and `hegui rules` run without loading zod
 * (issue 14: start-up). `schema.ts` validates against them and re-exports them.
 */

/** Where an instrument sits in China's legal hierarchy (Legislation Law), plus the soft-law tiers. */
export const hierarchies = [
  'law',
  'administrative-regulation',
  'departmental-rule',
  'normative-document',
  'mandatory-national-standard',
  'recommended-national-standard',
  'industry-standard',
  'practice-guideline',
  'draft',
] as const;
export type Hierarchy = (typeof hierarchies)[number];

/**
 * Roles an obligation binds, as the instruments name them. `anyone` is a duty on "any
 * organisation or person" (e.g. not removing labels: Deep Synthesis Art. 18, Labeling
 * Measures Art. 10(2)); it binds the provider and the platform as much as users.
 */
export const roles = ['provider', 'platform', 'user', 'app-store', 'processor', 'operator', 'anyone'] as const;
export type Role = (typeof roles)[number];

/**
 * How hard a duty binds: `mandatory` (laws, regulations, rules, normative documents and
 * mandatory standards), `recommended` (GB/T and industry standards, binding only when a
 * contract, a filing review or a regulator adopts them), `soft-law` (guidelines and
 * regulators' practice, e.g. the CAC's registration of apps on filed models).
 */
export const bindingForces = ['mandatory', 'recommended', 'soft-law'] as const;
export type BindingForce = (typeof bindingForces)[number];

/**
 * How a citation (article, paragraph, item, clause) was checked: against the `official-text`,
 * against a `secondary` source (law-firm notes, quotations in public repositories), or not at
 * all (`unverified`). Reports print it beside every duty.
 */
export const citationChecks = ['official-text', 'secondary', 'unverified'] as const;
export type CitationCheck = (typeof citationChecks)[number];

/** The binding force an instrument's place in the hierarchy gives it, unless the file says otherwise. */
export function defaultBinding(hierarchy: Hierarchy): BindingForce {
  if (hierarchy === 'recommended-national-standard' || hierarchy === 'industry-standard') return 'recommended';
  if (hierarchy === 'practice-guideline' || hierarchy === 'draft') return 'soft-law';
  return 'mandatory';
}

/** hegui's capability folders that can implement an obligation, or `none` yet. */
export const controls = ['label', 'safety', 'gateway', 'desk', 'eval', 'corpus', 'audit', 'calendar', 'rules', 'store', 'none'] as const;
export type Control = (typeof controls)[number];
