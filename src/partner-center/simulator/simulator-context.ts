import type { FaultPlan, ThrottleBudget } from './faults';
import type { SimulatorState } from './state';
import type { TransitionEngine } from './transitions';

/** What the route modules share: the world, its faults and the simulator's clock and randomness. */
export interface SimulatorContext {
  readonly state: SimulatorState;
  readonly faults: FaultPlan;
  readonly engine: TransitionEngine;
  readonly throttle: ThrottleBudget;
  /** Seeded PRNG for injected faults. */
  random(): number;
  /** The simulator's clock (the start-up clock plus any admin-advanced offset). */
  now(): number;
  advanceClock(milliseconds: number): void;
  /** Restores the start-up state: data, faults, counters, PRNG seed, clock offset. */
  reset(): void;
  /** When set, only these bearer tokens are accepted; otherwise any bearer token is. */
  readonly acceptedTokens: readonly string[] | undefined;
}
