/**
 * `createPartnerCenterSimulator(options)`: an in-memory Partner Center (vendor-routes.ts) and Microsoft Graph licence
 * endpoints (graph-routes.ts, under `/graph`) as one express app, with fault injection; admin-routes.ts is the admin
 * API. A request no route serves is answered 404 and recorded (`GET /admin/unmatched`).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type NextFunction, type Request, type Response } from 'express';
import { adminRoutes } from './admin-routes';
import { type FaultConfiguration, faultConfigurationSchema, FaultPlan, seededRandom, ThrottleBudget } from './faults';
import { ORDER_ERROR, partnerCenterError, SimulatedHttpError } from './http-errors';
import type { SimulatorContext } from './simulator-context';
import { type SimulatorSeed, SimulatorState } from './state';
import { TransitionEngine } from './transitions';
import { graphRoutes } from './graph-routes';
import { vendorRoutes } from './vendor-routes';

export interface PartnerCenterSimulatorOptions {
  /** Data loaded at start-up and again on every reset. */
  initialData?: SimulatorSeed;
  /** Faults at start-up (global and per tenant); the admin API changes them at run time. */
  faults?: FaultConfiguration;
  /** Seed of the PRNG behind random faults, so a run is reproducible. */
  randomSeed?: number;
  /** Clock; tests inject one to complete hour-long transitions without waiting. */
  now?: () => number;
  /** Accept only these bearer tokens (default: any bearer token). */
  acceptedTokens?: string[];
  /** Where unexpected handler errors are reported (default: console.error). */
  onUnexpectedError?: (error: unknown) => void;
}

export interface RunningSimulator {
  url: string;
  close(): Promise<void>;
}

export interface PartnerCenterSimulator {
  app: express.Express;
  state: SimulatorState;
  faults: FaultPlan;
  /** Moves the simulator clock forward (same as POST /admin/clock). */
  advanceClock(milliseconds: number): void;
  listen(port?: number, host?: string): Promise<RunningSimulator>;
}

export function createPartnerCenterSimulator(options: PartnerCenterSimulatorOptions = {}): PartnerCenterSimulator {
  const startupFaults = faultConfigurationSchema.parse(options.faults ?? {});
  const randomSeed = options.randomSeed ?? 1;
  const baseClock = options.now ?? Date.now;
  const state = new SimulatorState();
  if (options.initialData !== undefined) state.seed(options.initialData);

  const faults = new FaultPlan(startupFaults);
  let random = seededRandom(randomSeed);
  let clockOffsetMs = 0;
  const throttle = new ThrottleBudget();
  const now = () => baseClock() + clockOffsetMs;
  const engine = new TransitionEngine(state, faults, () => random(), now);

  const context: SimulatorContext = {
    state,
    faults,
    engine,
    throttle,
    random: () => random(),
    now,
    advanceClock: (milliseconds) => {
      clockOffsetMs += milliseconds;
    },
    reset: () => {
      engine.stopTimers();
      state.clear();
      if (options.initialData !== undefined) state.seed(options.initialData);
      faults.replace(startupFaults);
      random = seededRandom(randomSeed);
      clockOffsetMs = 0;
      throttle.clear();
    },
    acceptedTokens: options.acceptedTokens,
  };

  const app = express();
  app.use(express.json({ limit: '1mb' }));
  app.use(adminRoutes(context));
  app.use(vendorRoutes(context));
  app.use(graphRoutes(context));
  app.use((request: Request, _response: Response, next: NextFunction) => {
    // Recorded so that a client calling a path Microsoft does not document fails its contract test.
    state.unmatchedRequests.push({ method: request.method, path: request.path });
    next(partnerCenterError(404, 'NotFound', `No route for ${request.method} ${request.path}.`));
  });
  app.use((error: unknown, _request: Request, response: Response, _next: NextFunction) => {
    if (error instanceof SimulatedHttpError) {
      for (const [name, value] of Object.entries(error.headers)) response.setHeader(name, value);
      response.status(error.status).json(error.body);
      return;
    }
    if (typeof error === 'object' && error !== null && 'type' in error && error.type === 'entity.parse.failed') {
      response.status(400).json(partnerCenterError(400, ORDER_ERROR.invalidInput, 'The request body is not valid JSON.').body);
      return;
    }
    (options.onUnexpectedError ?? console.error)(error);
    response.status(500).json(partnerCenterError(500, ORDER_ERROR.serviceException, 'Unexpected simulator error.').body);
  });

  return {
    app,
    state,
    faults,
    advanceClock: context.advanceClock,
    listen(port = 0, host = '127.0.0.1') {
      return new Promise((resolve, reject) => {
        const server = createServer(app);
        server.once('error', reject);
        server.listen(port, host, () => {
          const { port: boundPort } = server.address() as AddressInfo;
          const urlHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host;
          resolve({
            url: `http://${urlHost}:${boundPort}`,
            close: () =>
              new Promise<void>((closed, failed) => {
                engine.stopTimers();
                server.close((error) => (error === undefined ? closed() : failed(error)));
                server.closeAllConnections(); // keep-alive sockets would otherwise hold close() open
              }),
          });
        });
      });
    },
  };
}
