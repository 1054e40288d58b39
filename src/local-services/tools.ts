import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The project folder, and where `npm run setup` (scripts/setup-tools.mjs) installs service binaries. */
export const projectRoot = resolve(__dirname, '..', '..');
const toolsBinDir = process.env.NCE_TOOLS_DIR ? join(process.env.NCE_TOOLS_DIR, 'bin') : join(projectRoot, '.tools', 'bin');
/** `npm start`'s kept state and every service's log; `NCE_DATA_DIR` moves it (the test of `npm start` uses its own). */
export const dataRootDir = process.env.NCE_DATA_DIR ?? join(projectRoot, '.data');

/** `temporal-test-server`: the time-skipping test server of the fast workflow tests (test/workflow/). */
export function installedTool(name: 'temporal' | 'ferretdb' | 'temporal-test-server'): string | undefined {
  const path = join(toolsBinDir, name);
  return existsSync(path) ? path : undefined;
}
