/**
 * @module rules/profile
 * The service profile: what a provider tells hegui about its service so the engine can
 * decide which duties bind it. Field names are part of the public contract.
 *
 * Every fact is optional. A fact the provider has not given (left out, or written as
 * `unknown`) stays unknown: the engine never reads it as "no", and a duty that turns on it
 * applies on the safe side, with the answer that would lift it (see `rules/condition`).
 */
import { z } from 'zod';
import { audiences, modalities, sectors } from './profile-values.js';

export { type Audience, audiences, modalities, sectors } from './profile-values.js';



/** `unknown` written in the file is the same as leaving the field out. */
function maybe<T extends z.ZodType>(schema: T) {
  return z.preprocess((v) => (v === 'unknown' ? undefined : v), schema.optional());
}

const count = z.number().int().nonnegative();

export const serviceProfile = z.strictObject({
  provider: z.strictObject({
    name: z.string().min(1),
    /** Incorporated in mainland China. A foreign provider serving the mainland public is still covered (AI Measures Art. 20). */
    domestic: maybe(z.boolean()),
    /** Foreign capital holds a stake in the provider (AI Measures Art. 23: foreign-investment rules). */
    foreignInvested: maybe(z.boolean()),
    /** 18-character unified social credit code (统一社会信用代码). */
    creditCode: z
      .string()
      .regex(/^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$/, 'a unified social credit code has 18 characters')
      .optional(),
  }),
  service: z.strictObject({
    name: z.string().min(1).optional(),
    audience: maybe(z.enum(audiences)),
    /** People in mainland China use the service (or it is aimed at them: PIPL Art. 3). */
    servesMainlandChina: maybe(z.boolean()),
    modalities: maybe(z.array(z.enum(modalities)).min(1)),
    /**
     * Public-opinion attributes or social-mobilisation capacity (舆论属性或者社会动员能力), as
     * the 2018 security-assessment provisions define it (Art. 2): forums, blogs, microblogs,
     * chat rooms, group messaging, public accounts, short video, live streaming, information
     * sharing, mini-programs, or any other channel for public expression or for mobilising
     * the public to act.
     */
    publicOpinion: maybe(z.boolean()),
    /** Edits or generates biometric features such as faces and voices. */
    biometricEditing: maybe(z.array(z.enum(['face', 'voice']))),
    /** Whose model runs behind the service: the provider's own, one it fine-tuned, or a third party's used as is. */
    model: maybe(z.enum(['own', 'fine-tuned', 'third-party'])),
    /** The model behind the service has completed the CAC generative-AI filing (备案). */
    modelFiled: maybe(z.boolean()),
    /** The model is developed and run by a provider outside mainland China. */
    modelForeign: maybe(z.boolean()),
    /** Minors may use the service. */
    minors: maybe(z.boolean()),
    /** Effective age verification keeps minors out (without it, a public service cannot assume it has none). */
    ageVerification: maybe(z.boolean()),
    /** Generated content may mislead or confuse the public (Deep Synthesis Art. 17(1), which Labeling Measures Art. 4 adopts). */
    mayMislead: maybe(z.boolean()),
    sectors: maybe(z.array(z.enum(sectors))),
    /** Gives investment advice on asset-management products by AI (robo-advice; asset-management opinions Art. 23). */
    roboAdvice: maybe(z.boolean()),
    personalInformation: z
      .strictObject({
        /** How many individuals' personal information the service processes. */
        individuals: maybe(count),
        sensitive: maybe(z.boolean()),
      })
      .optional(),
    /** Identifies people by their faces (the facial recognition security measures). */
    facialRecognition: maybe(z.boolean()),
    crossBorderTransfer: maybe(z.boolean()),
    /** What leaves mainland China, counted from 1 January of the current year (2024 Provisions Arts. 7-8). */
    export: z
      .strictObject({
        /** Individuals whose personal information (not sensitive) is sent abroad this year. */
        individuals: maybe(count),
        /** Individuals whose sensitive personal information is sent abroad this year. */
        sensitiveIndividuals: maybe(count),
        /** Important data is among what is sent abroad. */
        importantData: maybe(z.boolean()),
      })
      .optional(),
    criticalInfrastructure: maybe(z.boolean()),
    /** Pushes content by recommendation algorithms. */
    recommendation: maybe(z.boolean()),
    /** Users can download or export generated files. */
    offersDownload: maybe(z.boolean()),
    /** Also distributes content that others generated (a content propagation platform, Labeling Measures Art. 6). */
    contentPlatform: maybe(z.boolean()),
    /** Processes important data (重要数据) as defined by the Data Security Law and sector catalogues. */
    importantData: maybe(z.boolean()),
    /** Offers online games (Minors Regulations Arts. 46-47 bind game services only). */
    games: maybe(z.boolean()),
    /** Dispatches work to workers, e.g. orders to couriers or drivers (Algorithm Provisions Art. 20). */
    workDispatch: maybe(z.boolean()),
    /** Sells goods or services to consumers (Algorithm Provisions Art. 21: no unreasonable price discrimination). */
    sellsToConsumers: maybe(z.boolean()),
    /** Runs an app store that lists AI apps (Labeling Measures Art. 7). */
    appStore: maybe(z.boolean()),
    /** Simulates a human personality and holds emotional conversations with users (anthropomorphic interaction). */
    anthropomorphic: maybe(z.boolean()),
    /** The date the service went (or goes) live, for filing deadlines counted from launch. */
    launchDate: z.string().regex(/^\d{4}-\d{2}-\d{2}$/).optional(),
  }),
});

export type ServiceProfile = z.infer<typeof serviceProfile>;
export type ServiceProfileInput = z.input<typeof serviceProfile>;
