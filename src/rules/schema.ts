/**
 * @module rules/schema
 * The shape of the regulatory knowledge base. Every instrument file in `data/` is parsed
 * against these schemas at load time and in the tests, so a typo in a date or a missing
 * translation fails loudly instead of silently dropping a duty.
 */
import { z } from 'zod';
import { bindingForces, citationChecks, controls, hierarchies, roles } from './vocabulary.js';

const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date as YYYY-MM-DD');

/** Text we wrote ourselves, in both languages the project speaks. */
export const bilingual = z.strictObject({ zh: z.string().min(1), en: z.string().min(1) });
export type Bilingual = z.infer<typeof bilingual>;

export { bindingForces, citationChecks, controls, defaultBinding, hierarchies, roles } from './vocabulary.js';
export type { BindingForce, CitationCheck, Control, Hierarchy, Role } from './vocabulary.js';

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
