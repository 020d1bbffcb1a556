import type {} from 'vitest';

/** What the global setup provides to every test file through `inject()`. */
declare module 'vitest' {
  export interface ProvidedContext {
    kafkaBrokers: string;
    redisUrl: string;
    /** Jars for tests that start and kill brokers of their own; '' when KAFKA_BROKERS was given. */
    kafkaLibsDir: string;
    rootDir: string;
  }
}
