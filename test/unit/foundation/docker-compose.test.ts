import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { configSchema, loadConfig } from '../../../src/config';

/**
 * There is no Docker engine here, so the compose file is checked statically: the services exist, and the API and
 * worker get exactly the environment our config schema understands, valid for production once secrets are filled.
 */
const root = join(__dirname, '..', '..', '..');
const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<
    string,
    {
      environment?: Record<string, string>;
      command?: string[];
      ports?: string[];
      container_name?: string;
      depends_on?: unknown;
      image?: string;
      build?: unknown;
    }
  >;
};

/** Resolves `${VAR:?msg}` and `${VAR:-default}` the way compose does, with `given` as the shell environment. */
function interpolate(value: string, given: Record<string, string>): string {
  return value.replace(/\$\{([A-Z_]+)(?::([?-])([^}]*))?\}/g, (_, name: string, kind?: string, rest?: string) => {
    if (given[name] !== undefined && given[name] !== '') return given[name]!;
    if (kind === '?') throw new Error(`${name} is required: ${rest}`);
    return rest ?? '';
  });
}

const secrets = { OPERATOR_API_KEY: 'k'.repeat(32), WEBHOOK_SIGNING_SECRET: 's'.repeat(24), VENDOR_TOKEN: 'token' };

describe('docker-compose.yml', () => {
  test('runs Temporal with its UI and persistence, MongoDB, the API and a scalable worker', () => {
    expect(Object.keys(compose.services)).toEqual(expect.arrayContaining(['postgresql', 'temporal', 'temporal-ui', 'mongodb', 'api', 'worker']));
    expect(compose.services['temporal-ui']!.environment!.TEMPORAL_ADDRESS).toBe('temporal:7233');
    expect(compose.services.worker!.ports).toBeUndefined();
    expect(compose.services.worker!.container_name).toBeUndefined();
  });

  test.each(['api', 'worker'])('%s environment uses only known variables and is a valid production config', (name) => {
    const service = compose.services[name]!;
    const known = Object.keys(configSchema.shape);
    const environment = service.environment!;
    expect(Object.keys(environment).filter((key) => !known.includes(key))).toEqual([]);
    const resolved = Object.fromEntries(Object.entries(environment).map(([key, value]) => [key, interpolate(String(value), secrets)]));
    const config = loadConfig(resolved);
    expect(config.NODE_ENV).toBe('production');
    expect(config.operatorKeyGenerated).toBe(false);
    // Addresses point at services of this file.
    expect(Object.keys(compose.services)).toContain(config.TEMPORAL_ADDRESS!.split(':')[0]);
    expect(Object.keys(compose.services)).toContain(new URL(config.MONGODB_URI!).hostname);
  });

  test('refuses to start without the production secrets', () => {
    const environment = compose.services.api!.environment!;
    expect(() => Object.values(environment).map((value) => interpolate(String(value), {}))).toThrow(/OPERATOR_API_KEY is required/);
  });

  test.each(['api', 'worker', 'simulator'])('%s command runs a compiled entry point that exists in the source tree', (name) => {
    const command = compose.services[name]!.command!;
    const compiled = command[1]!;
    expect(compiled).toMatch(/^dist\/.+\.js$/);
    expect(existsSync(join(root, compiled.replace(/^dist\//, '').replace(/\.js$/, '.ts')))).toBe(true);
  });
});

describe('config', () => {
  test('names every bad variable with its rule', () => {
    expect(() => loadConfig({ PORT: 'abc', TEMPORAL_ADDRESS: 'no-port', MONGODB_URI: 'http://x' })).toThrow(
      /PORT: .*\n.*TEMPORAL_ADDRESS: must be host:port.*\n.*MONGODB_URI: must be a mongodb/s,
    );
  });

  test('production requires the services and secrets', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/TEMPORAL_ADDRESS: is required in production/);
  });

  test('development generates an operator key and treats empty variables as unset', () => {
    const config = loadConfig({ VENDOR_TOKEN: '' });
    expect(config.operatorKeyGenerated).toBe(true);
    expect(config.OPERATOR_API_KEY.length).toBeGreaterThanOrEqual(24);
    expect(config.VENDOR_TOKEN).toBeUndefined();
    expect(config.PORT).toBe(3000);
  });
});
