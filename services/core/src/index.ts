export * from './errors.js';
export * from './contract/usage-event.js';
