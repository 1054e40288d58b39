/**
 * Admin API (JSON, under /admin): seed data, change faults at run time, read counters, move the
 * clock, reset. Not part of Partner Center; tests, demos and benchmarks drive the simulator with it.
 *
 *   POST   /admin/seed                  { tenants?, subscriptions?, users?, products? }  (upsert)
 *   GET    /admin/state                 everything, including transitions and faults
 *   GET    /admin/faults                { global, tenants }
 *   PATCH  /admin/faults                FaultOverrides merged into the global settings
 *   PUT    /admin/faults/tenants/:id    FaultOverrides for one customer tenant (replaces)
 *   DELETE /admin/faults/tenants/:id
 *   GET    /admin/counters
 *   GET    /admin/unmatched             requests no Microsoft route served (a client calling an undocumented path)
 *   POST   /admin/clock                 { advanceMs }  (completes long transitions without waiting)
 *   POST   /admin/reset                 back to the start-up state
 */
import { Router } from 'express';
import { z } from 'zod';
import { faultOverridesSchema } from './faults';
import { SimulatedHttpError } from './http-errors';
import type { SimulatorContext } from './simulator-context';
import { seedSchema } from './state';

function parseAdminBody<Schema extends z.ZodType>(schema: Schema, body: unknown): z.infer<Schema> {
  const parsed = schema.safeParse(body ?? {});
  if (!parsed.success) {
    throw new SimulatedHttpError(400, {
      error: 'invalid admin request',
      issues: parsed.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })),
    });
  }
  return parsed.data;
}

const clockAdvanceSchema = z.object({ advanceMs: z.number().int().min(0) }).strict();

export function adminRoutes(context: SimulatorContext): Router {
  const router = Router();
  const { state, faults } = context;

  router.post('/admin/seed', (request, response) => {
    const seed = parseAdminBody(seedSchema, request.body);
    state.seed(seed);
    response.json({
      tenants: state.tenants.size,
      subscriptions: state.subscriptions.size,
      users: state.users.size,
      products: state.products.size,
    });
  });

  router.get('/admin/state', (_request, response) => {
    context.engine.settleDue();
    response.json({
      tenants: [...state.tenants.values()],
      subscriptions: [...state.subscriptions.values()],
      users: [...state.users.values()],
      products: [...state.products.values()],
      transitions: state.transitions,
      faults: faults.describe(),
      now: new Date(context.now()).toISOString(),
    });
  });

  router.get('/admin/faults', (_request, response) => {
    response.json(faults.describe());
  });

  router.patch('/admin/faults', (request, response) => {
    faults.mergeGlobal(parseAdminBody(faultOverridesSchema, request.body));
    response.json(faults.describe());
  });

  router.put('/admin/faults/tenants/:customerTenantId', (request, response) => {
    faults.setTenant(request.params.customerTenantId, parseAdminBody(faultOverridesSchema, request.body));
    response.json(faults.describe());
  });

  router.delete('/admin/faults/tenants/:customerTenantId', (request, response) => {
    faults.clearTenant(request.params.customerTenantId);
    response.json(faults.describe());
  });

  router.get('/admin/counters', (_request, response) => {
    response.json(state.counters);
  });

  router.get('/admin/unmatched', (_request, response) => {
    response.json({ unmatched: state.unmatchedRequests });
  });

  router.post('/admin/clock', (request, response) => {
    context.advanceClock(parseAdminBody(clockAdvanceSchema, request.body).advanceMs);
    context.engine.settleDue();
    response.json({ now: new Date(context.now()).toISOString() });
  });

  router.post('/admin/reset', (_request, response) => {
    context.reset();
    response.json({ reset: true });
  });

  return router;
}
