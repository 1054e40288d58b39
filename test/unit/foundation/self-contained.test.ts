import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/**
 * The repository stands on its own: comments, READMEs and docs cite files under docs/, never background documents
 * that live elsewhere, and every `docs/<file>.md, "<Section>"` they cite names a file and a heading that exist.
 */
const root = join(__dirname, '..', '..', '..');
const SKIPPED_DIRECTORIES = new Set(['node_modules', '.git', '.tools', '.data', 'dist', 'coverage', 'test-artifacts', 'bench-results']);
const SCANNED = /\.(ts|mts|cts|js|mjs|cjs|md|ya?ml)$/;

function sourceFiles(directory: string): string[] {
  return readdirSync(directory).flatMap((name) => {
    if (SKIPPED_DIRECTORIES.has(name)) return [];
    const path = join(directory, name);
    const stats = statSync(path, { throwIfNoEntry: false });
    if (!stats) return [];
    if (stats.isDirectory()) return sourceFiles(path);
    return SCANNED.test(name) ? [path] : [];
  });
}

const files = sourceFiles(root)
  .filter((path) => path !== __filename) // this file names the patterns it looks for
  .map((path) => ({ path: relative(root, path), text: readFileSync(path, 'utf8') }));

const OUTSIDE_DOCUMENTS = new RegExp(
  [
    String.raw`\bSPEC\b`,
    String.raw`STYLE\.md`,
    String.raw`STYLE\s§`,
    'PRORATION',
    'PARTNER-CENTER',
    "seeds'",
    String.raw`\(§[0-9]`,
    String.raw`of §[0-9]`,
  ].join('|'),
);

test('no file cites a document outside the repository', () => {
  expect(files.length).toBeGreaterThan(100);
  const citing = files.flatMap(({ path, text }) =>
    text.split('\n').flatMap((line, index) => (OUTSIDE_DOCUMENTS.test(line) ? [`${path}:${index + 1}: ${line.trim()}`] : [])),
  );
  expect(citing).toEqual([]);
});

const headingsOf = (markdown: string): Set<string> =>
  new Set(
    markdown
      .split('\n')
      .filter((line) => /^#{1,6} /.test(line))
      .map((line) =>
        line
          .replace(/^#{1,6} /, '')
          .replaceAll('`', '')
          .trim(),
      ),
  );

test('every docs/ file and section a file cites exists', () => {
  const docs = new Map(
    readdirSync(join(root, 'docs'))
      .filter((name) => name.endsWith('.md'))
      .map((name) => [name, headingsOf(readFileSync(join(root, 'docs', name), 'utf8'))]),
  );
  const broken: string[] = [];
  for (const { path, text } of files) {
    for (const match of text.matchAll(/docs\/([a-z0-9-]+\.md)(?:, "([^"]+)")?/g)) {
      const [citation, file, section] = match;
      const headings = docs.get(file!);
      if (!headings) broken.push(`${path}: ${citation} (no such file)`);
      else if (section !== undefined && !headings.has(section.replaceAll('`', ''))) broken.push(`${path}: ${citation} (no such heading)`);
    }
  }
  expect(broken).toEqual([]);
});

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
const anchorOf = (heading: string): string =>
  heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');

test('links between docs/ files point at existing files and headings', () => {
  const docsDirectory = join(root, 'docs');
  const anchors = new Map(
    readdirSync(docsDirectory)
      .filter((name) => name.endsWith('.md'))
      .map((name) => [name, new Set([...headingsOf(readFileSync(join(docsDirectory, name), 'utf8'))].map(anchorOf))]),
  );
  const broken: string[] = [];
  for (const [name] of anchors) {
    const text = readFileSync(join(docsDirectory, name), 'utf8');
    for (const [link, file, anchor] of text.matchAll(/\]\(([a-z0-9-]+\.md)?(?:#([a-z0-9-]+))?\)/g)) {
      const target = file ?? name;
      if (!anchors.has(target)) broken.push(`docs/${name}: ${link} (no such file)`);
      else if (anchor !== undefined && !anchors.get(target)!.has(anchor)) broken.push(`docs/${name}: ${link} (no such heading)`);
    }
  }
  expect(broken).toEqual([]);
});
