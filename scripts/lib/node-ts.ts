// Runs a TypeScript entry point as ONE node process (tsx as a loader, not its CLI wrapper),
// so a signal sent to the child, SIGKILL included, reaches the program itself.
import path from 'node:path';

export const ROOT = path.join(__dirname, '..', '..');

export function nodeTsArgs(entry: string, args: string[] = []): string[] {
  return ['--import', 'tsx', path.resolve(ROOT, entry), ...args];
}
