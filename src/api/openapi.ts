import { z } from 'zod';
import { errorBodySchema } from './errors';
import type { AnyRoute } from './routing';

/**
 * The OpenAPI 3.1 document, generated from the same zod schemas the routes validate with (zod 4's native JSON Schema
 * output, which is the dialect OpenAPI 3.1 uses). Schemas carrying `.meta({ id })` become `components.schemas`.
 */
type JsonSchema = Record<string, unknown>;

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'Validation failed: `details.fields` lists every failing field',
  401: 'Missing, invalid or revoked API key',
  403: 'The API key’s role may not call this endpoint',
  404: 'Unknown resource, or one outside the caller’s accounts',
  409: 'Conflict (e.g. `UPGRADE_IN_PROGRESS`)',
  413: 'Body larger than the limit',
  415: 'Body is not JSON',
  422: 'Not eligible (`details.reasons`) or idempotency key reused with another body',
  429: 'Rate limit exceeded for this API key',
  503: 'A dependency (Temporal, database, vendor) is unavailable',
};

/**
 * The app-wide body checks (`requireJsonBodies`, `express.json` in app.ts) run before routing, so even an operation that
 * takes no body answers 415, 413 or 400 when a client sends one that is not JSON, too large or malformed. Operations
 * with a body list those statuses one by one; the others document them as this one `4XX` range.
 */
const BODY_CHECKS_RANGE = {
  status: '4XX',
  description: 'A request body was sent and refused before routing: not JSON (415), too large (413) or malformed JSON (400)',
};

/**
 * The licence package.json declares: `UNLICENSED`, i.e. proprietary, no licence granted. SPDX has no identifier for
 * that; `LicenseRef-` is SPDX's form for a licence outside its list.
 */
const LICENSE = { name: 'Proprietary (UNLICENSED)', identifier: 'LicenseRef-Proprietary' };

/** Relative to where this document was fetched from (OpenAPI 3.1 §4.8.5), so it is right behind any host or proxy. */
const SAME_ORIGIN_SERVER = { url: '/', description: 'This API, at the origin that served this document' };

class SchemaCollector {
  readonly components: Record<string, JsonSchema> = {};

  convert(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
    const raw = z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as JsonSchema;
    const rewritten = JSON.parse(JSON.stringify(raw).replaceAll('"#/$defs/', '"#/components/schemas/')) as JsonSchema;
    const { $schema, $defs, ...rest } = rewritten;
    void $schema;
    for (const [name, definition] of Object.entries(($defs ?? {}) as Record<string, JsonSchema>)) {
      // Input and output forms of a schema may differ (defaults, coercion); the first one seen wins, which is fine for
      // documentation since the ids are only on response-like shapes.
      this.components[name] ??= definition;
    }
    return rest;
  }
}

const toOpenApiPath = (path: string): string => path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

function parameters(collector: SchemaCollector, schema: z.ZodType | undefined, location: 'path' | 'query' | 'header'): JsonSchema[] {
  if (!schema) return [];
  const json = collector.convert(schema, 'input');
  const properties = (json.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((json.required ?? []) as string[]);
  return Object.entries(properties).map(([name, property]) => ({
    name: location === 'header' ? name.replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase()) : name,
    in: location,
    required: location === 'path' || required.has(name),
    schema: property,
    ...(typeof property.description === 'string' ? { description: property.description } : {}),
  }));
}

export function buildOpenApiDocument(routes: readonly AnyRoute[], info: { version: string; serverUrl?: string }): JsonSchema {
  const collector = new SchemaCollector();
  const errorSchema = collector.convert(errorBodySchema, 'output');
  collector.components.Error ??= errorSchema;
  const paths: Record<string, Record<string, JsonSchema>> = {};

  for (const route of routes) {
    const responses: Record<string, JsonSchema> = {};
    for (const [status, doc] of Object.entries(route.responses)) {
      responses[status] = {
        description: doc.description,
        ...(doc.schema ? { content: { 'application/json': { schema: collector.convert(doc.schema, 'output') } } } : {}),
      };
    }
    const errorStatuses = new Set(route.errors ?? []);
    if (route.access !== 'public') [401, 429].forEach((s) => errorStatuses.add(s));
    if (route.access === 'operator' || route.access === 'partner') errorStatuses.add(403);
    if (route.params || route.query || route.body || route.headers || route.documentedBody) errorStatuses.add(400);
    if (route.body || route.documentedBody) [413, 415].forEach((s) => errorStatuses.add(s));
    const errorResponse = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } });
    for (const status of [...errorStatuses].sort()) responses[String(status)] = errorResponse(ERROR_DESCRIPTIONS[status] ?? 'Error');
    if (!errorStatuses.has(413)) responses[BODY_CHECKS_RANGE.status] = errorResponse(BODY_CHECKS_RANGE.description);
    const bodySchema = route.body ?? route.documentedBody;
    const operation: JsonSchema = {
      operationId: route.operationId,
      summary: route.summary,
      ...(route.description ? { description: route.description } : {}),
      tags: [route.tag],
      ...(route.access === 'public' ? { security: [] } : {}),
      parameters: [
        ...parameters(collector, route.params, 'path'),
        ...parameters(collector, route.query, 'query'),
        ...parameters(collector, route.headers, 'header'),
      ],
      ...(bodySchema
        ? {
            requestBody: {
              required: !route.bodyOptional,
              content: { 'application/json': { schema: collector.convert(bodySchema, 'input') } },
            },
          }
        : {}),
      responses,
    };
    const path = toOpenApiPath(route.path);
    paths[path] = { ...(paths[path] ?? {}), [route.method]: operation };
  }

  return {
    openapi: '3.1.0',
    info: {
      title: 'NCE Upgrade Orchestrator API',
      version: info.version,
      description:
        'Portal contract for Microsoft 365 NCE upgrades. Amounts are integers in minor units with a `currency`; billing ' +
        'dates are `YYYY-MM-DD` (UTC). Errors are `{ "error": { "code", "message", "details"? } }`. Authenticate with ' +
        '`Authorization: Bearer <api key>`.',
      license: LICENSE,
    },
    servers: [info.serverUrl ? { url: info.serverUrl } : SAME_ORIGIN_SERVER],
    security: [{ bearerAuth: [] }],
    paths,
    components: {
      securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', description: 'API key' } },
      schemas: collector.components,
    },
  };
}

/** A docs page that loads swagger-ui from this server (the machine may be offline: no CDN). */
export function docsPage(assetsPath: string): string {
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>NCE Upgrade Orchestrator API</title>
  <link rel="stylesheet" href="${assetsPath}/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="${assetsPath}/swagger-ui-bundle.js"></script>
  <script src="${assetsPath}/docs-init.js"></script>
</body>
</html>`;
}

/** Served as a file (not inline) so the Content-Security-Policy can forbid inline scripts. */
export function docsInitScript(specUrl: string): string {
  return `window.ui = SwaggerUIBundle({ url: ${JSON.stringify(specUrl)}, dom_id: '#swagger-ui', deepLinking: true });\n`;
}
