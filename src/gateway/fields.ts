/**
 * @module gateway/fields
 * The field allow-list of the text endpoints (AI Measures Art. 14; Deep Synthesis Provisions
 * Art. 10: inputs and outputs are reviewed, so no text may go round the guard). On the way in,
 * every string of the conversation is a text slot the input guard reads, except fields known to
 * carry no prose (ids, roles, names, URLs, encoded files); tool and schema descriptions are
 * slots too, and a token-id prompt, which the guard cannot read, is refused. On the way out,
 * answers keep only the fields listed here, each text field of which the output guard reads;
 * logprobs are dropped (they repeat the unguarded tokens); anything else is dropped unless the
 * operator set `safety.unknownFields: pass`. `docs/gateway.md` lists the policy.
 */
import { GatewayRequestError } from './errors.js';
import { isObject, type Json, type TextSlot } from './pipeline.js';

/** What happens to a field of an answer the gateway does not know. */
export type UnknownFields = 'drop' | 'pass';

/**
 * Keys of request objects whose strings are not prose: identifiers, enumerations, links and
 * encoded files. Every other string in a message or input item is checked.
 */
const OPAQUE_KEYS = new Set(['role', 'type', 'id', 'call_id', 'tool_call_id', 'name', 'status', 'url', 'image_url', 'detail', 'file_id', 'file_data', 'filename', 'data', 'format', 'encrypted_content', 'mime_type', 'media_type']);

/** Collects every prose string under `holder[key]`, in document order. */
function collectProse(holder: Json | unknown[], key: string | number, slots: TextSlot[]): void {
  const value = (holder as Record<string | number, unknown>)[key];
  if (typeof value === 'string') {
    if (value !== '') slots.push({ text: value, set: (text) => ((holder as Record<string | number, unknown>)[key] = text) });
  } else if (Array.isArray(value)) value.forEach((_, i) => collectProse(value, i, slots));
  else if (isObject(value)) for (const inner of Object.keys(value)) if (!OPAQUE_KEYS.has(inner)) collectProse(value, inner, slots);
}

/** The prose of one message or input item: content, earlier tool-call arguments, refusals, summaries. */
export function itemSlots(item: Json): TextSlot[] {
  const slots: TextSlot[] = [];
  for (const key of Object.keys(item)) if (!OPAQUE_KEYS.has(key)) collectProse(item, key, slots);
  return slots;
}

/** Descriptions and titles anywhere in a JSON schema or tool definition (the model reads them as instructions). */
export function descriptionSlots(value: unknown, slots: TextSlot[] = []): TextSlot[] {
  if (Array.isArray(value)) value.forEach((v) => descriptionSlots(v, slots));
  else if (isObject(value)) {
    for (const [key, inner] of Object.entries(value)) {
      if ((key === 'description' || key === 'title') && typeof inner === 'string') {
        if (inner !== '') slots.push({ text: inner, set: (text) => (value[key] = text) });
      } else descriptionSlots(inner, slots);
    }
  }
  return slots;
}

/** Legacy completions: the prompt (a string or a list of strings) and the suffix; token ids are refused. */
export function promptSlots(body: Json): TextSlot[] {
  const prompt = body.prompt;
  const slots: TextSlot[] = [];
  if (typeof prompt === 'string') slots.push({ text: prompt, set: (text) => (body.prompt = text) });
  else if (Array.isArray(prompt) && prompt.every((item) => typeof item === 'string')) prompt.forEach((item: string, i) => slots.push({ text: item, set: (text) => (prompt[i] = text) }));
  else if (Array.isArray(prompt) && prompt.some((item) => typeof item === 'number' || Array.isArray(item))) {
    // AI Measures Art. 14: input the guard cannot read does not reach the model.
    throw new GatewayRequestError('"prompt" as token ids cannot be checked by the content guard: send the prompt as text (a string or a list of strings)', 'prompt');
  } else throw new GatewayRequestError('"prompt" must be a string or a list of strings', 'prompt');
  if (typeof body.suffix === 'string' && body.suffix !== '') slots.push({ text: body.suffix, set: (text) => (body.suffix = text) });
  else if (body.suffix != null && typeof body.suffix !== 'string') throw new GatewayRequestError('"suffix" must be a string', 'suffix');
  return slots;
}

