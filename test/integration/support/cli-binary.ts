import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
/** The `upgrades` bin, as an operator runs it. */
export const CLI_BIN = join(__dirname, '..', '..', '..', 'src', 'cli', 'bin.cjs');

/** Runs the CLI binary with `env`, answering its exit code and output whatever the code. */
export function cliBinary(env: NodeJS.ProcessEnv, timeoutMs = 90_000) {
  return async (args: string[]): Promise<{ code: number; stdout: string; stderr: string }> => {
    try {
      const { stdout, stderr } = await run(process.execPath, [CLI_BIN, ...args], { env, timeout: timeoutMs });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const failed = error as { code?: number; stdout?: string; stderr?: string };
      return { code: failed.code ?? -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
    }
  };
}
