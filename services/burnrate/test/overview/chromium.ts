import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const CHROMIUM = '/usr/bin/chromium';

/**
 * Debian's `chromium`, installed on demand: a fresh CI machine (root, apt) gets it with
 * `apt-get update` + `apt-get install -y chromium`, printed as it runs. Elsewhere a sentence says
 * what to install.
 */
export function ensureChromium(): string {
  if (existsSync(CHROMIUM)) return CHROMIUM;
  const root = process.getuid?.() === 0;
  if (!root || !existsSync('/usr/bin/apt-get')) {
    throw new Error(
      `${CHROMIUM} is missing and cannot be installed here (needs root and apt-get): run \`apt-get install -y chromium\` as root.`,
    );
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  // Another apt run on the machine holds the dpkg lock for a while: wait for it rather than fail.
  const lock = ['-o', 'DPkg::Lock::Timeout=600'];
  for (const args of [
    [...lock, 'update'],
    [...lock, 'install', '-y', 'chromium'],
  ]) {
    console.log(`[overview test] ${CHROMIUM} is missing: running apt-get ${args.join(' ')}`);
    execFileSync('apt-get', args, { stdio: 'inherit', env });
  }
  if (!existsSync(CHROMIUM)) throw new Error(`apt-get installed chromium but ${CHROMIUM} is still missing.`);
  return CHROMIUM;
}
