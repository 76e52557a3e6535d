/**
 * @module label/model-provider
 * The 27-character provider code carried in ContentProducer and ContentPropagator
 * (GB 45438-2025 Annex E; TC260 practice guide on implicit labels): "00", a 2-character subject
 * code ("11": the subject is identified by its unified social credit code), the 18-character
 * identifier, a service type ("1" generation, "2" propagation) and a 4-character model or
 * application code.
 */
import { ProviderCodeError } from './errors.js';

export type ServiceType = '1' | '2';

/** A provider code split into its parts. */
export interface ProviderCode {
  /** The whole code, 27 characters. */
  code: string;
  /** Subject code, e.g. `11` for an organisation with a unified social credit code. */
  subject: string;
  /** The subject's identifier: for subject `11`, the 18-character unified social credit code. */
  identifier: string;
  /** `1` the provider generates content, `2` it propagates content. */
  serviceType: ServiceType;
  /** The provider's 4-character code for the model or application. */
  modelCode: string;
}

export const PROVIDER_CODE_LENGTH = 27;

/** Subject code for an organisation identified by its unified social credit code. */
export const SUBJECT_USCC = '11';

// GB 32100-2015: the 31 characters of a unified social credit code (no I, O, Z, S, V).
const USCC_ALPHABET = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28] as const;

/** The check character (GB 32100-2015 §5) for the first 17 characters of a credit code. */
function usccCheckCharacter(first17: string): string | undefined {
  let sum = 0;
  for (let i = 0; i < 17; i++) {
    const value = USCC_ALPHABET.indexOf(first17[i] ?? '');
    if (value < 0) return undefined;
    sum += value * (USCC_WEIGHTS[i] ?? 0);
  }
  return USCC_ALPHABET[(31 - (sum % 31)) % 31];
}

/**
 * True when `code` is an 18-character unified social credit code with a correct check
 * character (GB 32100-2015).
 *
 * @example
 * isUnifiedSocialCreditCode('91350100M000100Y43'); // true
 */
export function isUnifiedSocialCreditCode(code: string): boolean {
  return code.length === 18 && usccCheckCharacter(code.slice(0, 17)) === code[17];
}

/**
 * Splits and checks a provider code.
 *
 * @throws ProviderCodeError naming the part that is wrong.
 * @example
 * parseProviderCode('0011' + '91350100M000100Y43' + '1' + 'A001').serviceType; // '1'
 */
export function parseProviderCode(code: string): ProviderCode {
  // A batch checks the same one or two codes for every file: valid codes are remembered.
  const known = parsedCodes.get(code);
  if (known) return { ...known };
  const parsed = parseUncached(code);
  if (parsedCodes.size >= 64) parsedCodes.clear();
  parsedCodes.set(code, parsed);
  return { ...parsed };
}

const parsedCodes = new Map<string, ProviderCode>();

function parseUncached(code: string): ProviderCode {
  if (code.length !== PROVIDER_CODE_LENGTH) throw new ProviderCodeError(code, `it has ${code.length} characters`);
  if (!code.startsWith('00')) throw new ProviderCodeError(code, 'it must start with "00"');
  const subject = code.slice(2, 4);
  const identifier = code.slice(4, 22);
  const serviceType = code.slice(22, 23);
  const modelCode = code.slice(23, 27);
  if (!/^[0-9]{2}$/.test(subject)) throw new ProviderCodeError(code, `subject code ${JSON.stringify(subject)} must be two digits`);
  if (subject === SUBJECT_USCC) {
    if (!isUnifiedSocialCreditCode(identifier)) {
      throw new ProviderCodeError(code, `${identifier} is not a valid unified social credit code (GB 32100-2015 check character)`);
    }
  } else if (!/^[0-9A-Z]{18}$/.test(identifier)) {
    throw new ProviderCodeError(code, `identifier ${JSON.stringify(identifier)} must be 18 digits or capital letters`);
  }
  if (serviceType !== '1' && serviceType !== '2') {
    throw new ProviderCodeError(code, `service type ${JSON.stringify(serviceType)} must be "1" (generation) or "2" (propagation)`);
  }
  if (!/^[0-9A-Za-z]{4}$/.test(modelCode)) {
    throw new ProviderCodeError(code, `model/app code ${JSON.stringify(modelCode)} must be 4 letters or digits`);
  }
  return { code, subject, identifier, serviceType, modelCode };
}

/** True when `code` is a well-formed provider code. */
export function isProviderCode(code: string): boolean {
  try {
    parseProviderCode(code);
    return true;
  } catch {
    return false;
  }
}

/**
 * Builds a provider code from its parts, computing nothing: the parts are checked as a whole.
 *
 * @example
 * providerCode({ identifier: '91350100M000100Y43', serviceType: '1', modelCode: 'A001' });
 * // '001191350100M000100Y431A001'
 */
export function providerCode(parts: { subject?: string; identifier: string; serviceType: ServiceType; modelCode: string }): string {
  const code = `00${parts.subject ?? SUBJECT_USCC}${parts.identifier}${parts.serviceType}${parts.modelCode}`;
  parseProviderCode(code);
  return code;
}
