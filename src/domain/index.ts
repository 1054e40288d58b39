/** Public API of the pure domain core (no I/O; safe to import from workflow code). */
export * from './money';
export * from './dates';
export * from './catalog';
export * from './types';
export * from './pricing';
export * from './proration';
export * from './proration-preview';
export * from './eligibility';
export * from './eligibility-policies';
export * from './upgrade-options';
export * from './upgrade-plan';
export * from './upgrade-shape';
export * from './demo-catalog';
export * from './billing-cycle';
export * from './subscription-on-date';
export * from './vendor-eligibility';
