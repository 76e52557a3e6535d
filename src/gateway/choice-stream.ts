/**
 * @module gateway/choice-stream
 * The output guard on a chat or completions stream (AI Measures Art. 14: stop generating and
 * transmitting illegal content). Every text of every choice (content, reasoning, refusal, each
 * tool call's arguments) runs through its own incremental guard, so a delta carries only text
 * no keyword can still start in; a held fragment goes out in a later delta of the same field.
 * On a block the stream ends cleanly: the text before the hit, then the configured notice with
 * `finish_reason: "content_filter"` (`blockEnding`, once the caller knows what the block led
 * to). The explicit notice goes out just before a choice's first text and after its last
 * (GB 45438 §5.1), after the gateway's own notices (a minor's reminder), unless the answer must
 * stay machine-readable (JSON mode) or the choice never writes text (a tool-call turn).
 */
import type { Exchange } from './audit.js';
import { allowChat, allowCompletion, chatPiece, chatTexts, type ChoiceText, type UnknownFields } from './fields.js';
import type { GuardFinding, StreamGuard } from './guard.js';
import type { NoticePlacement, TextDigest } from './labels.js';
import { isObject, type GatewayServices, type Json } from './pipeline.js';

/** Where the texts of a chunk's choice live: `delta.*` for chat, `text` for completions. */
export interface ChunkShape {
  object: string;
  /** The field the explicit notice and the block notice go in, and the label signs. */
  readonly mainField: string;
  /** The chunk cut down to the fields the guard knows (fields.ts). */
  allow(chunk: Json, unknown: UnknownFields): Json;
  /** The texts of a choice, keyed per field (per tool call). */
  texts(choice: Json): ChoiceText[];
  /** A choice carrying `text` in the field `key` names. */
  piece(index: number, key: string, text: string): Json;
  /** A choice carrying only `text` in the main field. */
  textChoice(index: number, text: string, finishReason: string | null): Json;
  /** True when the choice still carries something once its texts were emptied. */
  hasOtherContent(choice: Json): boolean;
}

const TEXT_KEYS = new Set(['content', 'reasoning_content', 'refusal']);

/** Chat completions: texts in `choice.delta` (`reasoning_content` from DeepSeek-style servers). */
export const chatShape: ChunkShape = {
  object: 'chat.completion.chunk',
  mainField: 'content',
  allow: (chunk, unknown) => allowChat(chunk, unknown, 'delta'),
  texts: (choice) => (isObject(choice.delta) ? chatTexts(choice.delta) : []),
  piece: (index, key, text) => ({ index, delta: chatPiece(key, text), logprobs: null, finish_reason: null }),
  textChoice: (index, text, finishReason) => ({ index, delta: { role: 'assistant', content: text }, logprobs: null, finish_reason: finishReason }),
  hasOtherContent: (choice) => {
    if (choice.finish_reason != null) return true;
    const delta = choice.delta;
    return isObject(delta) && Object.entries(delta).some(([key, value]) => value != null && value !== '' && !TEXT_KEYS.has(key));
  },
};

/** Legacy completions: text in `choice.text`. */
export const completionShape: ChunkShape = {
  object: 'text_completion',
  mainField: 'text',
  allow: allowCompletion,
  texts: (choice) => (typeof choice.text === 'string' ? [{ key: 'text', text: choice.text, write: (t) => (choice.text = t) }] : []),
  piece: (index, _key, text) => ({ index, text, logprobs: null, finish_reason: null }),
  textChoice: (index, text, finishReason) => ({ index, text, logprobs: null, finish_reason: finishReason }),
  hasOtherContent: (choice) => choice.finish_reason != null,
};

interface ChoiceState {
  guards: Map<string, StreamGuard>;
  /** The notice prefix went out (or is not due: JSON mode). */
  started: boolean;
  finished: boolean;
  /** Running hash of the main field as the client receives it (undefined without a signing key). */
  hash: TextDigest | undefined;
}

