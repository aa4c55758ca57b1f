// One pino logger for the process (Fastify gets the same instance), JSON lines on stderr so that
// CLI output on stdout stays clean.
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string = process.env.MESHD_LOG_LEVEL ?? 'info'): Logger {
  return pino({ level, base: { component: 'meshd' } }, pino.destination(2));
}
