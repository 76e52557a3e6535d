/**
 * @module gateway/choice-stream
 * The output guard on a chat or completions stream (AI Measures Art. 14: stop generating and
 * transmitting illegal content). Every text field of every choice runs through its own
 * incremental guard, so a delta carries only text no keyword can still start in; a held
 * fragment waits for the next delta. On a block the stream ends cleanly: the text before the
 * hit, then the configured notice with `finish_reason: "content_filter"` (`blockEnding`, once
 * the caller knows what the block led to). The explicit notice goes out as the first or last
 * delta of each choice (GB 45438 §5.1), after the gateway's own notices (a minor's reminder).
 */
import type { Exchange } from './audit.js';
import type { GuardFinding, StreamGuard } from './guard.js';
import { isObject, type GatewayServices, type Json } from './pipeline.js';

/** Where the text of a chunk's choice lives: `delta.content` for chat, `text` for completions. */
export interface ChunkShape {
  object: string;
  /** The text fields of a choice, e.g. `content` and `reasoning_content`. */
  readonly fields: readonly string[];
  /** The field the explicit notice and the block notice go in. */
  readonly mainField: string;
  read(choice: Json, field: string): string | undefined;
  write(choice: Json, field: string, text: string): void;
  /** A choice carrying only `text` in the main field. */
  textChoice(index: number, text: string, finishReason: string | null): Json;
  /** True when the choice still carries something once its text was emptied. */
  hasOtherContent(choice: Json): boolean;
}

/** Chat completions: text in `choice.delta.content` (and `reasoning_content` from DeepSeek-style servers). */
export const chatShape: ChunkShape = {
  object: 'chat.completion.chunk',
  fields: ['reasoning_content', 'content'],
  mainField: 'content',
  read: (choice, field) => {
    const delta = choice.delta;
    return isObject(delta) && typeof delta[field] === 'string' ? delta[field] : undefined;
  },
  write: (choice, field, text) => {
    if (isObject(choice.delta)) choice.delta[field] = text;
  },
  textChoice: (index, text, finishReason) => ({ index, delta: { role: 'assistant', content: text }, logprobs: null, finish_reason: finishReason }),
  hasOtherContent: (choice) => {
    if (choice.finish_reason != null) return true;
    const delta = choice.delta;
    return isObject(delta) && Object.entries(delta).some(([key, value]) => value != null && value !== '' && key !== 'content' && key !== 'reasoning_content');
  },
};

/** Legacy completions: text in `choice.text`. */
export const completionShape: ChunkShape = {
  object: 'text_completion',
  fields: ['text'],
  mainField: 'text',
  read: (choice, field) => (typeof choice[field] === 'string' ? choice[field] : undefined),
  write: (choice, field, text) => {
    choice[field] = text;
  },
  textChoice: (index, text, finishReason) => ({ index, text, logprobs: null, finish_reason: finishReason }),
  hasOtherContent: (choice) => choice.finish_reason != null,
};

interface ChoiceState {
  guards: Map<string, StreamGuard>;
  noticeSent: boolean;
  finished: boolean;
}

/** What handling one upstream chunk produced. */
export interface GuardedChunk {
  /** Chunks to send, in order (the notice prefix may come before the upstream's chunk). */
  out: Json[];
  /** True when a hit was blocked: the stream must end after `out` and `blockEnding()`. */
  blocked: boolean;
}

/**
 * The guard state of one stream. Feed it each upstream chunk; it returns the chunks to send.
 * `onReleased` sees every piece of model text that goes out (for the label's hash and the
 * audit record).
 *
 * @example
 * const guarded = new GuardedChoices(services, exchange, chatShape, (text) => hash.update(text));
 * const { out, blocked } = guarded.accept(chunk);
 */
export class GuardedChoices {
  readonly #services: GatewayServices;
  readonly #exchange: Exchange;
  readonly #shape: ChunkShape;
  readonly #onReleased: (text: string) => void;
  readonly #choices = new Map<number, ChoiceState>();
  /** id, object, created and model of the stream, copied onto chunks the gateway adds. */
  #envelope: Json | undefined;
  /** The choice a block ended, once one did. */
  #blockedIndex: number | undefined;

  constructor(services: GatewayServices, exchange: Exchange, shape: ChunkShape, onReleased: (text: string) => void) {
    this.#services = services;
    this.#exchange = exchange;
    this.#shape = shape;
    this.#onReleased = onReleased;
  }

