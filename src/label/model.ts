/**
 * @module label/model
 * The implicit label of GB 45438-2025 (§5.1 and Annex E): a JSON object with seven string
 * fields. Standalone it is wrapped as `{"AIGC":{...}}`; where a container names the value
 * `AIGC` (XMP property, ID3 TXXX description, Vorbis comment...) the value is the inner object.
 *
 * Reading is lenient, because labels in the wild are often incomplete (missing fields,
 * non-standard producer codes); writing is strict: `createLabel` and `validateLabel` check
 * the label value, the provider codes and the value character set.
 */
import { LabelValueError, ProviderCodeError } from './errors.js';
import { parseProviderCode } from './model-provider.js';

/** The seven fields, in the order GB 45438 Annex E lists them (and hegui writes them). */
export const LABEL_FIELDS = [
  'Label',
  'ContentProducer',
  'ProduceID',
  'ReservedCode1',
  'ContentPropagator',
  'PropagateID',
  'ReservedCode2',
] as const;

export type LabelField = (typeof LABEL_FIELDS)[number];

/**
 * The label's value: `1` the content is AI-generated, `2` it may be, `3` it is suspected to be
 * (GB 45438 Annex E; Labeling Measures Art. 6 for the platform's three cases).
 */
export type LabelValue = '1' | '2' | '3';

/** The implicit label. Every field is a string; an absent field reads as `""`. */
export type ImplicitLabel = Record<LabelField, string>;

/** Longest value hegui writes for an identifier field (ProduceID, PropagateID). */
export const MAX_ID_LENGTH = 256;
/** Longest value hegui writes for the security data fields (ReservedCode1/2). */
export const MAX_RESERVED_LENGTH = 1024;

const LABEL_VALUES: readonly string[] = ['1', '2', '3'];

// Values are printable ASCII (GB 45438 Annex E examples; TC260 guide): no control characters,
// nothing a container's text encoding could alter.
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

export interface LabelInit {
  /** Defaults to `1` (AI-generated). */
  label?: LabelValue;
  /** 27-character provider code of the service that generated the content. */
  producer: string;
  /** The producer's identifier for this piece of content. */
  produceId: string;
  /** Defaults to `producer`: on first write the propagation fields may repeat the production ones. */
  propagator?: string;
  /** Defaults to `produceId`. */
  propagateId?: string;
  reservedCode1?: string;
  reservedCode2?: string;
}

/**
 * A validated label from its parts.
 *
 * @throws LabelValueError or ProviderCodeError when a part is invalid.
 * @example
 * const label = createLabel({ producer: '001191350100M000100Y431A001', produceId: 'img-2025-0001' });
 * label.ContentPropagator === label.ContentProducer; // true
 */
export function createLabel(init: LabelInit): ImplicitLabel {
  const label: ImplicitLabel = {
    Label: init.label ?? '1',
    ContentProducer: init.producer,
    ProduceID: init.produceId,
    ReservedCode1: init.reservedCode1 ?? '',
    ContentPropagator: init.propagator ?? init.producer,
    PropagateID: init.propagateId ?? init.produceId,
    ReservedCode2: init.reservedCode2 ?? '',
  };
  validateLabel(label);
  return label;
}

/**
 * Checks a label for writing: label value, provider codes, identifiers and the character set.
 *
 * @throws LabelValueError or ProviderCodeError for the first problem found.
 */
export function validateLabel(label: ImplicitLabel): void {
  if (!LABEL_VALUES.includes(label.Label)) {
    throw new LabelValueError(`${JSON.stringify(label.Label)} must be "1" (AI-generated), "2" (possibly) or "3" (suspected)`, {
      field: 'Label',
    });
  }
  for (const field of LABEL_FIELDS) {
    if (!PRINTABLE_ASCII.test(label[field])) {
      throw new LabelValueError('values must be printable ASCII (U+0020 to U+007E)', { field });
    }
  }
  for (const field of ['ContentProducer', 'ContentPropagator'] as const) {
    if (field === 'ContentPropagator' && label.ContentPropagator === '') continue;
    const problem = serviceTypeProblem(field, label[field], label.ContentProducer);
    if (problem) throw new ProviderCodeError(label[field], problem);
  }
  checkId(label.ProduceID, 'ProduceID', true);
  checkId(label.PropagateID, 'PropagateID', label.ContentPropagator !== '');
  for (const field of ['ReservedCode1', 'ReservedCode2'] as const) {
    if (label[field].length > MAX_RESERVED_LENGTH) {
      throw new LabelValueError(`longer than ${MAX_RESERVED_LENGTH} characters`, { field });
    }
  }
}

/**
 * Why `code` cannot fill `field`, or undefined when it can (GB 45438 Annex E, TC260 practice
 * guide): ContentProducer names a generation service (service type "1"); ContentPropagator a
 * propagation service ("2"), unless it is `producer` distributing its own content, as
 * `createLabel` fills it on first write.
 *
 * @throws ProviderCodeError when `code` is not a provider code at all.
 */
