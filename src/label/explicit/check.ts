/**
 * @module label/explicit/check
 * `checkExplicitLabel`: measures a file's explicit notice against GB 45438 §5 and reports
 * pass/fail per rule with the figures measured. The format is detected from content and the
 * file handed to the first registered media checker that takes it (see `check-types.ts`);
 * text, image, audio and video checkers are built in, and callers pass others (or
 * replacements) in `checkers`, so the library keeps no global registry.
 */
import { open } from 'node:fs/promises';
import { NotFoundError } from '../../errors.js';
import { openInput, type LabelInput, type SourceOptions } from '../api-io.js';
import { handleSource } from '../files.js';
import { ExplicitFormatError, FORMAT_HEAD_BYTES, requireExplicitFormat } from './check-format.js';
import { audioChecker } from './audio-check.js';
import { documentChecker } from './check-document.js';
import { imageChecker } from './check-image.js';
import { textChecker } from './check-text.js';
import type { CheckOptions, CheckSubject, ExplicitCheckReport, MediaChecker } from './check-types.js';
import { videoChecker } from './video-check.js';

/** The checkers that ship with hegui: text (§5.1), image (§5.2), documents, video (§5.4) before audio (§5.3). */
export const builtinCheckers: readonly MediaChecker[] = Object.freeze([textChecker, imageChecker, documentChecker, videoChecker, audioChecker]);

export interface ExplicitCheckOptions extends CheckOptions, SourceOptions {
  /** Checkers tried before the built-in ones (e.g. the audio and video checkers). */
  checkers?: readonly MediaChecker[];
}

async function dispatch(subject: Omit<CheckSubject, 'format'>, options: ExplicitCheckOptions): Promise<ExplicitCheckReport> {
  const head = await subject.source.read(0, Math.min(FORMAT_HEAD_BYTES, subject.source.size));
  const format = requireExplicitFormat(head, subject.source.size <= FORMAT_HEAD_BYTES, subject.path);
  const full: CheckSubject = { ...subject, format };
  const order = [...(options.checkers ?? []), ...builtinCheckers].filter((checker) => checker.formats.includes(format));
  for (const checker of order.sort((a, b) => Number(b.kind === 'video') - Number(a.kind === 'video'))) {
    if (!checker.accepts || (await checker.accepts(full, options))) return checker.check(full, options);
  }
  throw new ExplicitFormatError(`no explicit-label checker is registered for ${format} content`);
}

/**
 * Checks the explicit notice of bytes or a stream.
 *
 * @throws ExplicitFormatError for content no checker takes; ImageDecodeError for a corrupt image.
 *
 * @example
 * const report = await checkExplicitLabel(png);
 * report.passed; report.rules.map((r) => `${r.rule} ${r.status}: ${r.message}`);
 */
export async function checkExplicitLabel(input: LabelInput, options: ExplicitCheckOptions = {}): Promise<ExplicitCheckReport> {
  const { source, dispose } = await openInput(input, options);
  try {
    return await dispatch({ source }, options);
  } finally {
    await dispose();
  }
}

/** Checks a file's explicit notice; checkers that run system tools read the file by its path. */
export async function checkExplicitLabelFile(path: string, options: ExplicitCheckOptions = {}): Promise<ExplicitCheckReport> {
  const handle = await open(path, 'r').catch((error: NodeJS.ErrnoException) => {
    throw new NotFoundError('E_LABEL_FILE', `cannot open ${path}: ${error.code ?? error.message}`, { cause: error });
  });
  try {
    const { size } = await handle.stat();
    return await dispatch({ source: handleSource(handle, size), path }, options);
  } finally {
    await handle.close();
  }
}
