/**
 * @module rules/profile
 * The service profile: what a provider tells hegui about its service so the engine can
 * decide which duties bind it. Field names are part of the public contract.
 */
import { z } from 'zod';

export const modalities = ['text', 'image', 'audio', 'video', 'virtual-scene'] as const;
export const sectors = ['finance', 'healthcare', 'automotive'] as const;

export const serviceProfile = z.strictObject({
  provider: z.strictObject({
    name: z.string().min(1),
    /** Incorporated in mainland China. A foreign provider serving the mainland public is still covered (AI Measures Art. 20). */
    domestic: z.boolean(),
    /** 18-character unified social credit code (统一社会信用代码). */
    creditCode: z
      .string()
      .regex(/^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$/, 'a unified social credit code has 18 characters')
      .optional(),
  }),
  service: z.strictObject({
    name: z.string().min(1).optional(),
    audience: z.enum(['public', 'enterprise', 'internal', 'research']),
    servesMainlandChina: z.boolean(),
    modalities: z.array(z.enum(modalities)).min(1),
    /** Public-opinion attributes or social-mobilisation capacity (舆论属性或者社会动员能力). */
    publicOpinion: z.boolean(),
    /** Edits or generates biometric features such as faces and voices. */
    biometricEditing: z.array(z.enum(['face', 'voice'])).default([]),
    model: z.enum(['own', 'fine-tuned', 'third-party-filed']),
    /** Minors may use the service. */
    minors: z.boolean(),
    sectors: z.array(z.enum(sectors)).default([]),
    personalInformation: z.strictObject({
      /** How many individuals' personal information the service processes. */
      individuals: z.number().int().nonnegative(),
      sensitive: z.boolean(),
    }),
    crossBorderTransfer: z.boolean(),
    criticalInfrastructure: z.boolean(),
    /** Pushes content by recommendation algorithms. */
    recommendation: z.boolean(),
    /** Users can download or export generated files. */
    offersDownload: z.boolean(),
    /** Also distributes content that others generated (a content propagation platform, Labeling Measures Art. 6). */
    contentPlatform: z.boolean().default(false),
    /** Processes important data (重要数据) as defined by the Data Security Law and sector catalogues. */
    importantData: z.boolean().default(false),
    /** Offers online games (Minors Regulations Arts. 46-47 bind game services only). */
    games: z.boolean().default(false),
    /** Runs an app store that lists AI apps (Labeling Measures Art. 7). */
    appStore: z.boolean().default(false),
    /** Simulates a human personality and holds emotional conversations with users (anthropomorphic interaction). */
    anthropomorphic: z.boolean().default(false),
    /** The date the service went (or goes) live, for filing deadlines counted from launch. */
    launchDate: z.string().regex(/^\d{4}-\d{2}-\d{2}$/).optional(),
  }),
});

export type ServiceProfile = z.infer<typeof serviceProfile>;
export type ServiceProfileInput = z.input<typeof serviceProfile>;
