/** Redis reachability without a client library: one PING over TCP. */
import { connect } from 'node:net';

export function probeRedis(host: string, port: number): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (why: string | null) => {
      socket.destroy();
      resolve(why);
    };
    socket.setTimeout(3_000, () => done(`Redis at ${host}:${port} did not answer within 3 s`));
    socket.once('error', (e) => done(`Redis unreachable at ${host}:${port} (${e.message})`));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (d) => done(d.toString().startsWith('+PONG') ? null : `Redis at ${host}:${port} answered ${JSON.stringify(d.toString().trim())}`));
  });
}
