import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The dashboard shipped with compose (deploy/grafana/dashboards) queries only series that exist: each `nce_` metric it
 * names is defined in the code (the SDK's `temporal_` series are checked by the compiled-build integration test).
 */
const root = join(__dirname, '..', '..', '..');
const dashboard = JSON.parse(readFileSync(join(root, 'deploy', 'grafana', 'dashboards', 'nce-upgrades.json'), 'utf8')) as {
  uid: string;
  panels: Array<{ title: string; targets: Array<{ expr: string }> }>;
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sourceFiles(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );
}
const code = ['src', 'workflows', 'activities']
  .flatMap((dir) => sourceFiles(join(root, dir)))
  .map((file) => readFileSync(file, 'utf8'))
  .join('\n');

/** A Prometheus histogram or counter is queried with a suffix its definition does not carry. */
const baseName = (series: string) => series.replace(/_(bucket|sum|count)$/, '');

describe('Grafana dashboard', () => {
  const queried = [...new Set(dashboard.panels.flatMap((panel) => panel.targets.flatMap((target) => target.expr.match(/\bnce_[a-z_]+/g) ?? [])))];

  test('queries our series', () => {
    expect(dashboard.uid).toBe('nce-upgrades');
    expect(queried.length).toBeGreaterThanOrEqual(6);
  });

  test.each(queried)('%s is defined in the code', (series) => {
    expect(code).toContain(`'${baseName(series)}'`);
  });
});