/** What handling one upstream chunk produced. */
export interface GuardedChunk {
  /** Chunks to send, in order (the notice prefix may come before the upstream's chunk). */
  out: Json[];
  /** True when a hit was blocked: the stream must end after `out` and `blockEnding()`. */
  blocked: boolean;
}

/**
 * The usual chat chunk, exactly as `JSON.stringify` writes it: one choice (index 0) whose delta
 * holds only `content`, no finish reason, and an envelope of fields the allow-list keeps (ids
 * and model names without characters JSON escapes, a whole number up to 15 digits). Such a
 * chunk, with its content replaced, serialises to the same text with the new content in place:
 * group 1 is everything before the content's string, 2 the string's inside, 3 the rest.
 */
const PLAIN_CHAT_CHUNK =
  // Control characters are what JSON must escape: a chunk holding one unescaped is not the usual chunk.
  // eslint-disable-next-line no-control-regex
  /^(\{"id":"[^"\\\x00-\x1f\ud800-\udfff]*","object":"chat\.completion\.chunk","created":(?:0|[1-9][0-9]{0,14}),"model":"[^"\\\x00-\x1f\ud800-\udfff]*",(?:"service_tier":"[^"\\\x00-\x1f\ud800-\udfff]*",)?(?:"system_fingerprint":(?:null|"[^"\\\x00-\x1f\ud800-\udfff]*"),)?"choices":\[\{"index":0,"delta":\{"content":)"((?:[^"\\\x00-\x1f]|\\["\\/bfnrtu])*)"(\},"logprobs":null,"finish_reason":null\}\]\})$/;

/**
 * The guard state of one stream. Feed it each upstream chunk; it returns the chunks to send.
 * `hashes()` gives each choice's hash of its main text exactly as sent, for its label.
 *
 * @example
 * const guarded = new GuardedChoices(services, exchange, chatShape, true);
 * const { out, blocked } = guarded.accept(chunk);
 */
export class GuardedChoices {
  readonly #services: GatewayServices;
  readonly #exchange: Exchange;
  readonly #shape: ChunkShape;
  /** False in JSON mode: the notice stays out of the text (it is in the `hegui` object). */
  readonly #noticeInText: boolean;
  readonly #choices = new Map<number, ChoiceState>();
  /** id, object, created and model of the stream, copied onto chunks the gateway adds. */
  #envelope: Json | undefined;
  /** The choice a block ended, once one did. */
  #blockedIndex: number | undefined;
  /** True once a notice went into some choice's text. */
  #noticeWritten = false;
  /** Every text the keyword guard released, all choices and fields, kept only for the guard models. */
  #released = '';
  #releasedLength = 0;
  readonly #keepReleased: boolean;

  constructor(services: GatewayServices, exchange: Exchange, shape: ChunkShape, noticeInText: boolean) {
    this.#services = services;
    this.#exchange = exchange;
    this.#shape = shape;
    this.#noticeInText = noticeInText;
    this.#keepReleased = services.models?.has('output') === true;
  }

  /** How many characters the keyword guard has released so far (notices not counted). */
  get releasedLength(): number {
    return this.#releasedLength;
  }

  /** The last `chars` characters released (what the guard models judge), when they are on. */
  releasedTail(chars: number): string {
    return this.#released.length <= chars ? this.#released : this.#released.slice(-chars);
  }