/** True when the client asked for JSON (`json_object` or `json_schema`): the content must parse, so no notice goes in it. */
export function wantsJson(format: unknown): boolean {
  return isObject(format) && (format.type === 'json_object' || format.type === 'json_schema');
}

/** Keeps the listed keys of `value` (all of them with `pass`). */
function pick(value: Json, keys: ReadonlySet<string>, unknown: UnknownFields): Json {
  if (unknown === 'pass') return value;
  for (const key of Object.keys(value)) if (!keys.has(key)) delete value[key];
  return value;
}

/** Usage counts: numbers, and objects of numbers; nothing else can carry text. */
function counts(value: unknown): unknown {
  if (typeof value === 'number' || value === null) return value;
  if (!isObject(value)) return undefined;
  const out: Json = {};
  for (const [key, inner] of Object.entries(value)) {
    const kept = counts(inner);
    if (kept !== undefined) out[key] = kept;
  }
  return out;
}

const keys = (...names: string[]): ReadonlySet<string> => new Set(names);

const CHAT_TOP = keys('id', 'object', 'created', 'model', 'system_fingerprint', 'service_tier', 'usage', 'choices');
const CHAT_CHOICE = keys('index', 'message', 'delta', 'logprobs', 'finish_reason');
const CHAT_MESSAGE = keys('role', 'content', 'reasoning_content', 'refusal', 'tool_calls', 'function_call');
const TOOL_CALL = keys('index', 'id', 'type', 'function', 'custom');
const FUNCTION = keys('name', 'arguments');
const CUSTOM = keys('name', 'input');
const COMPLETION_CHOICE = keys('index', 'text', 'logprobs', 'finish_reason');
const TEXT_FIELDS = ['content', 'reasoning_content', 'refusal'] as const;

/**
 * A text field as a string (or null/absent), so the guard can read it: some servers send
 * content as a list of parts, or arguments as an object; left so, they would pass unread.
 */
