export { createPartnerCenterSimulator } from './create-simulator';
export type { PartnerCenterSimulator, PartnerCenterSimulatorOptions, RunningSimulator } from './create-simulator';
export { DEFAULT_FAULTS } from './faults';
export type { FaultConfiguration, FaultOverrides, FaultSettings } from './faults';
export type { SimulatorCounters, SimulatorSeed } from './state';
