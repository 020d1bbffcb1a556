import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { StackError } from './errors.js';
import { hasCommand, tailFile } from './process.js';

export interface KafkaJarsOptions {
  /** The pom that lists the broker's artifacts (infra/kafka/pom.xml). */
  pomPath: string;
  /** Where downloaded jars are kept between runs; defaults to ~/.cache/burnrate/kafka. */
  cacheDir?: string;
  log?: (message: string) => void;
}

export function defaultCacheDir(): string {
  const base = process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache');
  return join(base, 'burnrate', 'kafka');
}

export function requireJava(): void {
  if (!hasCommand('java', ['-version'])) {
    throw new StackError(
      'missing_java',
      'Java 17 or newer is needed to run the local Kafka broker but `java` is not on PATH: install a JDK (apt-get install openjdk-17-jre-headless) or set KAFKA_BROKERS to a running broker.',
    );
  }
}

/**
 * Returns a directory holding the Kafka broker jars and their dependencies, fetching them from Maven
 * Central with `mvn dependency:copy-dependencies` the first time. The directory name is keyed by the
 * pom's content so a version bump fetches afresh; a half-finished fetch is never used.
 */
export async function ensureKafkaJars(options: KafkaJarsOptions): Promise<string> {
  const pom = readFileSync(options.pomPath);
  const key = createHash('sha256').update(pom).digest('hex').slice(0, 12);
  const cacheDir = options.cacheDir ?? defaultCacheDir();
  const libs = join(cacheDir, key, 'libs');
  const marker = join(cacheDir, key, 'complete');
  if (existsSync(marker) && existsSync(libs)) return libs;

  requireJava();
  if (!hasCommand('mvn', ['-v'])) {
    throw new StackError(
      'missing_maven',
      'Apache Maven is needed once to download the Kafka broker jars but `mvn` is not on PATH: install it (apt-get install maven) or set KAFKA_BROKERS to a running broker.',
    );
  }
  options.log?.(`Downloading the Kafka broker jars from Maven Central into ${libs} (once)…`);
  const staging = join(cacheDir, key, `staging-${process.pid}`);
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  const logPath = join(cacheDir, key, 'mvn.log');
  const code = await runMaven(
    ['-B', '-q', '-f', options.pomPath, 'dependency:copy-dependencies', `-DoutputDirectory=${staging}`],
    logPath,
  );
  if (code !== 0 || readdirSync(staging).length === 0) {
    rmSync(staging, { recursive: true, force: true });
    throw new StackError(
      'kafka_download_failed',
      `Maven could not download the Kafka broker jars (exit code ${code}); check that Maven Central is reachable and see ${logPath}.`,
      tailFile(logPath, 15),
    );
  }
  rmSync(libs, { recursive: true, force: true });
  renameSync(staging, libs);
  writeFileSync(marker, new Date().toISOString());
  return libs;
}

function runMaven(args: string[], logPath: string): Promise<number> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const child = spawn('mvn', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.stderr.on('data', (c: Buffer) => chunks.push(c));
    child.on('error', () => resolve(127));
    child.on('close', (code) => {
      writeFileSync(logPath, Buffer.concat(chunks));
      resolve(code ?? 1);
    });
  });
}
