import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

/**
 * No cluster here: the chart is rendered with Helm (built by `npm run setup`) and every manifest is validated against
 * Kubernetes' schemas (scripts/deploy/validate-kubernetes.mjs, kubernetes-models), then checked for what a platform
 * team relies on: probes, graceful shutdown longer than the longest heartbeat, secrets only from Secrets.
 */
const root = join(__dirname, '..', '..', '..');
const helm = join(root, '.tools', 'bin', 'helm');
const chart = join(root, 'deploy', 'helm', 'nce-upgrade-orchestrator');
const validator = join(root, 'scripts', 'deploy', 'validate-kubernetes.mjs');
const KUBE_VERSION = '1.33.0';
/** The longest heartbeat timeout of any activity (the vendor follow step, workflows/upgrade-workflow.ts). */
const LONGEST_HEARTBEAT_SECONDS = 30;

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec?: any;
  data?: Record<string, string>;
}

const trialSecrets = ['OPERATOR_API_KEY=op', 'WEBHOOK_SIGNING_SECRET=wh', 'WEBHOOK_SECRETS_KEY=ek', 'MONGODB_PASSWORD=db'].flatMap((pair) => [
  '--set',
  `secrets.values.${pair}`,
]);

function render(args: string[]): { manifests: Manifest[]; file: string } {
  const output = execFileSync(helm, ['template', 'nce', chart, '--kube-version', KUBE_VERSION, ...args], { encoding: 'utf8' });
  const file = join(mkdtempSync(join(tmpdir(), 'helm-')), 'rendered.yaml');
  writeFileSync(file, output);
  const manifests = parseAllDocuments(output)
    .map((document) => document.toJS() as Manifest | null)
    .filter((manifest): manifest is Manifest => manifest !== null);
  return { manifests, file };
}

function validate(file: string): { status: number | null; errors: Array<{ resource: string; message: string }> } {
  const result = spawnSync(process.execPath, [validator, file], { encoding: 'utf8' });
  return { status: result.status, errors: (JSON.parse(result.stdout) as { errors: Array<{ resource: string; message: string }> }).errors };
}

const find = (manifests: Manifest[], kind: string, suffix: string) => manifests.find((m) => m.kind === kind && m.metadata.name.endsWith(suffix))!;
const container = (deployment: Manifest) => deployment.spec.template.spec.containers[0];
const envOf = (deployment: Manifest) =>
  Object.fromEntries(container(deployment).env.map((e: { name: string; value?: string; valueFrom?: unknown }) => [e.name, e]));