  /** A chunk in the stream's envelope (id, object, created, model) with `fields`. */
  chunk(fields: Json): Json {
    this.#envelope ??= { id: `hegui-${this.#exchange.id}`, object: this.#shape.object, created: Math.floor(Date.now() / 1000), model: this.#exchange.model };
    return { ...this.#envelope, ...fields };
  }

  accept(chunk: Json): GuardedChunk {
    this.#envelope ??= { id: chunk.id, object: chunk.object ?? this.#shape.object, created: chunk.created, model: chunk.model };
    const choices = Array.isArray(chunk.choices) ? chunk.choices.filter(isObject) : [];
    if (choices.length === 0) return { out: [chunk], blocked: false };
    const out: Json[] = [];
    const kept: Json[] = [];
    const suffix = this.#services.labeler.streamSuffix;
    for (const choice of choices) {
      const index = typeof choice.index === 'number' ? choice.index : 0;
      const state = this.#state(index);
      if (!state.noticeSent) {
        state.noticeSent = true;
        const prefix = this.#exchange.notices.map((n) => `${n}\n\n`).join('') + this.#services.labeler.streamPrefix;
        if (prefix) out.push(this.chunk({ choices: [this.#shape.textChoice(index, prefix, null)] }));
      }
      for (const field of this.#shape.fields) {
        const text = this.#shape.read(choice, field);
        if (text === undefined) continue;
        const step = this.#guard(state, field).feed(text);
        this.#note(step.findings, step.text);
        this.#shape.write(choice, field, step.text);
        if (step.blocked) return this.#block(out, kept, chunk, choice, index);
      }
      if (choice.finish_reason == null) {
        if (this.#keep(choice)) kept.push(choice);
        continue;
      }
      state.finished = true;
      for (const [field, guard] of state.guards) {
        const last = guard.end();
        this.#note(last.findings, last.text);
        if (last.text !== '') this.#shape.write(choice, field, (this.#shape.read(choice, field) ?? '') + last.text);
        if (last.blocked) return this.#block(out, kept, chunk, choice, index);
      }
      if (!suffix) {
        kept.push(choice);
        continue;
      }
      const reason = choice.finish_reason as string;
      const body = { ...choice, finish_reason: null };
      if (this.#keep(body)) kept.push(body);
      if (kept.length > 0) out.push({ ...chunk, choices: kept.splice(0) });
      out.push(this.chunk({ choices: [this.#shape.textChoice(index, suffix, null)] }));
      out.push(this.chunk({ choices: [this.#shape.textChoice(index, '', reason)] }));
    }
    if (kept.length > 0) out.push({ ...chunk, choices: kept });
    return { out, blocked: false };
  }

  /** The upstream ended: held text of unfinished choices is decided and released. */
  finish(): GuardedChunk {
    const out: Json[] = [];
    for (const [index, state] of this.#choices) {
      if (state.finished) continue;
      state.finished = true;
      for (const [, guard] of state.guards) {
        const step = guard.end();
        this.#note(step.findings, step.text);
        if (step.blocked) return this.#block(out, [], undefined, undefined, index, step.text);
        if (step.text !== '') out.push(this.chunk({ choices: [this.#shape.textChoice(index, step.text, null)] }));
      }
      const suffix = this.#services.labeler.streamSuffix;
      if (suffix) out.push(this.chunk({ choices: [this.#shape.textChoice(index, suffix, null)] }));
    }
    return { out, blocked: false };
  }

  #state(index: number): ChoiceState {
    let state = this.#choices.get(index);
    if (!state) {
      state = { guards: new Map(), noticeSent: false, finished: false };
      this.#choices.set(index, state);
    }
    return state;
  }

  #guard(state: ChoiceState, field: string): StreamGuard {
    let guard = state.guards.get(field);
    if (!guard) {
      guard = this.#services.guard.stream('output', this.#exchange.caller as NonNullable<Exchange['caller']>);
      state.guards.set(field, guard);
    }
    return guard;
  }

  #note(findings: readonly GuardFinding[], released: string): void {
    if (findings.length > 0) this.#exchange.outputFindings.push(...findings);
    if (released !== '') {
      this.#exchange.noteOutput(released);
      this.#onReleased(released);
    }
  }

  #keep(choice: Json): boolean {
    return this.#shape.fields.some((f) => (this.#shape.read(choice, f) ?? '') !== '') || this.#shape.hasOtherContent(choice);
  }

  /** The last chunk of a blocked stream: `notice` with `finish_reason: "content_filter"`. */
  blockEnding(notice: string): Json {
    return this.chunk({ choices: [this.#shape.textChoice(this.#blockedIndex ?? 0, notice, 'content_filter')] });
  }

  /** Stops the stream at a blocked hit: what was kept so far, then the choice's text before the hit. */
  #block(out: Json[], kept: Json[], chunk: Json | undefined, choice: Json | undefined, index: number, tail = ''): GuardedChunk {
    this.#exchange.actions.push('output-blocked');
    this.#blockedIndex = index;
    const body = choice && { ...choice, finish_reason: null };
    if (body && this.#keep(body)) kept.push(body);
    if (chunk && kept.length > 0) out.push({ ...chunk, choices: kept });
    if (tail !== '') out.push(this.chunk({ choices: [this.#shape.textChoice(index, tail, null)] }));
    return { out, blocked: true };
  }
}
