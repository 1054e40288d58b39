import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import { parse } from 'yaml';
import { configSchema, loadConfig } from '../../../src/config';
import { UPGRADE_SEARCH_ATTRIBUTES } from '../../../workflows/search-attributes';

/**
 * There is no Docker engine here, so the compose file is checked statically: against the Compose specification's
 * JSON schema (installed by `npm run setup` from compose-go, the library Docker Compose validates with), then for
 * what a platform team expects of it, and the app's environment against our own config schema.
 */
const root = join(__dirname, '..', '..', '..');
const composeSchemaPath = join(root, '.tools', 'compose-spec', 'compose-spec.json');

interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string>;
  secrets?: string[];
  ports?: string[];
  expose?: string[];
  container_name?: string;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: unknown };
  restart?: string;
  stop_grace_period?: string;
  profiles?: string[];
  volumes?: string[];
}
const composeText = readFileSync(join(root, 'docker-compose.yml'), 'utf8');
const compose = parse(composeText, { merge: true }) as { services: Record<string, ComposeService>; secrets: Record<string, { environment: string }> };
const service = (name: string): ComposeService => compose.services[name]!;
/** Services that run to completion (schema, namespace): everything else runs for good. */
const oneShot = (s: ComposeService) => (s.restart ?? '').startsWith('on-failure');

/** Resolves `${VAR:?msg}` and `${VAR:-default}` the way compose does, with `given` as the shell environment. */
function interpolate(value: string, given: Record<string, string>): string {
  return value.replace(/\$\{([A-Z_]+)(?::([?-])([^}]*))?\}/g, (_, name: string, kind?: string, rest?: string) => {
    if (given[name] !== undefined && given[name] !== '') return given[name]!;
    if (kind === '?') throw new Error(`${name} is required: ${rest}`);
    return rest ?? '';
  });
}

