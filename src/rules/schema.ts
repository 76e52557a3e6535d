/**
 * @module rules/schema
 * The shape of the regulatory knowledge base. Every instrument file in `data/` is parsed
 * against these schemas at load time and in the tests, so a typo in a date or a missing
 * translation fails loudly instead of silently dropping a duty.
 */
import { z } from 'zod';

const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date as YYYY-MM-DD');

/** Text we wrote ourselves, in both languages the project speaks. */
export const bilingual = z.strictObject({ zh: z.string().min(1), en: z.string().min(1) });
export type Bilingual = z.infer<typeof bilingual>;

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

/**
 * A condition over the service profile. Paths are dotted (`service.audience`).
 * Omitted means "always".
 */
export type Condition =
  | { all: Condition[] }
  | { any: Condition[] }
  | { not: Condition }
  | { field: string; is: string | number | boolean }
  | { field: string; in: (string | number | boolean)[] }
  | { field: string; includes: string }
  | { field: string; includesAny: string[] }
  | { field: string; nonEmpty: boolean }
  | { field: string; gte: number };

export const condition: z.ZodType<Condition> = z.lazy(() =>
  z.union([
    z.strictObject({ all: z.array(condition).min(1) }),
    z.strictObject({ any: z.array(condition).min(1) }),
    z.strictObject({ not: condition }),
    z.strictObject({ field: z.string(), is: z.union([z.string(), z.number(), z.boolean()]) }),
    z.strictObject({ field: z.string(), in: z.array(z.union([z.string(), z.number(), z.boolean()])).min(1) }),
    z.strictObject({ field: z.string(), includes: z.string() }),
    z.strictObject({ field: z.string(), includesAny: z.array(z.string()).min(1) }),
    z.strictObject({ field: z.string(), nonEmpty: z.boolean() }),
    z.strictObject({ field: z.string(), gte: z.number() }),
  ]),
);

/** Units for the deadline or figure an obligation sets. */
export const figureUnits = ['working-days', 'days', 'months', 'years', 'hours', 'percent', 'count', 'items', 'pixels-ratio', 'seconds'] as const;

/** A deadline or a number the rule sets, e.g. "within 10 working days", "at least 6 months", "over 5%". */
export const figure = z.strictObject({
  /** How the value binds: a time limit, a floor, a ceiling. */
  kind: z.enum(['within', 'at-least', 'at-most', 'exactly']),
  value: z.number().nonnegative(),
  unit: z.enum(figureUnits),
  /** What the figure measures, when the summary alone leaves it unclear. */
  of: bilingual.optional(),
});
export type Figure = z.infer<typeof figure>;

/** One version of an instrument's text (the original and each amendment). */
export const version = z.strictObject({
  id: z.string().regex(/^[a-z0-9-]+$/),
  promulgated: isoDate,
  effective: isoDate,
  note: bilingual,
});

export const source = z.strictObject({
  /** Official document number, e.g. 国家互联网信息办公室令第15号. */
  docNumber: z.string().optional(),
  url: z.url().optional(),
  /** How we checked the facts in this file (which text, which articles). */
  checked: z.string().min(1),
  /** How the citations in this file were checked; an obligation may say otherwise for itself. */
  citations: z.enum(citationChecks),
});

export const obligation = z.strictObject({
  /** Stable id: `<instrument>.<short-name>`; never reused for another duty. */
  id: z.string().regex(/^[a-z0-9-]+(\.[a-z0-9-]+)+$/, 'ids look like instrument.short-name'),
  /** A `duty` to meet, or a `penalty` the instrument sets for breaches (listed apart, never assessed). */
  kind: z.enum(['duty', 'penalty']).default('duty'),
  article: z.number().int().positive(),
  paragraph: z.number().int().positive().optional(),
  item: z.number().int().positive().optional(),
  /** For standards: the full clause, e.g. "5.2"; `article` then holds its top-level number. */
  clause: z.string().regex(/^[A-Z]?\d+(\.\d+)*$/).optional(),
  summary: bilingual,
  role: z.enum(roles),
  when: condition.optional(),
  figure: figure.optional(),
  evidence: bilingual,
  control: z.enum(controls),
  /** Versions of the instrument whose text carries this duty; omitted means every version. */
  versions: z.array(z.string()).min(1).optional(),
  /** A duty that starts later than the instrument itself (phased entry into force). */
  effective: isoDate.optional(),
  /** This duty's own binding force, when it differs from the instrument's (e.g. regulators' practice). */
  binding: z.enum(bindingForces).optional(),
  /** How this citation was checked, when it differs from `source.citations`. */
  citation: z.enum(citationChecks).optional(),
  /** Ids of duties that are alternative ways to meet the same need (meeting one is enough). */
  alternatives: z.array(z.string()).min(1).optional(),
});
export type Obligation = z.infer<typeof obligation>;

export const instrument = z
  .strictObject({
    id: z.string().regex(/^[a-z0-9-]+$/),
    name: bilingual,
    /** Short form used in tables, e.g. "AI Measures". */
    short: bilingual,
    issuers: z.array(bilingual).min(1),
    hierarchy: z.enum(hierarchies),
    /** Binding force, when it is not the one the hierarchy gives (see {@link defaultBinding}). */
    binding: z.enum(bindingForces).optional(),
    /** Dates of the original text. For a draft, `promulgated` is when it was published for comment. */
    promulgated: isoDate,
    effective: isoDate.optional(),
    /** Later versions (amendments); the text in force on a date is the latest one in effect. */
    amendments: z.array(version).default([]),
    /** When the instrument stopped applying, and what replaced it. */
    superseded: z.strictObject({ on: isoDate, by: z.string() }).optional(),
    repealed: isoDate.optional(),
    /** A draft never produces obligations; `draft: true` on any hierarchy marks a text not yet final. */
    draft: z.boolean().default(false),
    /** When a draft of a now-final text was published for comment: between then and `promulgated` it counts as a draft. */
    draftPublished: isoDate.optional(),
    /** Who and what the instrument covers; when a profile falls outside, every obligation is excluded with `reason`. */
    scope: z
      .strictObject({
        when: condition,
        reason: bilingual,
        /** The article that sets the scope, cited in the exclusion. */
        article: z.number().int().positive(),
      })
      .optional(),
    source: source,
    obligations: z.array(obligation),
  })
  .superRefine((doc, ctx) => {
    if (!doc.draft && doc.effective === undefined) {
      ctx.addIssue({ code: 'custom', path: ['effective'], message: 'a final instrument needs an effective date' });
    }
    const versionIds = new Set(['original', ...doc.amendments.map((a) => a.id)]);
    doc.obligations.forEach((o, i) => {
      if (!o.id.startsWith(`${doc.id}.`)) {
        ctx.addIssue({ code: 'custom', path: ['obligations', i, 'id'], message: `obligation ids start with "${doc.id}."` });
      }
      for (const v of o.versions ?? []) {
        if (!versionIds.has(v)) {
          ctx.addIssue({ code: 'custom', path: ['obligations', i, 'versions'], message: `unknown version "${v}" (known: ${[...versionIds].join(', ')})` });
        }
      }
    });
  });
export type Instrument = z.infer<typeof instrument>;
export type InstrumentInput = z.input<typeof instrument>;
