export { createPartnerCenterSimulator } from './create-simulator';
export type { PartnerCenterSimulator, PartnerCenterSimulatorOptions, RunningSimulator } from './create-simulator';
export { DEFAULT_FAULTS } from './faults';
export type { FaultOverrides } from './faults';
export type { SimulatorCounters, SimulatorSeed } from './state';