describe('docker-compose.yml', () => {
  test('is valid against the Compose specification schema', () => {
    expect(existsSync(composeSchemaPath)).toBe(true); // `npm run setup` installs it
    const ajv = new Ajv2020({ allErrors: true, strict: false });
    const validate = ajv.compile(JSON.parse(readFileSync(composeSchemaPath, 'utf8')));
    // Compose applies YAML merge keys (`<<: *app-environment`) while parsing; the schema describes the result.
    const valid = validate(parse(composeText, { merge: true }));
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });

  test('the schema check catches a broken file', () => {
    const ajv = new Ajv2020({ allErrors: true, strict: false });
    const validate = ajv.compile(JSON.parse(readFileSync(composeSchemaPath, 'utf8')));
    const broken = parse(composeText, { merge: true }) as { services: Record<string, Record<string, unknown>> };
    broken.services.api!.healthcheck = { test: 'x', retries: 'many' };
    broken.services.worker!.restart_policy = 'always';
    expect(validate(broken)).toBe(false);
  });

  test('runs Temporal from its server image with admin-tools jobs for the schema and the namespace', () => {
    expect(service('temporal').image).toMatch(/^temporalio\/server:\d+\.\d+\.\d+$/);
    expect(Object.values(compose.services).some((s) => s.image?.startsWith('temporalio/auto-setup'))).toBe(false);
    expect(composeText).not.toMatch(/\btctl\b/);
    expect(service('temporal-schema').image).toMatch(/^temporalio\/admin-tools:/);
    expect(service('temporal').depends_on!['temporal-schema']!.condition).toBe('service_completed_successfully');
    expect(service('temporal-namespace').image).toMatch(/^temporalio\/admin-tools:/);
    expect(service('api').depends_on!['temporal-namespace']!.condition).toBe('service_completed_successfully');
  });

  test('the namespace job registers exactly the search attributes the workflow uses', () => {
    const script = readFileSync(join(root, 'deploy', 'compose', 'temporal', 'create-namespace.sh'), 'utf8');
    const registered = [...script.matchAll(/^\s+(\w+):(\w+)/gm)].map((m) => `${m[1]}:${m[2]!.toUpperCase()}`);
    expect(registered.sort()).toEqual(UPGRADE_SEARCH_ATTRIBUTES.map((key) => `${key.name}:${key.type}`).sort());
  });

  test("Temporal's gRPC port is not published, the UI is read-only and on localhost only", () => {
    expect(service('temporal').ports).toBeUndefined();
    expect(service('temporal-ui').environment!.TEMPORAL_DISABLE_WRITE_ACTIONS).toBe('true');
    expect(service('temporal-ui').ports).toEqual([expect.stringMatching(/^127\.0\.0\.1:/)]);
    for (const name of ['prometheus', 'grafana']) expect(service(name).ports).toEqual([expect.stringMatching(/^127\.0\.0\.1:/)]);
  });

  test('MongoDB is a replica set with auth, and the app writes with majority and journaling', () => {
    const mongodb = service('mongodb');
    expect(mongodb.command).toEqual(expect.arrayContaining(['--replSet', '--keyFile']));
    expect(mongodb.environment!.MONGO_INITDB_ROOT_PASSWORD_FILE).toBe('/run/secrets/mongodb_root_password');
    const uri = new URL(service('api').environment!.MONGODB_URI!);
    expect(uri.username).toBe('nce_app');
    expect(uri.password).toBe('');
    expect(Object.fromEntries(uri.searchParams)).toMatchObject({ replicaSet: 'rs0', w: 'majority', journal: 'true' });
  });

  test('every long-running service has a health check and a restart policy; one-shot jobs retry a few times', () => {
    for (const [name, s] of Object.entries(compose.services)) {
      if (oneShot(s)) continue;
      expect([name, s.restart]).toEqual([name, 'unless-stopped']);
      expect([name, s.healthcheck?.test !== undefined]).toEqual([name, true]);
    }
    expect(['temporal-schema', 'temporal-namespace'].every((name) => oneShot(service(name)))).toBe(true);
  });

  test('each service gets only its own secrets', () => {
    expect(service('api').secrets!.sort()).toEqual(['mongodb_app_password', 'operator_api_key', 'vendor_client_secret', 'webhook_secrets_key']);
    expect(service('worker').secrets!.sort()).toEqual(['mongodb_app_password', 'vendor_client_secret', 'webhook_secrets_key', 'webhook_signing_secret']);
    for (const name of ['temporal-ui', 'prometheus', 'simulator', 'temporal-namespace']) expect(service(name).secrets).toBeUndefined();
    // No secret value is written into the file itself: each comes from the operator's environment.
    expect(Object.values(compose.secrets).every((secret) => /^[A-Z_]+$/.test(secret.environment))).toBe(true);
    expect(composeText).not.toMatch(/PASSWORD:\s*\S+[^E]$/m);
  });

  test.each(['api', 'worker'] as const)('%s environment uses only known variables and is a valid production config', (name) => {
    const environment = service(name).environment!;
    const known = Object.keys(configSchema.shape);
    const isKnown = (key: string) => known.includes(key) || (key.endsWith('_FILE') && known.includes(key.slice(0, -'_FILE'.length)));
    expect(Object.keys(environment).filter((key) => !isKnown(key))).toEqual([]);
    // Secrets as compose mounts them: one file per secret the service lists.
    const secretsDir = mkdtempSync(join(tmpdir(), 'compose-secrets-'));
    const secretValues: Record<string, string> = {
      operator_api_key: 'k'.repeat(32),
      webhook_signing_secret: 's'.repeat(24),
      webhook_secrets_key: 'e'.repeat(32),
      mongodb_app_password: 'p@ss/word',
      vendor_client_secret: 'client-secret',
    };
    for (const secret of service(name).secrets!) writeFileSync(join(secretsDir, secret), `${secretValues[secret]}\n`);
    // A `_FILE` variable whose secret the service does not list has no file: compose would not mount it either.
    const resolved = Object.fromEntries(
      Object.entries(environment)
        .map(([key, value]): [string, string] => [key, interpolate(String(value), {}).replace('/run/secrets/', `${secretsDir}/`)])
        .filter(([key, value]) => !key.endsWith('_FILE') || existsSync(value)),
    );
    const config = loadConfig({ ...resolved, VENDOR_TENANT_ID: 't', VENDOR_CLIENT_ID: 'c' }, name);
    expect(config.NODE_ENV).toBe('production');
    expect(new URL(config.MONGODB_URI!).password).toBe(encodeURIComponent('p@ss/word'));
    expect(Object.keys(compose.services)).toContain(config.TEMPORAL_ADDRESS!.split(':')[0]);
    expect(Object.keys(compose.services)).toContain(new URL(config.MONGODB_URI!).hostname);
    if (name === 'api') expect(config.OPERATOR_API_KEY).toBe('k'.repeat(32));
    if (name === 'worker') expect(config.WEBHOOK_SIGNING_SECRET).toBe('s'.repeat(24));
    // Both encrypt or decrypt the accounts' webhook secrets with the same key.
    expect(config.WEBHOOK_SECRETS_KEY).toBe('e'.repeat(32));
  });

  test('the worker stops more slowly than its longest activity heartbeat timeout, and is scalable', () => {
    const worker = service('worker');
    expect(Number.parseInt(worker.stop_grace_period!, 10)).toBeGreaterThan(30);
    expect(worker.ports).toBeUndefined();
    expect(worker.container_name).toBeUndefined();
  });

  test.each(['api', 'worker', 'simulator'])('%s command runs a compiled entry point that exists in the source tree', (name) => {
    const command = service(name).command!;
    const compiled = command[1]!;
    expect(compiled).toMatch(/^dist\/.+\.js$/);
    expect(existsSync(join(root, compiled.replace(/^dist\//, '').replace(/\.js$/, '.ts')))).toBe(true);
  });

  test('every file the services mount is in the repository', () => {
    for (const s of Object.values(compose.services)) {
      for (const volume of s.volumes ?? []) {
        const source = volume.split(':')[0]!;
        if (source.startsWith('./')) expect([source, existsSync(join(root, source))]).toEqual([source, true]);
      }
    }
  });
});

describe('config', () => {
  test('names every bad variable with its rule', () => {
    expect(() => loadConfig({ PORT: 'abc', TEMPORAL_ADDRESS: 'no-port', MONGODB_URI: 'http://x' })).toThrow(
      /PORT: .*\n.*TEMPORAL_ADDRESS: must be host:port.*\n.*MONGODB_URI: must be a mongodb/s,
    );
  });

  test('production requires the services, and each process its own secrets', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/TEMPORAL_ADDRESS: is required in production/);
    const services = { NODE_ENV: 'production', TEMPORAL_ADDRESS: 't:7233', MONGODB_URI: 'mongodb://m', VENDOR_BASE_URL: 'https://v', VENDOR_TOKEN: 'x' };
    expect(() => loadConfig(services, 'api')).toThrow(/OPERATOR_API_KEY: is required in production/);
    expect(() => loadConfig(services, 'worker')).toThrow(/WEBHOOK_SIGNING_SECRET: is required in production/);
    expect(() => loadConfig({ ...services, OPERATOR_API_KEY: 'k'.repeat(24) }, 'api')).toThrow(/WEBHOOK_SECRETS_KEY: is required in production/);
    expect(loadConfig({ ...services, OPERATOR_API_KEY: 'k'.repeat(24), WEBHOOK_SECRETS_KEY: 'e'.repeat(32) }, 'api').OPERATOR_API_KEY).toBe('k'.repeat(24));
    // The fault suite's crash hook never reaches production.
    expect(() =>
      loadConfig({ ...services, OPERATOR_API_KEY: 'k'.repeat(24), WEBHOOK_SECRETS_KEY: 'e'.repeat(32), FAULT_API_CRASH_AT: 'after_record' }, 'api'),
    ).toThrow(/FAULT_API_CRASH_AT: is for the fault suite, never in production/);
    expect(() => loadConfig(services, 'all')).toThrow(/OPERATOR_API_KEY[^]*WEBHOOK_SIGNING_SECRET/);
  });

  test('reads <NAME>_FILE, refuses a variable given both ways, and says which file it cannot read', () => {
    const dir = mkdtempSync(join(tmpdir(), 'config-'));
    writeFileSync(join(dir, 'key'), `${'f'.repeat(30)}\n`);
    expect(loadConfig({ OPERATOR_API_KEY_FILE: join(dir, 'key') }).OPERATOR_API_KEY).toBe('f'.repeat(30));
    expect(() => loadConfig({ OPERATOR_API_KEY_FILE: join(dir, 'key'), OPERATOR_API_KEY: 'x'.repeat(30) })).toThrow(
      /OPERATOR_API_KEY_FILE: OPERATOR_API_KEY is set too/,
    );
    expect(() => loadConfig({ OPERATOR_API_KEY_FILE: join(dir, 'missing') })).toThrow(/OPERATOR_API_KEY_FILE: cannot read .*missing \(ENOENT\)/);
    // A file's content is validated like the variable itself.
    writeFileSync(join(dir, 'short'), 'short');
    expect(() => loadConfig({ OPERATOR_API_KEY_FILE: join(dir, 'short') })).toThrow(/OPERATOR_API_KEY: must be at least 24 characters/);
  });

  test('MONGODB_PASSWORD goes into the URI, percent-encoded; a URI that names no user is refused', () => {
    const config = loadConfig({ MONGODB_URI: 'mongodb://app@db:27017/x?replicaSet=rs0', MONGODB_PASSWORD: 'a:b@c' });
    expect(config.MONGODB_URI).toBe('mongodb://app:a%3Ab%40c@db:27017/x?replicaSet=rs0');
    expect(() => loadConfig({ MONGODB_URI: 'mongodb://db:27017', MONGODB_PASSWORD: 'x' })).toThrow(/MONGODB_PASSWORD: MONGODB_URI must name the user/);
  });

  test('development generates an operator key and treats empty variables as unset', () => {
    const config = loadConfig({ VENDOR_TOKEN: '' });
    expect(config.operatorKeyGenerated).toBe(true);
    expect(config.OPERATOR_API_KEY.length).toBeGreaterThanOrEqual(24);
    expect(config.VENDOR_TOKEN).toBeUndefined();
    expect(config.PORT).toBe(3000);
  });
});
