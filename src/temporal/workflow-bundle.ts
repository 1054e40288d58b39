import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';

/**
 * The workflow code is bundled once, by `npm run build`, into dist/workflow-bundle.js; a compiled worker loads that
 * file instead of running webpack at every start. Run from the TypeScript sources (tsx: `npm start`, tests), there is
 * no prebuilt bundle and the worker bundles `workflows/` itself, so an edit is always picked up.
 */
const WORKFLOWS_PATH = require.resolve('../../workflows');
/** Bundled with the workflows: tracing continues through the workflow to its activities (src/observability/tracing.ts). */
export const WORKFLOW_INTERCEPTOR_MODULES = [require.resolve('../../workflows/tracing-interceptors')];
const runningCompiled = __filename.endsWith('.js');
/** dist/src/temporal/workflow-bundle.js → dist/workflow-bundle.js */
export const PREBUILT_WORKFLOW_BUNDLE_PATH = join(__dirname, '..', '..', 'workflow-bundle.js');

/**
 * What `Worker.create` should load: the prebuilt bundle when compiled, the workflow sources (bundled by the worker,
 * with the interceptor modules) otherwise.
 */
export function workflowCodeSource(): { workflowBundle: { codePath: string } } | { workflowsPath: string; workflowInterceptorModules: string[] } {
  if (runningCompiled && existsSync(PREBUILT_WORKFLOW_BUNDLE_PATH)) return { workflowBundle: { codePath: PREBUILT_WORKFLOW_BUNDLE_PATH } };
  return { workflowsPath: WORKFLOWS_PATH, workflowInterceptorModules: WORKFLOW_INTERCEPTOR_MODULES };
}

export async function writeWorkflowBundle(outputPath: string = PREBUILT_WORKFLOW_BUNDLE_PATH): Promise<{ path: string; bytes: number }> {
  const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, workflowInterceptorModules: WORKFLOW_INTERCEPTOR_MODULES });
  mkdirSync(dirname(outputPath), { recursive: true });
  writeFileSync(outputPath, code);
  return { path: outputPath, bytes: Buffer.byteLength(code) };
}

if (require.main === module) {
  writeWorkflowBundle().then(
    ({ path, bytes }) => process.stdout.write(`workflow bundle written: ${path} (${Math.round(bytes / 1024)} KiB)\n`),
    (error: unknown) => {
      process.stderr.write(`workflow bundle failed: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