export function serviceTypeProblem(field: 'ContentProducer' | 'ContentPropagator', code: string, producer: string): string | undefined {
  const { serviceType } = parseProviderCode(code);
  if (field === 'ContentProducer' && serviceType !== '1') return `service type "${serviceType}" names a propagation platform, but ContentProducer must be a generation service (service type "1")`;
  if (field === 'ContentPropagator' && serviceType !== '2' && code !== producer) {
    return `service type "${serviceType}" names a generation service, but ContentPropagator must be a propagation platform (service type "2") unless it is the producer itself`;
  }
  return undefined;
}

/**
 * Checks a platform's propagation fields (Labeling Measures Art. 6) on their own: labels found
 * in files may carry producer fields hegui would not write, and a platform still propagates them.
 * `producer`, the label's ContentProducer, may propagate with its own generation code.
 *
 * @throws LabelValueError or ProviderCodeError.
 */
export function validatePropagation(propagator: string, propagateId: string, producer?: string): void {
  const problem = serviceTypeProblem('ContentPropagator', propagator, producer ?? '');
  if (problem) throw new ProviderCodeError(propagator, problem);
  checkId(propagateId, 'PropagateID', true);
  if (!PRINTABLE_ASCII.test(propagateId)) throw new LabelValueError('values must be printable ASCII (U+0020 to U+007E)', { field: 'PropagateID' });
}

function checkId(value: string, field: LabelField, required: boolean): void {
  if (required && value.trim() === '') throw new LabelValueError('must not be empty', { field });
  if (value.length > MAX_ID_LENGTH) throw new LabelValueError(`longer than ${MAX_ID_LENGTH} characters`, { field });
}

/**
 * The JSON text of a label, fields in Annex E order.
 *
 * @example
 * formatLabel(label);            // '{"Label":"1","ContentProducer":"00...",...}'
 * formatLabel(label, 'wrapped'); // '{"AIGC":{"Label":"1",...}}'
 */
export function formatLabel(label: ImplicitLabel, form: 'inner' | 'wrapped' = 'inner'): string {
  const inner: Record<string, string> = {};
  for (const field of LABEL_FIELDS) inner[field] = label[field];
  return JSON.stringify(form === 'wrapped' ? { AIGC: inner } : inner);
}

/**
 * Parses a label from JSON text in either form (wrapped `{"AIGC":{...}}` or the inner object).
 * Lenient, as labels found in files often are: missing fields read as `""`, numbers are turned
 * into strings, unknown fields are ignored. Use `validateLabel` to hold it to the standard.
 *
 * @throws LabelValueError when the text is not JSON, not an object, or has no label field at all.
 */
export function parseLabel(text: string): ImplicitLabel {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text.trim());
  } catch (error) {
    throw new LabelValueError(`not JSON (${(error as Error).message})`, { cause: error });
  }
  // Readers disagree on which of two equal keys counts (JSON.parse takes the last, cJSON the
  // first), and on whether fields beside the wrapper count: a label another reader could read
  // differently from the one hegui verified is unreadable (docs/labels.md, "The label"; issue 11).
  const repeated = repeatedKey(text);
  if (repeated !== undefined) throw new LabelValueError(`the field ${JSON.stringify(repeated)} appears twice`);
  const outer = parsed;
  const wrapped = isRecord(outer) && isRecord(outer.AIGC);
  if (wrapped && LABEL_FIELDS.some((field) => field in outer)) throw new LabelValueError('label fields appear both inside and beside the AIGC wrapper');
  const inner = wrapped ? outer.AIGC : outer;
  if (!isRecord(inner)) throw new LabelValueError('expected a JSON object such as {"Label":"1",...} or {"AIGC":{...}}');
  if (!LABEL_FIELDS.some((field) => field in inner)) {
    throw new LabelValueError(`the object has none of the fields ${LABEL_FIELDS.join(', ')}`);
  }
  const label = {} as ImplicitLabel;
  for (const field of LABEL_FIELDS) label[field] = fieldText(inner[field], field);
  return label;
}

/** The first key that an object in `json` (already known to be valid JSON) names twice, compared unescaped. */
function repeatedKey(json: string): string | undefined {
  const stack: { keys: Set<string> | undefined; expectKey: boolean }[] = [];
  for (let at = 0; at < json.length; at++) {
    const c = json[at];
    if (c === '"') {
      let end = at + 1;
      while (end < json.length && json[end] !== '"') end += json[end] === '\\' ? 2 : 1;
      const top = stack[stack.length - 1];
      if (top?.keys && top.expectKey) {
        const key = JSON.parse(json.slice(at, end + 1)) as string;
        if (top.keys.has(key)) return key;
        top.keys.add(key);
        top.expectKey = false;
      }
      at = end;
    } else if (c === '{' || c === '[') {
      stack.push({ keys: c === '{' ? new Set() : undefined, expectKey: c === '{' });
    } else if (c === '}' || c === ']') {
      stack.pop();
    } else if (c === ',') {
      const top = stack[stack.length - 1];
      if (top?.keys) top.expectKey = true;
    }
  }
  return undefined;
}

function fieldText(value: unknown, field: LabelField): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new LabelValueError(`expected a string, found ${Array.isArray(value) ? 'an array' : 'an object'}`, { field });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
