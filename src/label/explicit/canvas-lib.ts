/**
 * @module label/explicit/canvas-lib
 * The canvas (@napi-rs/canvas, Skia), loaded when a notice is first laid out or drawn, and
 * without the system fonts. Notices are drawn only in the font `font.ts` registers (never a
 * system font), but the package registers every font under the system's font folders when it
 * loads. Its `DISABLE_SYSTEM_FONTS_LOAD` switch skips that registration; it is set only while
 * the package loads, so child processes (ffmpeg) and the caller's environment are left as they
 * were. The font manager still scans /usr/share/fonts (a path built into the native binary) on
 * the first use of any font, about 0.15 s once per process on a machine with the CJK font
 * packages (issue 14): the switch moves that cost to the first use rather than removing it, and
 * `warmCanvas` lets a thread pay it early.
 */
import { createRequire } from 'node:module';
import type * as CanvasModule from '@napi-rs/canvas';

type Canvas = typeof CanvasModule;

let lib: Canvas | undefined;

/** The canvas package, loaded (without system fonts) at the first call. */
export function canvasLib(): Canvas {
  if (lib) return lib;
  const env = process.env;
  const before = env.DISABLE_SYSTEM_FONTS_LOAD;
  env.DISABLE_SYSTEM_FONTS_LOAD = '1';
  try {
    lib = createRequire(import.meta.url)('@napi-rs/canvas') as Canvas;
  } finally {
    if (before === undefined) delete env.DISABLE_SYSTEM_FONTS_LOAD;
    else env.DISABLE_SYSTEM_FONTS_LOAD = before;
  }
  return lib;
}

/**
 * Builds the canvas's font manager now: the first use of its fonts, in any thread, scans the
 * system font folders (about 0.15 s on a machine with the CJK font packages), once per
 * process, and the threads that come later share the result. An image pool thread calls this
 * as soon as it is up, while the caller is still reading its first files, so the scan does not
 * wait for the first image. Only a head start: an error is left for the first notice to report.
 */
export function warmCanvas(): void {
  try {
    void canvasLib().GlobalFonts.families;
  } catch {
    // The first notice loads the canvas again and reports what fails.
  }
}

/** The canvas package's version (another version may draw other pixels: part of the notice cache's keys), read without loading it; `unknown` when it cannot be read. */
let version: string | undefined;

export function canvasVersion(): string {
  if (version !== undefined) return version;
  try {
    const path = createRequire(import.meta.url).resolve('@napi-rs/canvas/package.json');
    version = String((JSON.parse(process.getBuiltinModule('node:fs').readFileSync(path, 'utf8')) as { version?: unknown }).version);
  } catch {
    version = 'unknown';
  }
  return version;
}
