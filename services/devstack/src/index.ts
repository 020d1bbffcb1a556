export * from './errors.js';
export * from './kafka-broker.js';
export * from './kafka-cluster.js';
export * from './kafka-jars.js';
export * from './process.js';
export * from './redis.js';
export * from './stack.js';
