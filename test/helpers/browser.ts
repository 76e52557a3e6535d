/**
 * Real browsers for the dashboard tests: Debian's chromium driven by playwright-core. When
 * chromium is absent the suites say so loudly and skip; CI installs it, so nothing skips there.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { systemTool } from './system.js';

export const CHROMIUM = process.env.HEGUI_CHROMIUM ?? '/usr/bin/chromium';

export function chromiumAvailable(): boolean {
  return systemTool(CHROMIUM, 'chromium');
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Builds the dashboard into a fresh folder, so tests never depend on a stale web/dist. */
export async function buildDashboard(): Promise<string> {
  const { build } = await import('vite');
  const outDir = mkdtempSync(join(tmpdir(), 'hegui-web-'));
  await build({ configFile: join(import.meta.dirname, '../../web/vite.config.ts'), logLevel: 'warn', build: { outDir, emptyOutDir: true } });
  return outDir;
}
