export * from './intake';
export * from './fulfilment';
export * from './queries';
export * from './transitions';
export * from './unit-locks';
export * from './parking';
