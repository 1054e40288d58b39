import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { generateOpenApiDocument } from './openapi-document';

/**
 * `npm run lint:openapi`: writes the document the API serves at `/openapi.json` to a temporary file and lints it with
 * Redocly CLI's `recommended` rules (redocly.yaml). Fails on any error or warning (Redocly itself fails on errors only). Offline: telemetry and the update
 * check are off.
 */
interface LintReport {
  version: string;
  totals: { errors: number; warnings: number };
  problems: Array<{ ruleId: string; severity: string; message: string; location: Array<{ pointer: string }> }>;
}

async function main(): Promise<number> {
  const root = resolve(__dirname, '..');
  const directory = mkdtempSync(join(tmpdir(), 'openapi-lint-'));
  try {
    const file = join(directory, 'openapi.json');
    writeFileSync(file, `${JSON.stringify(await generateOpenApiDocument(), null, 2)}\n`);
    const lint = spawnSync(
      join(root, 'node_modules', '.bin', 'redocly'),
      ['lint', '--config', join(root, 'redocly.yaml'), '--max-problems', '1000', '--format', 'json', file],
      { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' } },
    );
    if (lint.error) throw lint.error;
    const report = JSON.parse(lint.stdout) as LintReport;
    for (const problem of report.problems) {
      console.log(`${problem.severity}\t${problem.ruleId}\t${problem.location[0]?.pointer ?? ''}\t${problem.message}`);
    }
    const { errors, warnings } = report.totals;
    console.log(`OpenAPI lint (Redocly ${report.version}, recommended): ${errors} error(s), ${warnings} warning(s)`);
    // Redocly exits 0 on warnings; this project allows none.
    return lint.status !== 0 || errors + warnings > 0 ? 1 : 0;
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);
