#!/usr/bin/env node
// Validates rendered Kubernetes manifests (a multi-document YAML file, e.g. `helm template` output) against
// Kubernetes' own OpenAPI schemas as packaged by `kubernetes-models` (offline; no cluster needed).
// Usage: node scripts/deploy/validate-kubernetes.mjs <manifests.yaml>
// Prints JSON: { resources: [{ apiVersion, kind, name }], errors: [{ resource, message }] }; exits 1 on any error.
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';

/** apiVersion "apps/v1" → module folder "apps/v1"; the core group "v1" → "v1". */
async function modelFor(apiVersion, kind) {
  try {
    const module = await import(`kubernetes-models/${apiVersion}/${kind}`);
    return module[kind];
  } catch {
    return undefined;
  }
}

const file = process.argv[2];
if (!file) {
  process.stderr.write('usage: validate-kubernetes.mjs <manifests.yaml>\n');
  process.exit(2);
}
const resources = [];
const errors = [];
for (const document of parseAllDocuments(readFileSync(file, 'utf8'))) {
  if (document.errors.length) {
    errors.push({ resource: '(yaml)', message: document.errors.map((e) => e.message).join('; ') });
    continue;
  }
  const manifest = document.toJS();
  if (!manifest) continue;
  const resource = `${manifest.kind ?? '?'}/${manifest.metadata?.name ?? '?'}`;
  resources.push({ apiVersion: manifest.apiVersion, kind: manifest.kind, name: manifest.metadata?.name });
  const Model = await modelFor(manifest.apiVersion, manifest.kind);
  if (!Model) {
    errors.push({ resource, message: `no schema for ${manifest.apiVersion} ${manifest.kind}` });
    continue;
  }
  try {
    new Model(manifest).validate();
  } catch (error) {
    errors.push({ resource, message: error instanceof Error ? error.message : String(error) });
  }
}
process.stdout.write(`${JSON.stringify({ resources, errors }, null, 2)}\n`);
process.exit(errors.length ? 1 : 0);