describe('Helm chart deploy/helm/nce-upgrade-orchestrator', () => {
  beforeAll(() => expect(existsSync(helm)).toBe(true)); // `npm run setup` builds it

  test('helm lint --strict passes', () => {
    const result = spawnSync(helm, ['lint', '--strict', chart, ...trialSecrets], { encoding: 'utf8' });
    expect(result.stdout).toMatch(/0 chart\(s\) failed/);
    expect(result.status).toBe(0);
  });

  test.each([
    ['defaults with trial secrets', trialSecrets],
    [
      'an existing Secret, mTLS to Temporal and a Temporal Cloud API key',
      [
        '--set',
        'secrets.existingSecret=nce',
        '--set',
        'temporal.tls.enabled=true',
        '--set',
        'temporal.tls.existingSecret=temporal-mtls',
        '--set',
        'temporal.apiKeySecret.name=temporal-cloud',
      ],
    ],
    [
      'fixed replicas without autoscaling, with traces',
      [...trialSecrets, '--set', 'api.autoscaling.enabled=false', '--set', 'otel.exporterOtlpEndpoint=http://otel:4318'],
    ],
  ])('%s: every manifest is valid against the Kubernetes schemas', (_name, args) => {
    const { manifests, file } = render(args);
    expect(manifests.length).toBeGreaterThanOrEqual(8);
    const { status, errors } = validate(file);
    expect(errors).toEqual([]);
    expect(status).toBe(0);
  });

  test('the validator catches an invalid manifest', () => {
    const { manifests } = render(trialSecrets);
    const broken = find(manifests, 'Deployment', '-api');
    broken.spec.template.spec.containers[0].ports[0].containerPort = 'http';
    delete broken.spec.selector;
    const file = join(mkdtempSync(join(tmpdir(), 'helm-')), 'broken.yaml');
    writeFileSync(file, JSON.stringify(broken));
    const { status, errors } = validate(file);
    expect(status).toBe(1);
    expect(errors.map((e) => e.message).join('\n')).toMatch(/containerPort must be integer|selector/);
  });

  test('api: Deployment, Service, HPA, liveness and readiness probes on /livez and /readyz', () => {
    const { manifests } = render(trialSecrets);
    const api = find(manifests, 'Deployment', '-api');
    expect(container(api).command).toEqual(['node', 'dist/src/server.js']);
    expect(container(api).livenessProbe.httpGet.path).toBe('/livez');
    expect(container(api).readinessProbe.httpGet.path).toBe('/readyz');
    expect(api.spec.replicas).toBeUndefined(); // the HPA owns the replica count
    const hpa = find(manifests, 'HorizontalPodAutoscaler', '-api');
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: api.metadata.name });
    expect(find(manifests, 'Service', '-api').spec.ports[0].targetPort).toBe('http');
  });

  test('worker: probes on its HTTP port, and a graceful shutdown longer than the longest activity heartbeat', () => {
    const { manifests } = render(trialSecrets);
    const worker = find(manifests, 'Deployment', '-worker');
    const env = envOf(worker);
    const grace = Number(env.WORKER_SHUTDOWN_GRACE_SECONDS.value);
    expect(container(worker).command).toEqual(['node', 'dist/src/worker.js']);
    expect(container(worker).livenessProbe.httpGet.path).toBe('/livez');
    expect(container(worker).readinessProbe.httpGet.path).toBe('/readyz');
    expect(grace).toBeGreaterThan(LONGEST_HEARTBEAT_SECONDS);
    expect(worker.spec.template.spec.terminationGracePeriodSeconds).toBeGreaterThan(grace);
    expect(env.WORKER_BUILD_ID.value).toBeTruthy();
  });

  test('secrets come only from Secrets, each process gets only its own, and none is in the ConfigMap', () => {
    const { manifests } = render(['--set', 'secrets.existingSecret=nce']);
    expect(manifests.some((m) => m.kind === 'Secret')).toBe(false);
    const api = envOf(find(manifests, 'Deployment', '-api'));
    const worker = envOf(find(manifests, 'Deployment', '-worker'));
    expect(api.OPERATOR_API_KEY.valueFrom).toEqual({ secretKeyRef: { name: 'nce', key: 'OPERATOR_API_KEY' } });
    expect(api.WEBHOOK_SIGNING_SECRET).toBeUndefined();
    expect(worker.WEBHOOK_SIGNING_SECRET.valueFrom).toEqual({ secretKeyRef: { name: 'nce', key: 'WEBHOOK_SIGNING_SECRET' } });
    expect(worker.OPERATOR_API_KEY).toBeUndefined();
    for (const env of [api, worker]) expect(env.WEBHOOK_SECRETS_KEY.valueFrom).toEqual({ secretKeyRef: { name: 'nce', key: 'WEBHOOK_SECRETS_KEY' } });
    const config = find(manifests, 'ConfigMap', '');
    expect(Object.keys(config.data!).filter((key) => /SECRET|PASSWORD|API_KEY/.test(key))).toEqual([]);
    expect(new URL(config.data!.MONGODB_URI!).password).toBe('');
  });

  test('installing without secrets or an existing Secret fails with the missing key named', () => {
    const result = spawnSync(helm, ['template', 'nce', chart, '--kube-version', KUBE_VERSION], { encoding: 'utf8' });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/secrets\.values\.OPERATOR_API_KEY is required/);
  });

  test('mTLS mounts the client certificate where the Temporal environment configuration expects it', () => {
    const { manifests } = render([...trialSecrets, '--set', 'temporal.tls.enabled=true', '--set', 'temporal.tls.existingSecret=temporal-mtls']);
    const config = find(manifests, 'ConfigMap', '');
    expect(config.data).toMatchObject({
      TEMPORAL_TLS: 'true',
      TEMPORAL_TLS_CLIENT_CERT_PATH: '/etc/temporal-tls/tls.crt',
      TEMPORAL_TLS_CLIENT_KEY_PATH: '/etc/temporal-tls/tls.key',
    });
    for (const suffix of ['-api', '-worker']) {
      const deployment = find(manifests, 'Deployment', suffix);
      expect(container(deployment).volumeMounts).toContainEqual({ name: 'temporal-tls', mountPath: '/etc/temporal-tls', readOnly: true });
      expect(deployment.spec.template.spec.volumes).toContainEqual({ name: 'temporal-tls', secret: { secretName: 'temporal-mtls' } });
    }
  });
});
