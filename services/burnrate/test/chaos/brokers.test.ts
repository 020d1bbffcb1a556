import { chaosSuite } from './chaos-suite.js';

// Broker faults on a 3-node cluster: a leader SIGKILLed, a broker stopped (docs/reliability.md).
chaosSuite(['broker-kill', 'broker-stopped'], 0);