  /** The guard models blocked the answer: the stream ends with `blockEnding()` on the first choice still open. */
  blockByModel(): void {
    if (!this.#exchange.actions.includes('output-blocked')) this.#exchange.actions.push('output-blocked');
    this.#blockedIndex ??= [...this.#choices.entries()].find(([, state]) => !state.finished)?.[0] ?? 0;
  }

  /** Where the explicit notice went. */
  get placement(): NoticePlacement {
    return this.#noticeWritten ? 'content' : 'metadata';
  }

  /** Each choice's index and text hash, by index (choice 0 at least). */
  hashes(): { index: number; hash: TextDigest | undefined }[] {
    if (this.#choices.size === 0) this.#state(0);
    return [...this.#choices.entries()].sort(([a], [b]) => a - b).map(([index, state]) => ({ index, hash: state.hash }));
  }

  /** A chunk in the stream's envelope (id, object, created, model) with `fields`. */
  chunk(fields: Json): Json {
    this.#envelope ??= { id: `hegui-${this.#exchange.id}`, object: this.#shape.object, created: Math.floor(Date.now() / 1000), model: this.#exchange.model };
    return { ...this.#envelope, ...fields };
  }

  /**
   * An upstream event's data when it is the usual chat chunk (`PLAIN_CHAT_CHUNK`), once the
   * stream's envelope is known: guarded as `accept(JSON.parse(data))` would, and the chunk sent
   * as the same text with the released content in place, without parsing and serialising it
   * again. What is to be sent is appended to `out`: chunks, and the upstream's chunk as its SSE
   * frame (`data: ...\n\n`, a string). Returns whether a hit was blocked; undefined, with
   * nothing appended, for anything else (and a content string JSON cannot read): `accept`
   * decides those.
   */
  acceptData(data: string, out: (Json | string)[]): boolean | undefined {
    if (this.#envelope === undefined || this.#shape !== chatShape) return undefined;
    const match = PLAIN_CHAT_CHUNK.exec(data);
    if (match === null) return undefined;
    const literal = match[2] as string;
    let text = literal;
    if (literal.includes('\\')) {
      try {
        text = JSON.parse(`"${literal}"`) as string;
      } catch {
        return undefined;
      }
    }
    const state = this.#state(0);
    if (text !== '' && !state.started) this.#start(state, 0, out);
    const step = this.#guard(state, 'content').feed(text);
    this.#note(step.findings, step.text);
    state.hash?.update(step.text);
    if (step.blocked) {
      this.#exchange.actions.push('output-blocked');
      this.#blockedIndex = 0;
    }
    // A choice left without text is dropped, as `accept` drops it.
    if (step.text !== '') out.push(`data: ${match[1] as string}${JSON.stringify(step.text)}${match[3] as string}\n\n`);
    return step.blocked;
  }

  accept(upstreamChunk: Json): GuardedChunk {
    const chunk = this.#shape.allow(upstreamChunk, this.#services.config.safety.unknownFields);
    this.#envelope ??= { id: chunk.id, object: chunk.object ?? this.#shape.object, created: chunk.created, model: chunk.model };
    const choices = Array.isArray(chunk.choices) ? chunk.choices.filter(isObject) : [];
    if (choices.length === 0) return { out: [chunk], blocked: false };
    const out: Json[] = [];
    const kept: Json[] = [];
    const flush = (): void => {
      if (kept.length > 0) out.push({ ...chunk, choices: kept.splice(0) });
    };
    for (const choice of choices) {
      const index = typeof choice.index === 'number' ? choice.index : 0;
      const state = this.#state(index);
      for (const text of this.#shape.texts(choice)) {
        if (text.key === this.#shape.mainField && text.text !== '' && !state.started) {
          flush();
          this.#start(state, index, out);
        }
        const step = this.#guard(state, text.key).feed(text.text);
        this.#note(step.findings, step.text);
        text.write(step.text);
        if (text.key === this.#shape.mainField) state.hash?.update(step.text);
        if (step.blocked) return this.#block(out, kept, chunk, choice, index);
      }
      if (choice.finish_reason == null) {
        if (this.#keep(choice)) kept.push(choice);
        continue;
      }
      const reason = choice.finish_reason as string;
      const body = { ...choice, finish_reason: null };
      if (this.#keep(body)) kept.push(body);
      flush();
      if (this.#end(state, index, out)) return this.#block(out, kept, undefined, undefined, index);
      out.push(this.chunk({ choices: [this.#shape.textChoice(index, '', reason)] }));
    }
    flush();
    return { out, blocked: false };
  }

  /** The upstream ended: held text of unfinished choices is decided and released. */
  finish(): GuardedChunk {
    const out: Json[] = [];
    for (const [index, state] of this.#choices) {
      if (!state.finished && this.#end(state, index, out)) return this.#block(out, [], undefined, undefined, index);
    }
    return { out, blocked: false };
  }

  /** The last chunk of a blocked stream: `notice` with `finish_reason: "content_filter"`. */
  blockEnding(notice: string): Json {
    const index = this.#blockedIndex ?? 0;
    this.#state(index).hash?.update(notice);
    return this.chunk({ choices: [this.#shape.textChoice(index, notice, 'content_filter')] });
  }

  /** The notices before a choice's first text: the gateway's own, then the explicit notice. */
  #start(state: ChoiceState, index: number, out: (Json | string)[]): void {
    state.started = true;
    if (!this.#noticeInText) return;
    const prefix = this.#exchange.notices.map((n) => `${n}\n\n`).join('') + this.#services.labeler.streamPrefix;
    this.#noticeWritten ||= this.#services.labeler.noticeText !== '';
    if (prefix) this.#push(out, state, index, this.#shape.mainField, prefix);
  }

  /** A choice's end: every held text decided and sent, then the notice suffix. True on a block. */
  #end(state: ChoiceState, index: number, out: Json[]): boolean {
    state.finished = true;
    for (const [key, guard] of state.guards) {
      const last = guard.end();
      this.#note(last.findings, last.text);
      if (last.text !== '') this.#push(out, state, index, key, last.text);
      if (last.blocked) return true;
    }
    const suffix = this.#services.labeler.streamSuffix;
    // The suffix closes a text answer only: a tool-call turn or JSON mode never got a prefix either.
    if (suffix && this.#noticeInText && state.started) this.#push(out, state, index, this.#shape.mainField, suffix);
    return false;
  }

  #push(out: (Json | string)[], state: ChoiceState, index: number, key: string, text: string): void {
    if (key === this.#shape.mainField) state.hash?.update(text);
    out.push(this.chunk({ choices: [this.#shape.piece(index, key, text)] }));
  }

  #state(index: number): ChoiceState {
    let state = this.#choices.get(index);
    if (!state) {
      state = { guards: new Map(), started: false, finished: false, hash: this.#services.labeler.textHash() };
      this.#choices.set(index, state);
    }
    return state;
  }

  #guard(state: ChoiceState, key: string): StreamGuard {
    let guard = state.guards.get(key);
    if (!guard) {
      guard = this.#services.guard.stream('output', this.#exchange.caller as NonNullable<Exchange['caller']>);
      state.guards.set(key, guard);
    }
    return guard;
  }

  #note(findings: readonly GuardFinding[], released: string): void {
    if (findings.length > 0) this.#exchange.outputFindings.push(...findings);
    if (released === '') return;
    this.#exchange.noteOutput(released);
    if (this.#keepReleased) {
      this.#released += released;
      this.#releasedLength += released.length;
      // Only the tail is ever judged: keep at most twice the window, so a long answer stays bounded.
      const window = this.#services.models?.windowChars ?? 0;
      if (this.#released.length > 2 * window) this.#released = this.#released.slice(-window);
    }
  }

  #keep(choice: Json): boolean {
    return this.#shape.texts(choice).some((t) => t.text !== '') || this.#shape.hasOtherContent(choice);
  }

  /** Stops the stream at a blocked hit: what was kept so far, then the choice's text before the hit. */
  #block(out: Json[], kept: Json[], chunk: Json | undefined, choice: Json | undefined, index: number): GuardedChunk {
    this.#exchange.actions.push('output-blocked');
    this.#blockedIndex = index;
    const body = choice && { ...choice, finish_reason: null };
    if (body && this.#keep(body)) kept.push(body);
    if (chunk && kept.length > 0) out.push({ ...chunk, choices: kept });
    return { out, blocked: true };
  }
}