function asText(value: unknown): unknown {
  if (value === undefined || value === null || typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map((part) => (typeof part === 'string' ? part : isObject(part) && typeof part.text === 'string' ? part.text : '')).join('');
  return JSON.stringify(value);
}

function toolCalls(value: unknown, unknown: UnknownFields): void {
  if (!Array.isArray(value)) return;
  for (const call of value.filter(isObject)) {
    pick(call, TOOL_CALL, unknown);
    if (isObject(call.function)) {
      pick(call.function, FUNCTION, unknown);
      if ('arguments' in call.function) call.function.arguments = asText(call.function.arguments);
    }
    if (isObject(call.custom)) {
      pick(call.custom, CUSTOM, unknown);
      if ('input' in call.custom) call.custom.input = asText(call.custom.input);
    }
  }
}

/**
 * A chat answer (`message`) or stream chunk (`delta`) cut down to the fields the guard reads;
 * logprobs dropped. The other form's field is dropped in any mode: the guard reads only one.
 */
export function allowChat(answer: Json, unknown: UnknownFields, form: 'message' | 'delta' = 'message'): Json {
  pick(answer, CHAT_TOP, unknown);
  if (answer.usage !== undefined) answer.usage = counts(answer.usage) ?? null;
  for (const choice of Array.isArray(answer.choices) ? answer.choices.filter(isObject) : []) {
    pick(choice, CHAT_CHOICE, unknown);
    delete choice[form === 'message' ? 'delta' : 'message'];
    // The token list repeats the text unguarded (blocked words, unmasked numbers): dropped.
    if ('logprobs' in choice) choice.logprobs = null;
    const message = isObject(choice.message) ? choice.message : isObject(choice.delta) ? choice.delta : undefined;
    if (!message) continue;
    // Annotations point into the text by offset, which the notice and redaction move: dropped.
    delete message.annotations;
    pick(message, CHAT_MESSAGE, unknown);
    // Only fields the message has: a delta without one keeps its shape (no key set to undefined).
    for (const field of TEXT_FIELDS) if (message[field] !== undefined) message[field] = asText(message[field]);
    toolCalls(message.tool_calls, unknown);
    if (isObject(message.function_call)) {
      pick(message.function_call, FUNCTION, unknown);
      if ('arguments' in message.function_call) message.function_call.arguments = asText(message.function_call.arguments);
    }
  }
  return answer;
}

/** A legacy completions answer or chunk cut down likewise. */
export function allowCompletion(answer: Json, unknown: UnknownFields): Json {
  pick(answer, CHAT_TOP, unknown);
  if (answer.usage !== undefined) answer.usage = counts(answer.usage) ?? null;
  for (const choice of Array.isArray(answer.choices) ? answer.choices.filter(isObject) : []) {
    pick(choice, COMPLETION_CHOICE, unknown);
    if ('logprobs' in choice) choice.logprobs = null;
    choice.text = asText(choice.text);
  }
  return answer;
}

/**
 * A chat choice's texts: what the output guard reads, keyed so a stream keeps one guard per
 * text (each tool call's arguments apart).
 */
export interface ChoiceText {
  key: string;
  text: string;
  write(text: string): void;
}

/** The text fields of a chat message or delta, in the order the model writes them. */
export function chatTexts(message: Json): ChoiceText[] {
  const texts: ChoiceText[] = [];
  for (const field of ['reasoning_content', 'content', 'refusal']) {
    const text = message[field];
    if (typeof text === 'string') texts.push({ key: field, text, write: (t) => (message[field] = t) });
  }
  if (Array.isArray(message.tool_calls)) {
    message.tool_calls.forEach((call: unknown, position: number) => {
      if (!isObject(call)) return;
      const key = `tool_calls.${typeof call.index === 'number' ? call.index : position}`;
      const fn = isObject(call.function) ? call.function : undefined;
      if (fn && typeof fn.arguments === 'string') texts.push({ key, text: fn.arguments, write: (t) => (fn.arguments = t) });
      const custom = isObject(call.custom) ? call.custom : undefined;
      if (custom && typeof custom.input === 'string') texts.push({ key, text: custom.input, write: (t) => (custom.input = t) });
    });
  }
  const legacy = isObject(message.function_call) ? message.function_call : undefined;
  if (legacy && typeof legacy.arguments === 'string') texts.push({ key: 'function_call', text: legacy.arguments, write: (t) => (legacy.arguments = t) });
  return texts;
}

/** A delta carrying `text` in the field `key` names (for text a stream guard held back). */
export function chatPiece(key: string, text: string): Json {
  if (key.startsWith('tool_calls.')) return { tool_calls: [{ index: Number(key.slice('tool_calls.'.length)), function: { arguments: text } }] };
  if (key === 'function_call') return { function_call: { arguments: text } };
  return { [key]: text };
}

const RESPONSE_TOP = keys(
  'id', 'object', 'created_at', 'status', 'background', 'error', 'incomplete_details', 'instructions', 'max_output_tokens', 'max_tool_calls', 'model', 'output', 'parallel_tool_calls',
  'previous_response_id', 'conversation', 'prompt_cache_key', 'reasoning', 'safety_identifier', 'service_tier', 'store', 'temperature', 'text', 'tool_choice', 'tools', 'top_logprobs', 'top_p',
  'truncation', 'usage', 'user', 'metadata',
);
const RESPONSE_ITEMS: Record<string, ReadonlySet<string>> = {
  message: keys('id', 'type', 'status', 'role', 'content'),
  function_call: keys('id', 'type', 'status', 'call_id', 'name', 'arguments'),
  custom_tool_call: keys('id', 'type', 'status', 'call_id', 'name', 'input'),
  reasoning: keys('id', 'type', 'status', 'summary', 'content', 'encrypted_content'),
};
const RESPONSE_PARTS: Record<string, ReadonlySet<string>> = {
  output_text: keys('type', 'text', 'annotations', 'logprobs'),
  refusal: keys('type', 'refusal'),
  summary_text: keys('type', 'text'),
  reasoning_text: keys('type', 'text'),
};

/** True when the gateway knows a Responses output item type (and so guards its texts). */
export function knownResponseItem(item: Json): boolean {
  return typeof item.type === 'string' && item.type in RESPONSE_ITEMS;
}

/** One Responses output item cut down: unknown parts dropped, annotations and logprobs emptied. */
export function allowResponseItem(item: Json, unknown: UnknownFields): Json {
  const known = RESPONSE_ITEMS[String(item.type)];
  if (!known) return item;
  pick(item, known, unknown);
  for (const text of ['arguments', 'input']) if (text in item) item[text] = asText(item[text]);
  for (const field of ['content', 'summary']) {
    const parts = item[field];
    if (!Array.isArray(parts)) continue;
    item[field] = parts.filter((part): part is Json => isObject(part) && (unknown === 'pass' || String(part.type) in RESPONSE_PARTS));
    for (const part of item[field] as Json[]) {
      const allowed = RESPONSE_PARTS[String(part.type)];
      if (allowed) pick(part, allowed, unknown);
      for (const text of ['text', 'refusal']) if (text in part) part[text] = asText(part[text]);
      if (part.type === 'output_text') {
        part.annotations = [];
        if ('logprobs' in part) part.logprobs = [];
      }
    }
  }
  return item;
}

/** A Responses object cut down: unknown output items dropped (kept with `pass`, unguarded). */
export function allowResponse(response: Json, unknown: UnknownFields): Json {
  pick(response, RESPONSE_TOP, unknown);
  if (response.usage !== undefined) response.usage = counts(response.usage) ?? null;
  if (Array.isArray(response.output)) {
    response.output = response.output.filter((item): item is Json => isObject(item) && (unknown === 'pass' || knownResponseItem(item)));
    for (const item of response.output as Json[]) allowResponseItem(item, unknown);
  }
  return response;
}

/** Where a Responses text lives, for the guard: `kind` names the stream events that carry it. */
export interface ResponseText {
  kind: 'output_text' | 'refusal' | 'arguments' | 'summary' | 'reasoning';
  /** The content or summary index (0 for arguments). */
  index: number;
  text: string;
  write(text: string): void;
}

/** Every text of a Responses output item. */
export function responseItemTexts(item: Json): ResponseText[] {
  const texts: ResponseText[] = [];
  const add = (kind: ResponseText['kind'], index: number, holder: Json, field: string): void => {
    const text = holder[field];
    if (typeof text === 'string') texts.push({ kind, index, text, write: (t) => (holder[field] = t) });
  };
  if (item.type === 'function_call') add('arguments', 0, item, 'arguments');
  if (item.type === 'custom_tool_call') add('arguments', 0, item, 'input');
  const parts = (field: string): Json[] => (Array.isArray(item[field]) ? (item[field] as unknown[]).filter(isObject) : []);
  if (item.type === 'message') {
    parts('content').forEach((part, i) => {
      if (part.type === 'output_text') add('output_text', i, part, 'text');
      if (part.type === 'refusal') add('refusal', i, part, 'refusal');
    });
  }
  if (item.type === 'reasoning') {
    parts('summary').forEach((part, i) => add('summary', i, part, 'text'));
    parts('content').forEach((part, i) => add('reasoning', i, part, 'text'));
  }
  return texts;
}
