import { z } from 'zod';
import { buildOpenApiDocument } from '../../../src/api/openapi';
import { defineRoute, type AnyRoute } from '../../../src/api/routing';
import { generateOpenApiDocument } from '../../../scripts/openapi-document';

type Operation = { responses: Record<string, { description: string }> };
const operationsOf = (document: Record<string, unknown>) =>
  Object.entries(document.paths as Record<string, Record<string, Operation>>).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, operation]) => ({ name: `${method} ${path}`, operation })),
  );

const handler = () => ({ status: 200 });
const routes: AnyRoute[] = [
  defineRoute({
    method: 'get',
    path: '/metrics',
    operationId: 'metrics',
    tag: 'Ops',
    summary: 'no input',
    access: 'public',
    responses: { 200: { description: 'ok' } },
    handler,
  }),
  defineRoute({
    method: 'post',
    path: '/v1/things',
    operationId: 'createThing',
    tag: 'Things',
    summary: 'with a body',
    access: 'authenticated',
    body: z.object({ name: z.string() }).strict(),
    responses: { 201: { description: 'created' } },
    handler,
  }),
  defineRoute({
    method: 'get',
    path: '/v1/things/:id',
    operationId: 'getThing',
    tag: 'Things',
    summary: 'path parameter, no body',
    access: 'authenticated',
    params: z.object({ id: z.string() }),
    responses: { 200: { description: 'found' } },
    handler,
  }),
];

describe('buildOpenApiDocument', () => {
  const document = buildOpenApiDocument(routes, { version: '1.2.3' });
  const byName = new Map(operationsOf(document).map(({ name, operation }) => [name, operation]));

  test('names a server (relative to where it was served unless one is given) and a licence', () => {
    expect(document.servers).toEqual([expect.objectContaining({ url: '/' })]);
    expect(buildOpenApiDocument(routes, { version: '1', serverUrl: 'https://api.example.net' }).servers).toEqual([{ url: 'https://api.example.net' }]);
    expect((document.info as { license: unknown }).license).toEqual({ name: expect.any(String), identifier: expect.stringMatching(/^LicenseRef-/) });
  });

  test('the app-wide body checks: listed one by one where the route takes a body, as a 4XX range elsewhere', () => {
    expect(Object.keys(byName.get('get /metrics')!.responses).sort()).toEqual(['200', '4XX']);
    expect(Object.keys(byName.get('post /v1/things')!.responses).sort()).toEqual(['201', '400', '401', '413', '415', '429']);
    expect(Object.keys(byName.get('get /v1/things/{id}')!.responses).sort()).toEqual(['200', '400', '401', '429', '4XX']);
    expect(byName.get('get /metrics')!.responses['4XX']!.description).toMatch(/415.*413.*400/);
  });
});

describe('the document the API serves', () => {
  let served: Record<string, unknown>;
  beforeAll(async () => {
    served = await generateOpenApiDocument();
  });

  test('every operation documents a client error', () => {
    const operations = operationsOf(served);
    expect(operations.length).toBeGreaterThan(20);
    const without = operations.filter(({ operation }) => !Object.keys(operation.responses).some((status) => /^4[0-9X]{2}$/.test(status)));
    expect(without.map(({ name }) => name)).toEqual([]);
  });

  test('no anyOf/oneOf/allOf holds an empty schema (one that matches anything makes the composition meaningless)', () => {
    const empty: string[] = [];
    const visit = (node: unknown, pointer: string): void => {
      if (Array.isArray(node)) return node.forEach((child, index) => visit(child, `${pointer}/${index}`));
      if (node === null || typeof node !== 'object') return;
      for (const [key, child] of Object.entries(node)) {
        if (['anyOf', 'oneOf', 'allOf'].includes(key) && Array.isArray(child)) {
          child.forEach((member, index) => {
            if (member !== null && typeof member === 'object' && Object.keys(member).length === 0) empty.push(`${pointer}/${key}/${index}`);
          });
        }
        visit(child, `${pointer}/${key}`);
      }
    };
    visit(served, '#');
    expect(empty).toEqual([]);
  });
});
